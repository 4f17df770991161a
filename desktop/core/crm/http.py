"""The HTTP layer every CRM connector shares: one client builder and one error normalisation.

:func:`build_client` makes an ``httpx.Client`` from the ``[crm]`` settings: TLS verification on (``verify_tls``
may name a CA bundle), the settings' proxy or else the environment's (``HTTPS_PROXY``, ``NO_PROXY``...),
``timeout_s`` for every request, a ``User-Agent`` naming the app and its version, pooled keep-alive connections.

:func:`request` sends one request and turns every failure into the contract's errors:

- :class:`~desktop.core.crm.contract.TransientError` (worth retrying): connection refused or reset, timeouts,
  a dropped connection, 408, 425, 429, 5xx, Salesforce's 403 ``REQUEST_LIMIT_EXCEEDED``, Dataverse's 429 with
  its ``0x8007232x`` codes; ``retry_after`` from ``Retry-After`` (seconds or an HTTP date) when the CRM said so;
- :class:`~desktop.core.crm.contract.AuthError`: 401, and 403 other than a request limit;
- :class:`~desktop.core.crm.contract.RejectedError`: every other non-success status, with the CRM's own message
  read from whatever body it sent (Tryton, Salesforce, HubSpot, Dataverse shapes; HTML or empty bodies give the
  status line).

Messages are one line, at most :data:`MAX_MESSAGE` characters, hold no body beyond the CRM's own message, and
have phone-number-like digit runs and e-mail addresses masked (CRMs echo the offending value back).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from desktop import __version__
from desktop.core.crm.contract import AuthError, Health, RejectedError, SyncError, TransientError
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.crm")

USER_AGENT = f"agent-assist/{__version__} (+crm-sync; python-httpx/{httpx.__version__})"
#: Longest error message handed to the worker (it is shown to the agent and stored with the outbox entry).
MAX_MESSAGE = 300
#: Statuses worth retrying besides 5xx: request timeout, too early, too many requests.
RETRY_STATUSES = frozenset({408, 425, 429})
#: Salesforce's API limit is a rolling 24 h count and sends no Retry-After: wait at least this long.
SALESFORCE_LIMIT_WAIT_S = 60.0
#: Connection-pool size: one sync worker per station, a pull and a push may overlap.
POOL_CONNECTIONS = 4

# A phone number or any long digit run (6+ digits, with spaces, dots, dashes); not hex codes like 0x80072322.
_DIGITS = re.compile(r"(?<![0-9A-Za-z])\+?\d(?:[\d .\-()/]*\d)?")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_SPACE = re.compile(r"\s+")


def build_client(
    crm: Crm,
    *,
    base_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for this CRM: TLS verified (``verify_tls`` True or a CA bundle path), proxy from the
    settings else the environment, ``timeout_s`` per request, our User-Agent, keep-alive pooling, no redirects
    followed (a redirect from an API is a misconfigured endpoint, reported as such). InputError for a CA bundle
    that does not exist or a malformed proxy URL."""
    verify: ssl.SSLContext | bool
    if isinstance(crm.verify_tls, str):
        bundle = Path(crm.verify_tls).expanduser()
        if not bundle.is_file():
            raise InputError(f"crm.verify_tls: CA bundle not found: {bundle}")
        try:
            verify = ssl.create_default_context(cafile=str(bundle))
        except (ssl.SSLError, OSError) as error:
            raise InputError(f"crm.verify_tls: not a usable CA bundle: {bundle} ({error})") from None
    else:
        verify = crm.verify_tls
        if not verify:
            log.warning("crm.verify_tls is off: the CRM's certificate is not checked (never do this in production)")
    proxy: httpx.Proxy | None = None
    if crm.proxy:
        try:
            proxy = httpx.Proxy(crm.proxy)
        except (ValueError, httpx.InvalidURL) as error:
            raise InputError(f"crm.proxy: not a proxy URL: {_one_line(str(error))}") from None
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    return httpx.Client(
        base_url=base_url if base_url is not None else "",
        headers=all_headers,
        auth=auth,
        verify=verify,
        proxy=proxy,
        # Without an explicit proxy, HTTPS_PROXY / NO_PROXY from the environment apply (IT's system settings).
        trust_env=True,
        timeout=httpx.Timeout(crm.timeout_s, connect=min(crm.timeout_s, 10.0)),
        limits=httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS),
        follow_redirects=False,
    )


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    connector: str,
    ok: Container[int] = (),
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; return the response when it is a success (2xx) or its status is in ``ok``, else raise
    the normalised :class:`SyncError` (see the module docstring). ``kwargs`` go to ``httpx.Client.request``."""
    started = time.monotonic()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise error_from_exception(error, connector=connector) from None
    log.debug(
        "%s %s %s -> %d in %.0f ms",
        connector,
        method,
        response.request.url.path,
        response.status_code,
        (time.monotonic() - started) * 1000,
    )
    if response.is_success or response.status_code in ok:
        return response
    raise error_from_response(response, connector=connector)


def probe(
    client: httpx.Client,
    path: str,
    *,
    connector: str,
    endpoint: str,
    note: Callable[[httpx.Response], str | None] | None = None,
    **kwargs: Any,
) -> Health:
    """A connector's ``health()``: one timed GET of ``path``; a failure is reported, never raised. ``note`` turns
    the response into the Health's message (e.g. a rate-limit header)."""
    started = time.monotonic()
    try:
        response = request(client, "GET", path, connector=connector, **kwargs)
    except SyncError as error:
        return Health(ok=False, connector=connector, endpoint=endpoint, message=str(error))
    latency = (time.monotonic() - started) * 1000
    message = note(response) if note is not None else None
    return Health(ok=True, connector=connector, endpoint=endpoint, latency_ms=latency, message=message)


def error_from_exception(error: httpx.HTTPError, *, connector: str) -> SyncError:
    """The contract error for a request that got no HTTP answer: transient (the network or the CRM may come
    back), except an invalid URL, which no retry fixes."""
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return RejectedError(f"{connector}: invalid request URL ({_one_line(str(error))})")
    if isinstance(error, httpx.TimeoutException):
        kind = {
            httpx.ConnectTimeout: "connect timeout",
            httpx.ReadTimeout: "read timeout",
            httpx.WriteTimeout: "write timeout",
            httpx.PoolTimeout: "connection pool timeout",
        }.get(type(error), "timeout")
        return TransientError(f"{connector}: {kind}")
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(error.__context__, ssl.SSLCertVerificationError):
        return TransientError(
            f"{connector}: TLS certificate verification failed (set crm.verify_tls to the company CA bundle)"
        )
    if isinstance(error, httpx.ConnectError):
        return TransientError(f"{connector}: cannot connect ({_clean(text) or 'connection refused'})")
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return TransientError(f"{connector}: connection dropped ({_clean(text) or type(error).__name__})")
    return TransientError(f"{connector}: network error ({type(error).__name__})")


def error_from_response(response: httpx.Response, *, connector: str) -> SyncError:
    """The contract error for a non-success response (see the module docstring for the mapping)."""
    status = response.status_code
    code = crm_error_code(response)
    message = f"{connector}: {status_line(response)}"
    detail = crm_message(response)
    if detail:
        message = f"{message}: {detail}"
    message = _truncate(message)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        return TransientError(message, retry_after=retry_after if retry_after is not None else SALESFORCE_LIMIT_WAIT_S)
    if status in RETRY_STATUSES or status >= 500:
        return TransientError(message, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(message)
    return RejectedError(message)


def status_line(response: httpx.Response) -> str:
    """``HTTP 404 Not Found``: what a person reads when the body says nothing useful."""
    reason = response.reason_phrase or ""
    return f"HTTP {response.status_code} {reason}".rstrip()


def response_json(response: httpx.Response) -> Any:
    """The body parsed as JSON, or None when it is empty or not JSON (HTML error pages, proxies' pages)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def crm_message(response: httpx.Response) -> str:
    """The CRM's own error message, one line, masked and truncated; empty when the body has none.

    Shapes understood: Tryton ``{"message", "description"}``, Salesforce ``[{"message", "errorCode"}]``,
    HubSpot ``{"message", "category", "errors": [{"message"}]}``, Dataverse/OData ``{"error": {"code",
    "message"}}``, OAuth ``{"error", "error_description"}``. Anything else (HTML, text, empty) gives ""."""
    return _truncate(_clean(_message_of(response_json(response))))


def crm_error_code(response: httpx.Response) -> str | None:
    """The CRM's machine-readable error code when the body has one: Salesforce ``errorCode`` (the first),
    Dataverse ``error.code`` (``0x80072322``...), HubSpot ``category``, OAuth ``error``."""
    body = response_json(response)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code = body[0].get("errorCode")
        return code if isinstance(code, str) else None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return str(error["code"])
        if isinstance(error, str):
            return error
        for key in ("errorCode", "category"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return None


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3); None
    when absent or unreadable; never negative."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a delay
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    reference = now if now is not None else dt.datetime.now(dt.UTC)
    return max(0.0, (when - reference).total_seconds())


def mask_pii(text: str) -> str:
    """``text`` with e-mail addresses and digit runs of 6 or more digits (phone numbers, ids in messages)
    replaced by ``<email>`` and ``<number>``."""
    text = _EMAIL.sub("<email>", text)

    def _number(match: re.Match[str]) -> str:
        digits = sum(char.isdigit() for char in match.group(0))
        return "<number>" if digits >= 6 else match.group(0)

    return _DIGITS.sub(_number, text)


def _message_of(body: Any) -> str:
    if isinstance(body, list):
        parts = []
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                code = item.get("errorCode")
                parts.append(f"{item['message']} ({code})" if isinstance(code, str) else item["message"])
        return "; ".join(parts)
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        if isinstance(message, str):
            return f"{message} ({code})" if isinstance(code, str) and code else message
    if isinstance(error, str):
        description = body.get("error_description")
        return f"{error}: {description}" if isinstance(description, str) else error
    message = body.get("message")
    if not isinstance(message, str):
        return ""
    details = []
    description = body.get("description")
    if isinstance(description, str) and description.strip():
        details.append(description)
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict) and isinstance(item.get("message"), str) and item["message"] not in message:
                details.append(item["message"])
    category = body.get("category")
    text = " — ".join([message, *details])
    return f"{text} ({category})" if isinstance(category, str) and category else text


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _clean(text: str) -> str:
    return mask_pii(_one_line(text))


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1].rstrip() + "…"
