"""CRM secrets in the OS keyring, never in settings files or logs.

One secret per connector and endpoint, stored with the ``keyring`` library under the service
:data:`SERVICE` (``agent-assist``) and the user name ``<connector>:<endpoint>`` (endpoint without a trailing
slash): Windows Credential Manager, the macOS Keychain, or the Secret Service (GNOME Keyring, KWallet) on
Linux. Where no usable backend exists (a headless Linux without a Secret Service has only keyring's ``fail``
backend) every function raises :class:`KeyringUnavailableError`, whose one-line message says what to install
or configure. Nothing here logs a secret, nor its length.
"""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors

from desktop.core.errors import InputError

log = logging.getLogger("agent_assist.crm")

SERVICE = "agent-assist"

_HOW_TO_FIX = (
    "install and unlock a Secret Service (gnome-keyring or KWallet) on Linux, or set PYTHON_KEYRING_BACKEND "
    "to another backend (e.g. keyrings.alt.file.EncryptedKeyring); see docs/connectors.md"
)


class KeyringUnavailableError(InputError):
    """No usable OS keyring on this machine (or it is locked); the message says what to install/configure."""


def username(connector: str, endpoint: str) -> str:
    """The keyring user name for this connector and endpoint: ``<connector>:<endpoint>``. InputError when
    either is empty."""
    connector = connector.strip()
    endpoint = endpoint.strip().rstrip("/")
    if not connector:
        raise InputError("credentials: connector name is empty")
    if not endpoint:
        raise InputError(f"credentials: crm.endpoint is empty for connector {connector!r}")
    return f"{connector}:{endpoint}"


def get_secret(connector: str, endpoint: str) -> str | None:
    """The stored secret, or None when none is stored. KeyringUnavailableError without a usable keyring."""
    name = username(connector, endpoint)
    backend = _backend()
    try:
        return backend.get_password(SERVICE, name)
    except keyring.errors.KeyringError as error:
        raise _unavailable(backend, error) from None


def set_secret(connector: str, endpoint: str, secret: str) -> None:
    """Store (or replace) the secret; surrounding whitespace (a pasted newline) is dropped. InputError for an
    empty secret or one with line breaks inside; KeyringUnavailableError without a usable keyring."""
    name = username(connector, endpoint)
    value = secret.strip()
    if not value:
        raise InputError("credentials: the secret is empty")
    if "\n" in value or "\r" in value:
        raise InputError("credentials: the secret has a line break inside (paste one token on one line)")
    backend = _backend()
    try:
        backend.set_password(SERVICE, name, value)
    except keyring.errors.PasswordSetError as error:
        raise _unavailable(backend, error) from None
    except keyring.errors.KeyringError as error:
        raise _unavailable(backend, error) from None
    log.info("crm secret stored for %s in %s", name, _describe(backend))


def delete_secret(connector: str, endpoint: str) -> bool:
    """Remove the secret; True when one was removed, False when none was stored. KeyringUnavailableError
    without a usable keyring."""
    name = username(connector, endpoint)
    backend = _backend()
    try:
        if backend.get_password(SERVICE, name) is None:
            return False
        backend.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as error:
        raise _unavailable(backend, error) from None
    log.info("crm secret deleted for %s", name)
    return True


def backend_description() -> str:
    """The keyring backend in use, for ``doctor`` and error messages (e.g. ``SecretService Keyring``)."""
    return _describe(keyring.get_keyring())


def _backend() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    if _is_fail(backend):
        raise _unavailable(backend, None)
    return backend


def _is_fail(backend: keyring.backend.KeyringBackend) -> bool:
    # keyring falls back to fail.Keyring (priority 0) when no backend is viable; a chainer may wrap nothing.
    if type(backend).__module__ == "keyring.backends.fail":
        return True
    backends = getattr(backend, "backends", None)
    return isinstance(backends, list) and not backends


def _describe(backend: keyring.backend.KeyringBackend) -> str:
    name = getattr(backend, "name", None)
    return name if isinstance(name, str) and name else type(backend).__name__


def _unavailable(backend: keyring.backend.KeyringBackend, error: Exception | None) -> KeyringUnavailableError:
    cause = " ".join(str(error).split()) if error is not None else "no backend found"
    return KeyringUnavailableError(f"OS keyring unavailable ({_describe(backend)}: {cause}): {_HOW_TO_FIX}")
