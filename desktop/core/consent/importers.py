"""``import consents|contracts|attempts|optout FILE``: CSV or JSON Lines into the store, all or nothing.

The file is read line by line and written in batches inside one transaction: memory does not grow with the
file, and any error (named by file, line and field) rolls the whole import back, ledger included.

Consents get the same rows as :func:`insert_consent` would write, built here from JSON text assembled once
instead of dumped and re-parsed several times per row (a million rows must import in seconds, not minutes),
and the same hash-chained ledger entries but for the ``given`` payload: the content hash and the source,
without the content, which is the consent's row (``verify`` hashes each row again and compares it with its
entry). A test checks the bytes of both. docs/imports.md has the formats and the measured speed.
"""

from __future__ import annotations

import abc
import contextlib
import csv
import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # how json.dumps(ensure_ascii=False) writes a string
from pathlib import Path
from typing import Any, BinaryIO

from desktop.core.consent import phone
from desktop.core.consent.facts import parse_day, parse_instant
from desktop.core.consent.ledger import LedgerWriter, content_hash, now, utc_key
from desktop.core.consent.professionals import professional_key
from desktop.core.errors import InputError
from desktop.core.store.db import Store, transaction

KINDS = ("consents", "contracts", "attempts", "optout")
FORMATS = ("csv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

METHODS = ("web_form", "paper", "store", "email", "phone_call", "recorded_call", "broker_file")
CONTRACT_STATUSES = ("active", "suspended", "ended", "cancelled")
OUTCOMES = ("no_answer", "answered", "refused", "busy", "voicemail", "failed")

BATCH = 4000  # consents per executemany; also bounds what is held in memory
_CACHE_MAX = 4096  # distinct values remembered per column (professionals, product lists, flags) while importing
# SQLite page cache during an import (the default 2 MiB): the unique indexes (uid, ledger hash) take random
# inserts. Peak memory is about this plus 70 MiB, whatever the size of the file.
CACHE_KIB = 128 * 1024
# A consents file that at least doubles the table is a bulk load: the secondary (non-unique) indexes of the
# consent tables are dropped and built again at the end, in the same transaction (a rollback restores them),
# which costs far less than keeping them up to date row by row. Rows are estimated from the file size.
BULK_MIN_ROWS = 100_000
_BYTES_PER_ROW = {"csv": 256, "jsonl": 512}
REBUILD_CACHE_KIB = 32 * 1024
SORT_THREADS = 2  # helper threads SQLite may use to sort when it builds those indexes again  # CREATE INDEX sorts in as much memory as the page cache: shrink it first


@dataclass
class ImportSummary:
    kind: str
    file: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0

    def line(self) -> str:
        return (
            f"{self.file}: {self.rows} rows, {self.inserted} new, {self.updated} updated, {self.duplicates} duplicates"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "duplicates": self.duplicates,
        }


def detect_format(path: Path) -> str:
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path.name}: cannot tell the format from the extension {path.suffix or '(none)'!r}:"
            " name the file .csv, .jsonl or .ndjson, or give the format (csv or jsonl)"
        )
    return fmt


def run_import(store: Store, kind: str, path: Path, fmt: str | None = None) -> ImportSummary:
    """Import one file of ``kind`` in one transaction; an InputError (file:line: field: problem) changes nothing.

    Also writes an ``import`` audit row, in the same transaction, when the file changed something.
    """
    if kind not in KINDS:
        raise InputError(f"unknown import kind {kind!r}: expected one of {', '.join(KINDS)}")
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r}: expected csv or jsonl")
    name = path.name
    try:
        estimate = path.stat().st_size // _BYTES_PER_ROW[fmt]
        handle = path.open("rb")
    except OSError as error:
        raise InputError(f"{name}: cannot read the file: {error.strerror or error}") from None
    conn = store.conn
    # For this import only: a larger page cache, a second thread for sorting (CREATE INDEX after a bulk load),
    # and synchronous=FULL so that the commit itself reaches the disk (the store's NORMAL leaves that to the next
    # checkpoint). Consents: no foreign key look-up per ledger entry, since the import writes an entry only for a
    # consent that it has just stored or found (a test checks foreign_key_check afterwards). All are restored.
    sink_class = _SINKS[kind]
    pragmas = ("cache_size", "threads", "synchronous", "foreign_keys", "busy_timeout")
    saved = {pragma: conn.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in pragmas}
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA threads = {SORT_THREADS}")
    conn.execute("PRAGMA synchronous = FULL")
    if sink_class.own_references:
        conn.execute("PRAGMA foreign_keys = OFF")  # outside a transaction, where this pragma takes effect
    journal = sink_class is _Consents and _bulk_load(conn, estimate) and _leave_wal(conn)
    try:
        with handle, transaction(conn):
            sink = sink_class(conn, name, estimate)
            summary = sink.run(_read(handle, name, fmt, sink.columns))
            if sink.changed:
                _audit(conn, sink.recorded_text, {**summary.to_json(), "format": fmt})
    finally:
        for pragma, value in saved.items():
            conn.execute(f"PRAGMA {pragma} = {int(value)}")
        if journal:
            _back_to_wal(conn)
    return summary


def _bulk_load(conn: sqlite3.Connection, estimate: int) -> bool:
    """A consents file that at least doubles the table (and is not small): see BULK_MIN_ROWS."""
    (stored,) = conn.execute("SELECT coalesce(max(id), 0) FROM consents").fetchone()
    return estimate >= BULK_MIN_ROWS and estimate >= stored


def _leave_wal(conn: sqlite3.Connection) -> bool:
    """For a bulk load into a store that no other connection has open: the rollback journal instead of WAL.

    In WAL mode every page is written twice (to the WAL, then by the checkpoint into the database); with a
    rollback journal, the pages a load adds beyond the end of the file are written once and not journaled
    (a rollback cuts the file back). All-or-nothing and durability are the same (synchronous=FULL). Only tried
    when no one else has the store open (leaving WAL needs that; busy_timeout 0 makes the attempt fail at
    once otherwise); while the load runs, another process that opens the store waits for it (busy_timeout).
    """
    conn.execute("PRAGMA busy_timeout = 0")  # restored with the others
    try:
        (mode,) = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
    except sqlite3.OperationalError:  # another connection has the store open: stay in WAL
        return False
    return str(mode).lower() == "delete"


def _back_to_wal(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.OperationalError):  # someone opened the store meanwhile: Store sets WAL again
        conn.execute("PRAGMA journal_mode = WAL")


def _audit(conn: sqlite3.Connection, at: str, details: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO audit (at, actor, action, details) VALUES (?, NULL, 'import', ?)",
        (at, json.dumps(details, ensure_ascii=False)),
    )


# -- columns -----------------------------------------------------------------------------------------------------

REQUIRED, NULLABLE, OPTIONAL = 0, 1, 2  # a value must be given / may be empty or null (unknown) / may be left out
_MODES = {REQUIRED: "required", NULLABLE: "required, may be empty", OPTIONAL: "optional"}


@dataclass(frozen=True)
class Column:
    """One column (CSV) or key (JSON Lines) and its parsers: of a CSV cell and of a decoded JSON value.

    Both take what the file has (an empty cell, a null) and return the value or raise ValueError.
    """

    name: str
    csv: Callable[[str], Any]
    json: Callable[[Any], Any]
    mode: int = REQUIRED
    memo: bool = False  # few distinct values (a professional, a method, a flag): parse each once per file


class _Memo(dict[str, Any]):
    """Parsed values of a column by their cell text; a dict hit costs no Python call."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, text: str) -> Any:
        value = self.parse(text)
        if len(self) < _CACHE_MAX:
            self[text] = value
        return value


def _type_error(expected: str, value: Any) -> ValueError:
    return ValueError(f"expected {expected}, got {json.dumps(value, ensure_ascii=False)}")


def _json_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error("a string", value)
    return value


def _name(text: str) -> str:
    """An identifier or a name: surrounding spaces do not count."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("missing value")
    return stripped


def _name_json(value: Any) -> str:
    return _name(_json_str(value))


def _text(text: str) -> str:
    return text


# phone.normalize without its LRU cache: a bulk file has as many distinct numbers as rows, and would churn it.
_normalize: Callable[[str], str] = getattr(phone.normalize, "__wrapped__", phone.normalize)


# A French number already in E.164 with ASCII digits (phonenumbers would give it back as it is): no call at all.
_FRENCH_E164 = re.compile(r"\+33[1-9][0-9]{8}").fullmatch


def _number(text: str) -> str:
    if _FRENCH_E164(text):
        return text
    return _normalize(text.strip())  # an InputError is a ValueError: its message says what is wrong


def _number_json(value: Any) -> str:
    return _number(_json_str(value))


def _instant_csv(text: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return parse_instant(text.strip())  # spaces around it, or the error that says what is wrong
    return instant if instant.tzinfo is not None else parse_instant(text)


def _instant_json(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise _type_error("an ISO 8601 date-time string with its offset", value)
    return parse_instant(value)


Stamp = tuple[str, dt.datetime]  # an instant and its ISO text (as isoformat writes it)


def _stamp_csv(text: str) -> Stamp:
    """_instant_csv and _iso_text in one call (one per row of a consents file)."""
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        instant = parse_instant(text.strip())  # spaces around it, or the error that says what is wrong
    else:
        if instant.tzinfo is None:
            instant = parse_instant(text)  # the error
    if _ISO_SECOND(text) and not text.endswith("-00:00"):
        return text, instant
    return instant.isoformat(), instant


def _stamp_json(value: Any) -> Stamp:
    instant = _instant_json(value)
    return _iso_text(value, instant), instant


def _day_csv(text: str) -> dt.date:
    return parse_day(text.strip())


def _day_json(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise _type_error("a date YYYY-MM-DD string", value)
    return parse_day(value)


_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False, "oui": True, "non": False}


def _bool_csv(text: str) -> bool:
    found = _BOOLS.get(text)
    if found is None:
        found = _BOOLS.get(text.strip().lower())
        if found is None:
            raise ValueError(f"expected true or false (also 1/0, yes/no, oui/non), got {text!r}")
    return found


def _bool_json(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _type_error("true or false", value)
    return value


def _choice(choices: tuple[str, ...]) -> tuple[Callable[[str], str], Callable[[Any], str]]:
    allowed = frozenset(choices)

    def parse(text: str) -> str:
        if text in allowed:
            return text
        stripped = text.strip()
        if stripped in allowed:
            return stripped
        raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")

    def parse_json(value: Any) -> str:
        return parse(_json_str(value))

    return parse, parse_json


@dataclass(frozen=True)
class Products:
    """A list of products as given, as stored (json.dumps) and as hashed (canonical JSON)."""

    items: tuple[str, ...]
    stored: str
    canonical: str


def _products(items: tuple[str, ...]) -> Products:
    if not all(items):
        raise ValueError("empty product name")
    encoded = [encode_basestring(item) for item in items]
    return Products(items, "[" + ", ".join(encoded) + "]", "[" + ",".join(encoded) + "]")


def _products_csv(text: str) -> Products:
    return _products(tuple(part.strip() for part in text.split("|")))


def _products_json(value: Any) -> Products:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise _type_error("a list of product names", value)
    return _products(tuple(item.strip() for item in value))


@dataclass(frozen=True)
class Slots:
    """Out-of-hours slots chosen by the consumer: as stored (json.dumps) and as hashed (canonical JSON)."""

    pairs: tuple[tuple[dt.datetime, dt.datetime], ...]
    stored: str
    canonical: str


NO_SLOTS = Slots((), "[]", "[]")


def _slots(pairs: list[tuple[dt.datetime, dt.datetime]]) -> Slots:
    for start, end in pairs:
        if end <= start:
            raise ValueError(f"slot does not end after it starts: {start.isoformat()}/{end.isoformat()}")
    texts = [(start.isoformat(), end.isoformat()) for start, end in pairs]  # ISO text needs no escaping
    stored = ", ".join(f'["{start}", "{end}"]' for start, end in texts)
    canonical = ",".join(f'["{start}","{end}"]' for start, end in texts)
    return Slots(tuple(pairs), f"[{stored}]", f"[{canonical}]")


def _slots_csv(text: str) -> Slots:
    pairs = []
    for part in text.split("|"):
        start, sep, end = part.strip().partition("/")
        if not sep:
            raise ValueError(f"expected START/END date-times separated by '|', got {part.strip()!r}")
        pairs.append((parse_instant(start.strip()), parse_instant(end.strip())))
    return _slots(pairs)


def _slots_json(value: Any) -> Slots:
    expected = 'a list of {"start": ..., "end": ...}'
    if not isinstance(value, list):
        raise _type_error(expected, value)
    pairs = []
    for slot in value:
        if not isinstance(slot, dict) or set(slot) != {"start", "end"}:
            raise _type_error(expected, value)
        pairs.append((_instant_json(slot["start"]), _instant_json(slot["end"])))
    return _slots(pairs)


_PARSERS: dict[str, tuple[Callable[[str], Any], Callable[[Any], Any]]] = {
    "name": (_name, _name_json),
    "text": (_text, _json_str),
    "number": (_number, _number_json),
    "instant": (_instant_csv, _instant_json),
    "stamp": (_stamp_csv, _stamp_json),
    "day": (_day_csv, _day_json),
    "bool": (_bool_csv, _bool_json),
    "products": (_products_csv, _products_json),
    "slots": (_slots_csv, _slots_json),
    "method": _choice(METHODS),
    "status": _choice(CONTRACT_STATUSES),
    "outcome": _choice(OUTCOMES),
}


def _column(name: str, kind: str, mode: int = REQUIRED, default: Any = None, *, memo: bool = False) -> Column:
    """A column whose parsers also handle an empty cell or a null: an error, None (unknown) or the default."""
    parse_csv, parse_json = _PARSERS[kind]
    empty = None if mode == NULLABLE else default

    if mode == REQUIRED:

        def cell(text: str) -> Any:
            if not text or text.isspace():
                raise ValueError("missing value")
            return parse_csv(text)

        def value(item: Any) -> Any:
            if item is None:
                raise ValueError("missing value (null)")
            return parse_json(item)

    else:

        def cell(text: str) -> Any:
            return empty if not text or text.isspace() else parse_csv(text)

        def value(item: Any) -> Any:
            return empty if item is None else parse_json(item)

    return Column(name, cell, value, mode, memo or kind in _FEW_VALUES)


_FEW_VALUES = frozenset({"bool", "products", "slots", "day", "method", "status", "outcome"})


# -- reading -----------------------------------------------------------------------------------------------------

Record = tuple[int, list[Any]]  # (line, values in the order of the kind's columns)


def _read(handle: BinaryIO, name: str, fmt: str, columns: tuple[Column, ...]) -> Iterator[Record]:
    return _read_csv(handle, name, columns) if fmt == "csv" else _read_jsonl(handle, name, columns)


def _lines(handle: BinaryIO, name: str, counter: list[int]) -> Iterator[str]:
    """The file's lines decoded one by one, so that bytes that are not UTF-8 are reported at their own line."""
    for line, raw in enumerate(handle, 1):
        counter[0] = line
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{name}:{line}: not UTF-8 text (byte {error.start + 1} of the line)") from None
        if line == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield text


def _read_csv(handle: BinaryIO, name: str, columns: tuple[Column, ...]) -> Iterator[Record]:
    reader = csv.reader(_lines(handle, name, [0]), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InputError(f"{name}:1: malformed CSV header: {error}") from None
    if header is None or not any(cell.strip() for cell in header):
        raise InputError(f"{name}: empty file (expected a header row, then one row per record)")
    width = len(header)
    plan = _csv_plan(header, name, columns)  # a column that the file leaves out reads the empty cell at `width`
    last = reader.line_num
    rows = 0
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num
            if len(cells) != width:
                if not cells:
                    continue  # a blank line
                raise InputError(
                    f"{name}:{line}: expected {width} fields as in the header, got {len(cells)}"
                    + (" (the file looks truncated)" if len(cells) < width else "")
                )
            cells.append("")
            rows += 1
            try:
                values = [parse(cells[index]) for index, parse in plan]
            except ValueError:
                fields = [
                    (column.name, column.csv, cells[index]) for column, (index, _) in zip(columns, plan, strict=True)
                ]
                raise _first_error(name, line, fields) from None
            yield line, values
    except csv.Error as error:
        raise InputError(f"{name}:{last + 1}: malformed CSV: {error}") from None
    if not rows:
        raise InputError(f"{name}: no rows after the header")


def _csv_plan(header: list[str], name: str, columns: tuple[Column, ...]) -> list[tuple[int, Callable[[str], Any]]]:
    names = [cell.strip() for cell in header]
    for index, cell in enumerate(names):
        if not cell:
            raise InputError(f"{name}:1: column {index + 1} has no name")
        if names.index(cell) != index:
            raise InputError(f"{name}:1: column {cell!r} appears twice")
    known = [column.name for column in columns]
    unknown = [cell for cell in names if cell not in known]
    if unknown:
        raise InputError(
            f"{name}:1: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            f" (known: {', '.join(known)})"
        )
    for column in columns:
        if column.mode != OPTIONAL and column.name not in names:
            raise InputError(f"{name}:1: missing column {column.name!r} ({_MODES[column.mode]})")
    return [
        (
            names.index(column.name) if column.name in names else len(names),
            _Memo(column.csv).__getitem__ if column.memo else column.csv,
        )
        for column in columns
    ]


def _first_error(name: str, line: int, fields: list[tuple[str, Callable[[Any], Any], Any]]) -> InputError:
    """The error of the first field that does not parse (a row is parsed at once, then again to name it)."""
    for field, parse, raw in fields:
        try:
            parse(raw)
        except ValueError as error:
            return InputError(f"{name}:{line}: {field}: {error}")
    return InputError(f"{name}:{line}: could not be read")  # pragma: no cover (some field failed above)


def _read_jsonl(handle: BinaryIO, name: str, columns: tuple[Column, ...]) -> Iterator[Record]:
    known = frozenset(column.name for column in columns)
    required = [column.name for column in columns if column.mode != OPTIONAL]
    counter = [0]
    rows = 0
    for text in _lines(handle, name, counter):
        line = counter[0]
        if not text or text.isspace():
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            truncated = " (the file looks truncated)" if not text.endswith("\n") else ""
            raise InputError(f"{name}:{line}: malformed JSON{truncated}: {error.msg} at column {error.colno}") from None
        if not isinstance(document, dict):
            raise InputError(f"{name}:{line}: expected a JSON object, got {type(document).__name__}")
        if not known.issuperset(document):
            unknown = sorted(set(document) - known)
            raise InputError(
                f"{name}:{line}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            )
        for key in required:
            if key not in document:
                raise InputError(f"{name}:{line}: {key}: missing key")
        rows += 1
        get = document.get
        try:
            values = [column.json(get(column.name)) for column in columns]
        except ValueError:
            raise _first_error(
                name, line, [(column.name, column.json, get(column.name)) for column in columns]
            ) from None
        yield line, values
    if not rows:
        raise InputError(f"{name}: empty file (expected one JSON object per line)")


# -- sinks: what each kind does with its records -----------------------------------------------------------------


class _Sink(abc.ABC):
    kind = ""
    columns: tuple[Column, ...] = ()
    own_references = False  # every row it writes refers only to rows it has written or found: no foreign key checks

    def __init__(self, conn: sqlite3.Connection, name: str, estimate: int) -> None:
        self.conn = conn
        self.name = name
        self.recorded_at = now()
        self.recorded_text = self.recorded_at.isoformat()
        self.summary = ImportSummary(self.kind, name)
        self.changed = False

    def fail(self, line: int, field: str, problem: str) -> InputError:
        return InputError(f"{self.name}:{line}: {field}: {problem}")

    def run(self, records: Iterator[Record]) -> ImportSummary:
        summary, add = self.summary, self.add
        for line, values in records:
            summary.rows += 1
            add(line, values)
        self.finish()
        self.changed = self.changed or bool(summary.inserted or summary.updated)
        return summary

    @abc.abstractmethod
    def add(self, line: int, values: list[Any]) -> None:
        """Take one validated line of the file."""

    def finish(self) -> None:  # noqa: B027 (a hook: most kinds have nothing left to write at the end)
        """After the last line: write what was held back (the default holds nothing)."""


def _hash_uid(*parts: Any) -> str:
    return "sha256:" + content_hash({"id": list(parts)})[:32]


# consents ----------------------------------------------------------------------------------------------------------

_FLAG_JSON: dict[bool | None, str] = {True: "true", False: "false", None: "null"}
_FLAG_ROW: dict[bool | None, int | None] = {True: 1, False: 0, None: None}
# The source and the recording instant, the same on every row of an import, are written in the statement.
_INSERT_CONSENT = (
    "INSERT INTO consents (uid, number, professional, products, collected_at, method, affirmative_act, pre_ticked,"
    " evidence_ref, text_shown, collected_during_unlawful_call, out_of_hours_slots, out_of_hours_any,"
    " professional_key, content_hash, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {}, {})"
    " ON CONFLICT (uid) DO NOTHING"
)
_NUMBER, _PROFESSIONAL, _AT, _KEY = 1, 2, 4, 13  # positions in a consent row


def _quoted(text: str | None) -> str:
    return "null" if text is None else encode_basestring(text)


# "2026-09-15T13:05:22+02:00": what isoformat writes for a whole second with an offset in minutes ("-00:00" aside,
# which it writes "+00:00"); a file's text in this form is used as is rather than formatted again.
_ISO_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").fullmatch


def _iso_text(text: str, instant: dt.datetime) -> str:
    """``instant.isoformat()``, given the text it was parsed from."""
    return text if _ISO_SECOND(text) and not text.endswith("-00:00") else instant.isoformat()


class _UtcKeys(dict[str, str]):
    """ledger.utc_key of ISO texts, fast for whole seconds with a whole-hour offset (files of a few time zones):
    the UTC date and hour are computed once per local date, hour and offset; minutes and seconds stay."""

    def key(self, at_text: str, instant: dt.datetime) -> str:
        if len(at_text) != 25 or not at_text.endswith(":00") or at_text.startswith("0"):  # "0999": utc_key's own form
            return utc_key(instant)
        hour = at_text[:13] + at_text[19:]  # "2026-09-15T13+02:00"
        utc_hour = self.get(hour)
        if utc_hour is None:
            if len(self) >= _CACHE_MAX:
                self.clear()
            utc_hour = self[hour] = utc_key(instant)[:13]
        return f"{utc_hour}{at_text[13:19]}.000000Z"


# A consent read from the file and hashed, waiting for its batch: (line, uid, content hash, row, collected_at,
# revoked_at).
_Pending = tuple[int, str, str, tuple[Any, ...], dt.datetime, dt.datetime | None]


def _sql_text(text: str) -> str:
    """A string as an SQL literal, for the values that are the same on every row of an import."""
    return "'" + text.replace("'", "''") + "'"


class _BulkLedger(LedgerWriter):
    """LedgerWriter with a ``given`` entry assembled as text: the same fields, canonical bytes and hash as
    ``append("given", ..., payload={"content_hash": ..., "source": ...})``.

    The entry names the consent by its content hash and the file it came from; the content itself is the
    consent's row, which ``verify`` hashes again and compares with the entry. The kind and the recording
    instant, the same for every ``given`` entry of an import, are written in the statement rather than bound.
    """

    def __init__(self, conn: sqlite3.Connection, source: str, recorded_text: str) -> None:
        super().__init__(conn, batch=1 << 62)  # flushed by the importer, after the consents its entries refer to
        self.utc_keys = _UtcKeys()
        self.source_json = encode_basestring(source)
        self.recorded_text = recorded_text
        self._given: list[tuple[Any, ...]] = []
        self._insert_given = (
            "INSERT INTO consent_events (seq, kind, number, professional, professional_key, consent_uid, at, at_utc,"
            f" payload, recorded_at, prev_hash, hash) VALUES (?, 'given', ?, ?, ?, ?, ?, ?, ?, {_sql_text(recorded_text)},"
            " ?, ?)"
        )

    def given(self, consents: list[_Pending], start: int, professionals: dict[str, tuple[str, str]]) -> int:
        """Append the ``given`` entries of ``consents[start:]`` (new consents, in file order) up to and including
        the first that comes revoked, whose ``withdrawn`` entry the caller appends next; returns where it stopped.
        """
        seq, head, source_json, recorded_text = self.seq, self.head, self.source_json, self.recorded_text
        utc_keys, cached_hour, append, sha256 = self.utc_keys, self.utc_keys.get, self._given.append, hashlib.sha256
        index = start
        for index in range(start, len(consents)):
            _line, uid, digest, row, at, revoked_at = consents[index]
            seq += 1
            number, professional, at_text = row[_NUMBER], row[_PROFESSIONAL], row[_AT]  # E.164, ISO: no escaping
            known = professionals.get(professional)
            professional_json = known[1] if known else encode_basestring(professional)
            payload = f'{{"content_hash":"{digest}","source":{source_json}}}'
            entry = sha256(
                f'{head}\n{{"at":"{at_text}","consent_uid":{encode_basestring(uid)},"kind":"given",'
                f'"number":"{number}","payload":{payload},"professional":{professional_json},'
                f'"recorded_at":"{recorded_text}","seq":{seq}}}'.encode()
            ).hexdigest()
            # utc_keys.key, its cache looked up here: a whole hour it has seen, then minutes and seconds as they are
            utc_hour = cached_hour(at_text[:13] + at_text[19:]) if len(at_text) == 25 else None
            if utc_hour is not None and at_text.endswith(":00"):
                at_utc = f"{utc_hour}{at_text[13:19]}.000000Z"
            else:
                at_utc = utc_keys.key(at_text, at)
            append((seq, number, professional, row[_KEY], uid, at_text, at_utc, payload, head, entry))
            head = entry
            if revoked_at is not None:
                break
        self.appended += seq - self.seq
        self.seq, self.head = seq, head
        return index + 1

    def flush(self) -> None:
        if self._given:
            self.conn.executemany(self._insert_given, self._given)
            self._given.clear()
        super().flush()


class _Consents(_Sink):
    """Consents and their ``given`` (and ``withdrawn``) ledger entries; the same consent again is skipped.

    A consent that is already stored and comes again with ``revoked_at`` gets its withdrawal (counted as
    updated) unless the ledger already has one for it: a revocation in a later export is never dropped.
    """

    kind = "consents"
    own_references = True
    columns = (
        _column("consent_id", "name", OPTIONAL),
        _column("number", "number"),
        _column("professional", "name", memo=True),
        _column("products", "products"),
        _column("collected_at", "stamp"),
        _column("method", "method", NULLABLE),
        _column("affirmative_act", "bool", NULLABLE),
        _column("pre_ticked", "bool", NULLABLE),
        _column("evidence_ref", "name", NULLABLE),
        _column("text_shown", "text", OPTIONAL, memo=True),
        _column("collected_during_unlawful_call", "bool", OPTIONAL, False),
        _column("out_of_hours_any", "bool", OPTIONAL, False),
        _column("out_of_hours_slots", "slots", OPTIONAL, NO_SLOTS),
        _column("revoked_at", "instant", OPTIONAL, memo=True),
    )

    def __init__(self, conn: sqlite3.Connection, name: str, estimate: int) -> None:
        super().__init__(conn, name, estimate)
        self.ledger = _BulkLedger(conn, name, self.recorded_text)
        self.insert = _INSERT_CONSENT.format(_sql_text(name), _sql_text(self.recorded_text))
        self.pending: list[_Pending] = []
        self.professionals: dict[str, tuple[str, str]] = {}
        self.quoted = _Memo(_quoted)
        self.deferred = 0  # stored consents that come revoked, kept in a temporary table until the end
        self.dropped = self._drop_secondary_indexes(estimate)

    def _drop_secondary_indexes(self, estimate: int) -> list[str]:
        """For a bulk load, drop the non-unique indexes of the consent tables; returns their SQL to build them again."""
        if not _bulk_load(self.conn, estimate):
            return []
        dropped = []
        for table in ("consents", "consent_events"):
            for _seq, index, unique, origin, *_ in self.conn.execute(f"PRAGMA index_list({table})").fetchall():
                if unique or origin != "c":
                    continue
                (sql,) = self.conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)
                ).fetchone()
                self.conn.execute(f'DROP INDEX "{index}"')
                dropped.append(sql)
        return dropped

    def _professional(self, name: str) -> tuple[str, str]:
        found = self.professionals.get(name)
        if found is None:
            if len(self.professionals) >= _CACHE_MAX:
                self.professionals.clear()
            found = self.professionals[name] = (professional_key(name), encode_basestring(name))
        return found

    def add(self, line: int, values: list[Any]) -> None:
        (consent_id, number, professional, products, collected, method, affirmative, pre_ticked, evidence_ref,
         text_shown, unlawful, out_of_hours_any, slots, revoked_at) = values  # fmt: skip
        at_text, collected_at = collected
        if revoked_at is not None and revoked_at < collected_at:
            raise self.fail(line, "revoked_at", "earlier than collected_at")
        key, professional_json = self.professionals.get(professional) or self._professional(professional)
        quoted = self.quoted  # JSON text of the values that repeat (methods, texts shown)
        # The canonical JSON of content_from_row(row): sorted keys, no spaces (see ledger.canonical).
        content = (
            f'{{"affirmative_act":{_FLAG_JSON[affirmative]},"collected_at":"{at_text}",'
            f'"collected_during_unlawful_call":{_FLAG_JSON[unlawful]},'
            f'"evidence_ref":{"null" if evidence_ref is None else encode_basestring(evidence_ref)},'
            f'"method":{quoted[method]},"number":"{number}","out_of_hours_any":{_FLAG_JSON[out_of_hours_any]},'
            f'"out_of_hours_slots":{slots.canonical},"pre_ticked":{_FLAG_JSON[pre_ticked]},'
            f'"products":{products.canonical},"professional":{professional_json},"text_shown":{quoted[text_shown]}}}'
        )
        try:
            content_bytes = content.encode()
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") written as a JSON escape
            raise self.fail(line, "text_shown", "text that is not valid Unicode") from None
        digest = hashlib.sha256(content_bytes).hexdigest()
        uid = consent_id or f"sha256:{digest[:32]}"
        row = (
            uid,
            number,
            professional,
            products.stored,
            at_text,
            method,
            _FLAG_ROW[affirmative],
            _FLAG_ROW[pre_ticked],
            evidence_ref,
            text_shown,
            int(unlawful),
            slots.stored,
            int(out_of_hours_any),
            key,
            digest,
        )
        self.pending.append((line, uid, digest, row, collected_at, revoked_at))
        if len(self.pending) >= BATCH:
            self._flush()

    def finish(self) -> None:
        self._flush()
        if self.dropped:
            # The sorter of CREATE INDEX takes as much memory again as the page cache: shrink the cache first.
            self.conn.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
            for sql in self.dropped:
                self.conn.execute(sql)
        self._revoke_stored()
        self.ledger.flush()

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        conn, ledger, summary = self.conn, self.ledger, self.summary
        # Insert first: a batch of consents that are all new (the usual case) needs no look-up. When some did
        # not go in (already stored, or twice in the batch), the batch is sorted out against the store.
        (last_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM consents").fetchone()
        before = conn.total_changes
        conn.executemany(self.insert, [consent[3] for consent in batch])
        new = batch if conn.total_changes - before == len(batch) else self._sort_out(batch, last_id)
        done = 0
        while done < len(new):
            done = ledger.given(new, done, self.professionals)
            _line, uid, _digest, row, _at, revoked_at = new[done - 1]
            if revoked_at is not None:
                self._withdraw(row, uid, revoked_at)
        summary.inserted += len(new)
        ledger.flush()

    def _sort_out(self, batch: list[_Pending], last_id: int) -> list[_Pending]:
        """The consents of the batch that went in; the others are duplicates, revocations to record, or errors."""
        uids = [consent[1] for consent in batch]
        stored: dict[str, tuple[str, int]] = {
            uid: (digest, rowid)
            for uid, digest, rowid in self.conn.execute(
                f"SELECT uid, content_hash, id FROM consents WHERE uid IN ({', '.join('?' * len(uids))})", uids
            )
        }
        new, lines = [], {}  # lines: uid -> the line of this batch that inserted it
        for consent in batch:
            line, uid, digest = consent[:3]
            stored_digest, rowid = stored[uid]
            if rowid > last_id and uid not in lines:
                lines[uid] = line
                new.append(consent)
            elif stored_digest != digest:
                raise self._conflict(consent, lines.get(uid, 0))
            elif consent[5] is not None:
                self._defer_revocation(consent)
            else:
                self.summary.duplicates += 1
        return new

    def _withdraw(self, row: tuple[Any, ...], uid: str, revoked_at: dt.datetime) -> None:
        """The ``withdrawn`` entry that insert_consent writes for a consent that comes revoked."""
        self.ledger.append(
            "withdrawn",
            number=row[_NUMBER],
            professional=row[_PROFESSIONAL],
            professional_key=row[_KEY],
            at=revoked_at,
            payload={"source": self.name, "channel": "import"},
            consent_uid=uid,
            recorded_at=self.recorded_at,
        )

    def _defer_revocation(self, consent: _Pending) -> None:
        """Kept aside (on disk, not in memory) until the indexes are back and every given entry is written."""
        line, uid, _digest, row, *_, revoked_at = consent
        if not self.deferred:
            self.conn.execute(
                "CREATE TEMP TABLE import_revocations (line INTEGER PRIMARY KEY, uid TEXT, row TEXT, revoked_at TEXT)"
            )
        self.deferred += 1
        assert revoked_at is not None
        self.conn.execute(
            "INSERT INTO temp.import_revocations VALUES (?, ?, ?, ?)",
            (line, uid, json.dumps(row, ensure_ascii=False), revoked_at.isoformat()),
        )

    def _revoke_stored(self) -> None:
        if not self.deferred:
            return
        cursor = self.conn.execute("SELECT uid, row, revoked_at FROM temp.import_revocations ORDER BY line")
        for uid, row_text, revoked_text in cursor:
            row = tuple(json.loads(row_text))
            withdrawn = self.conn.execute(
                "SELECT 1 FROM consent_events WHERE number = ? AND professional_key = ? AND kind = 'withdrawn'"
                " AND consent_uid = ? LIMIT 1",
                (row[_NUMBER], row[_KEY], uid),
            ).fetchone()
            if withdrawn is None:
                self._withdraw(row, uid, dt.datetime.fromisoformat(revoked_text))
                self.ledger.flush()  # the next look-up must see it (the same consent may come revoked twice)
                self.summary.updated += 1
            else:
                self.summary.duplicates += 1
        self.conn.execute("DROP TABLE temp.import_revocations")

    def _conflict(self, consent: _Pending, earlier_line: int) -> InputError:
        uid = consent[1]
        if earlier_line:
            where = f"line {earlier_line} of this file"
        else:
            stored = self.conn.execute("SELECT source, recorded_at FROM consents WHERE uid = ?", (uid,)).fetchone()
            where = "an earlier line of this file" if tuple(stored) == (self.name, self.recorded_text) else "the store"
        return self.fail(consent[0], "consent_id", f"consent {uid!r} differs from the one with this id in {where}")


# contracts and opposition entries: upserted ------------------------------------------------------------------------


class _Upserts(_Sink):
    """Rows upserted by a key: staged on disk first, so that the last line of the file for a key wins and is
    compared once with the store (re-importing a file where a contract goes active then ended changes nothing).

    ``duplicates`` counts the rows that changed nothing: already stored as they are, or replaced by a later line.
    """

    def __init__(self, conn: sqlite3.Connection, name: str, estimate: int) -> None:
        super().__init__(conn, name, estimate)
        conn.execute(
            "CREATE TEMP TABLE import_upserts (line INTEGER PRIMARY KEY, key TEXT NOT NULL, row TEXT NOT NULL)"
        )
        conn.execute("CREATE INDEX temp.import_upserts_key ON import_upserts (key, line)")

    def stage(self, line: int, key: str, row: tuple[Any, ...]) -> None:
        self.conn.execute(
            "INSERT INTO temp.import_upserts VALUES (?, ?, ?)", (line, key, json.dumps(row, ensure_ascii=False))
        )

    def finish(self) -> None:
        last = self.conn.execute(
            "SELECT line, key, row FROM temp.import_upserts AS staged WHERE NOT EXISTS (SELECT 1 FROM"
            " temp.import_upserts AS later WHERE later.key = staged.key AND later.line > staged.line) ORDER BY line"
        )
        applied = 0
        for line, key, row in last:
            self.upsert(line, key, tuple(json.loads(row)))
            applied += 1
        self.summary.duplicates += self.summary.rows - applied
        self.conn.execute("DROP TABLE temp.import_upserts")

    @abc.abstractmethod
    def upsert(self, line: int, key: str, row: tuple[Any, ...]) -> None:
        """Write the last line of the file for ``key`` if it changes what is stored."""


class _Contracts(_Upserts):
    """Upserted by id: the last line (of the file, then of later files) gives the contract's current state."""

    kind = "contracts"
    columns = (
        _column("contract_id", "name", OPTIONAL),
        _column("number", "number"),
        _column("professional", "name", memo=True),
        _column("products", "products"),
        _column("related_products", "products", OPTIONAL),
        _column("status", "status"),
        _column("started_at", "instant", OPTIONAL),
        _column("ended_at", "instant", OPTIONAL),
    )

    def add(self, line: int, values: list[Any]) -> None:
        contract_id, number, professional, products, related, status, started_at, ended_at = values
        if started_at is not None and ended_at is not None and ended_at < started_at:
            raise self.fail(line, "ended_at", "earlier than started_at")
        key = professional_key(professional)
        # Without an id, a contract stays the same one while its holder, professional, products and start do.
        uid = contract_id or _hash_uid(number, key, sorted(set(products.items)), started_at and utc_key(started_at))
        row = (
            number,
            professional,
            products.stored,
            related.stored if related else "[]",
            status,
            started_at and started_at.isoformat(),
            ended_at and ended_at.isoformat(),
            key,
        )
        self.stage(line, uid, row)

    def upsert(self, line: int, key: str, row: tuple[Any, ...]) -> None:
        stored = self.conn.execute(
            "SELECT number, professional, products, related_products, status, started_at, ended_at, professional_key"
            " FROM contracts WHERE uid = ?",
            (key,),
        ).fetchone()
        if stored is None:
            self.conn.execute(
                "INSERT INTO contracts (number, professional, products, related_products, status, started_at,"
                " ended_at, professional_key, uid, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, key, self.name, self.recorded_text),
            )
            self.summary.inserted += 1
        elif tuple(stored) == row:
            self.summary.duplicates += 1
        else:
            self.conn.execute(
                "UPDATE contracts SET number = ?, professional = ?, products = ?, related_products = ?, status = ?,"
                " started_at = ?, ended_at = ?, professional_key = ?, source = ?, updated_at = ? WHERE uid = ?",
                (*row, self.name, self.recorded_text, key),
            )
            self.summary.updated += 1


# attempts ----------------------------------------------------------------------------------------------------------


class _Attempts(_Sink):
    """An attempt is a fact: inserted once; the same attempt again is a duplicate, a different one an error."""

    kind = "attempts"
    columns = (
        _column("attempt_id", "name", OPTIONAL),
        _column("number", "number"),
        _column("professional", "name", memo=True),
        _column("at", "instant"),
        _column("outcome", "outcome"),
    )

    def add(self, line: int, values: list[Any]) -> None:
        attempt_id, number, professional, at, outcome = values
        key, at_utc = professional_key(professional), utc_key(at)
        uid = attempt_id or _hash_uid(number, key, at_utc)
        cursor = self.conn.execute(
            "INSERT INTO call_attempts (uid, number, professional, professional_key, at, at_utc, outcome, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING",
            (uid, number, professional, key, at.isoformat(), at_utc, outcome, self.name),
        )
        if cursor.rowcount:
            self.summary.inserted += 1
            return
        stored = self.conn.execute(
            "SELECT number, professional_key, at_utc, outcome FROM call_attempts WHERE uid = ?", (uid,)
        ).fetchone()
        if tuple(stored) == (number, key, at_utc, outcome):
            self.summary.duplicates += 1
        elif attempt_id:
            raise self.fail(line, "attempt_id", f"attempt {uid!r} is already recorded with a different content")
        else:
            raise self.fail(
                line,
                "outcome",
                f"this attempt (same number, professional and time) is already recorded as {stored[3]!r}",
            )


# opposition list ---------------------------------------------------------------------------------------------------


class _Optout(_Upserts):
    """Scrub results against the opposition list: one scrub row per date of the file (the same file again
    reuses it), entries upserted by (number, scrubbed_on)."""

    kind = "optout"
    columns = (
        _column("number", "number"),
        _column("registered", "bool"),
        _column("since", "day", OPTIONAL),
        _column("scrubbed_on", "day"),
    )

    def __init__(self, conn: sqlite3.Connection, name: str, estimate: int) -> None:
        super().__init__(conn, name, estimate)
        self.scrubs: dict[str, list[int]] = {}  # scrubbed_on -> [scrub id, rows in this file, rows it had]

    def _scrub(self, scrubbed_on: str) -> list[int]:
        scrub = self.scrubs.get(scrubbed_on)
        if scrub is None:
            found = self.conn.execute(
                "SELECT id, rows FROM opposition_scrubs WHERE scrubbed_on = ? AND source = ? ORDER BY id LIMIT 1",
                (scrubbed_on, self.name),
            ).fetchone()
            if found is None:
                cursor = self.conn.execute(
                    "INSERT INTO opposition_scrubs (scrubbed_on, source, rows, imported_at) VALUES (?, ?, 0, ?)",
                    (scrubbed_on, self.name, self.recorded_text),
                )
                assert cursor.lastrowid is not None
                found, self.changed = (cursor.lastrowid, -1), True
            scrub = self.scrubs[scrubbed_on] = [int(found[0]), 0, int(found[1])]
        return scrub

    def add(self, line: int, values: list[Any]) -> None:
        number, registered, since, scrubbed = values
        if since is not None and since > scrubbed:
            raise self.fail(line, "since", "later than scrubbed_on")
        scrubbed_on = scrubbed.isoformat()
        scrub = self._scrub(scrubbed_on)
        scrub[1] += 1
        self.stage(line, f"{number} {scrubbed_on}", (number, scrubbed_on, int(registered), since and since.isoformat()))

    def upsert(self, line: int, key: str, row: tuple[Any, ...]) -> None:
        number, scrubbed_on, registered, since = row
        stored = self.conn.execute(
            "SELECT registered, since FROM opposition_entries WHERE number = ? AND scrubbed_on = ?",
            (number, scrubbed_on),
        ).fetchone()
        if stored is None:
            self.conn.execute(
                "INSERT INTO opposition_entries (number, scrubbed_on, registered, since, scrub_id)"
                " VALUES (?, ?, ?, ?, ?)",
                (number, scrubbed_on, registered, since, self.scrubs[scrubbed_on][0]),
            )
            self.summary.inserted += 1
        elif tuple(stored) == (registered, since):
            self.summary.duplicates += 1
        else:
            self.conn.execute(
                "UPDATE opposition_entries SET registered = ?, since = ?, scrub_id = ? WHERE number = ? AND scrubbed_on = ?",
                (registered, since, self.scrubs[scrubbed_on][0], number, scrubbed_on),
            )
            self.summary.updated += 1

    def finish(self) -> None:
        super().finish()
        for scrub_id, rows, before in self.scrubs.values():
            if rows != before:
                self.conn.execute("UPDATE opposition_scrubs SET rows = ? WHERE id = ?", (rows, scrub_id))
                self.changed = True


_SINKS: dict[str, type[_Sink]] = {
    "consents": _Consents,
    "contracts": _Contracts,
    "attempts": _Attempts,
    "optout": _Optout,
}
