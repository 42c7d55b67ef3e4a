"""Read a NexusLIMS database (NIST 1.x or datasophos 2.x): its ``instruments`` and ``session_log`` tables.

Opened read-only (``mode=ro``), so importing never changes the site being
left. The layout is told from the schema, not a version string: 2.x has the
Alembic ``alembic_version`` / ``upload_log`` tables and names the instrument
``display_name`` (1.x: ``schema_name``); timestamps are local times without an
offset in 1.x (``strftime('%Y-%m-%dT%H:%M:%f', 'now', 'localtime')``: the
instrument's zone) and ISO strings with an offset in 2.x. ``session_log`` is
an event log; rows are grouped here by ``session_identifier`` into sessions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import zoneinfo
from pathlib import Path

from nexuslims_kernel.errors import InvalidInputError

EXPECTED = ("a NexusLIMS database: an SQLite file with tables 'instruments' (instrument_pid, filestore_path, ...) "
            "and 'session_log' (session_identifier, instrument, timestamp, event_type, record_status, user)")
INSTRUMENT_COLUMNS = {"instrument_pid", "filestore_path", "location"}
SESSION_COLUMNS = {"session_identifier", "instrument", "timestamp", "event_type", "record_status", "user"}
DEFAULT_TZ = "America/New_York"  # NexusLIMS's column default


@dataclasses.dataclass(frozen=True)
class SourceInstrument:
    pid: str
    display_name: str | None
    location: str | None
    filestore_path: str | None
    harvester: str | None
    timezone: str
    api_url: str | None
    calendar_url: str | None


@dataclasses.dataclass
class SourceSession:
    """One ``session_identifier``'s events: START, END and any RECORD_GENERATION rows."""

    identifier: str
    instrument_pid: str
    starts: list[str] = dataclasses.field(default_factory=list)
    ends: list[str] = dataclasses.field(default_factory=list)
    users: set[str] = dataclasses.field(default_factory=set)
    start_status: str | None = None
    end_status: str | None = None

    @property
    def status(self) -> str | None:
        """The END row's status (NexusLIMS updates both rows; a RECORD_GENERATION row keeps its default)."""
        return self.end_status or self.start_status


@dataclasses.dataclass
class NexusLimsSource:
    path: Path
    layout: str  # "1.x" | "2.x"
    version: str | None  # alembic revision (2.x) when recorded
    instruments: list[SourceInstrument]
    sessions: list[SourceSession]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def _not_nexuslims(path: Path, why: str) -> InvalidInputError:
    return InvalidInputError(f"{path} is not {EXPECTED}: {why}")


def open_source(path: Path | str) -> sqlite3.Connection:
    """A read-only connection to ``path``; one clear line if it is not an SQLite file with both tables."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist (expected {EXPECTED})")
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        conn.close()
        raise _not_nexuslims(path, "it is not an SQLite database") from None
    missing_tables = [t for t in ("instruments", "session_log") if t not in tables]
    if missing_tables:
        conn.close()
        raise _not_nexuslims(path, f"no table {' or '.join(map(repr, missing_tables))}")
    for table, wanted in (("instruments", INSTRUMENT_COLUMNS), ("session_log", SESSION_COLUMNS)):
        have = _columns(conn, table)
        lacking = sorted(wanted - have)
        if table == "instruments" and not {"display_name", "schema_name"} & have:
            lacking.append("display_name (2.x) or schema_name (1.x)")
        if lacking:
            conn.close()
            raise _not_nexuslims(path, f"table {table!r} lacks {', '.join(lacking)}")
    return conn


def detect_layout(conn: sqlite3.Connection) -> tuple[str, str | None]:
    """``("2.x", alembic revision)`` or ``("1.x", None)``, from the tables and columns present."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    version = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        version = row[0] if row else None
    if version or "upload_log" in tables or "display_name" in _columns(conn, "instruments"):
        return "2.x", version
    return "1.x", None


def _instruments(conn: sqlite3.Connection) -> list[SourceInstrument]:
    cols = _columns(conn, "instruments")

    def col(name: str) -> str:
        return f'"{name}"' if name in cols else "NULL"

    name_col = "display_name" if "display_name" in cols else "schema_name"
    rows = conn.execute(
        f"SELECT instrument_pid, {col(name_col)}, {col('location')}, {col('filestore_path')}, {col('harvester')}, "
        f"{col('timezone')}, {col('api_url')}, {col('calendar_url')} FROM instruments ORDER BY instrument_pid"
    )
    return [SourceInstrument(pid=str(r[0]), display_name=r[1], location=r[2], filestore_path=r[3], harvester=r[4],
                             timezone=r[5] or DEFAULT_TZ, api_url=r[6], calendar_url=r[7]) for r in rows]


def _sessions(conn: sqlite3.Connection) -> list[SourceSession]:
    by_id: dict[str, SourceSession] = {}
    order = "id_session_log" if "id_session_log" in _columns(conn, "session_log") else "rowid"
    rows = conn.execute('SELECT session_identifier, instrument, timestamp, event_type, record_status, "user" '
                        f"FROM session_log ORDER BY {order}")
    for ident, pid, stamp, kind, status, user in rows:
        s = by_id.setdefault(str(ident), SourceSession(identifier=str(ident), instrument_pid=str(pid)))
        if user:
            s.users.add(str(user))
        if kind == "START":
            s.starts.append(str(stamp))
            s.start_status = status
        elif kind == "END":
            s.ends.append(str(stamp))
            s.end_status = status
    return list(by_id.values())


def read_source(path: Path | str) -> NexusLimsSource:
    """Everything the import needs from a NexusLIMS database, read in one go."""
    conn = open_source(path)
    try:
        layout, version = detect_layout(conn)
        return NexusLimsSource(Path(path), layout, version, _instruments(conn), _sessions(conn))
    except sqlite3.DatabaseError as exc:
        raise _not_nexuslims(Path(path), f"reading it failed ({exc})") from None
    finally:
        conn.close()


def parse_timestamp(value: str, timezone: str) -> dt.datetime:
    """A NexusLIMS timestamp in UTC: an offset when it has one (2.x), else the instrument's local time (1.x)."""
    text = value.strip().replace(" ", "T", 1)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"timestamp {value!r} is not an ISO date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return when.astimezone(dt.UTC)
