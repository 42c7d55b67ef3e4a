"""A NexusLIMS 1.x-layout database (NIST's), written here with sqlite3 from its published schema.

Made from the schema (docs/database.rst and NexusLIMS_db_creation_script.sql of usnistgov/NexusLIMS),
not by NexusLIMS's code: local timestamps without an offset, ``schema_name``, ``computer_*`` columns.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_1X = """
CREATE TABLE instruments (
  instrument_pid VARCHAR(100) PRIMARY KEY NOT NULL, api_url TEXT NOT NULL UNIQUE, calendar_name TEXT NOT NULL,
  calendar_url TEXT NOT NULL, location VARCHAR(100) NOT NULL, schema_name TEXT NOT NULL, property_tag VARCHAR(20) NOT NULL,
  filestore_path TEXT NOT NULL, computer_name TEXT UNIQUE, computer_ip VARCHAR(15) UNIQUE, computer_mount TEXT,
  harvester TEXT, timezone TEXT NOT NULL DEFAULT 'America/New_York');
CREATE TABLE session_log (
  id_session_log INTEGER PRIMARY KEY AUTOINCREMENT, session_identifier VARCHAR(36) NOT NULL,
  instrument VARCHAR(100) NOT NULL REFERENCES instruments(instrument_pid),
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now', 'localtime')),
  event_type TEXT NOT NULL CHECK(event_type IN ('START', 'END', 'RECORD_GENERATION')),
  record_status TEXT NOT NULL DEFAULT 'WAITING_FOR_END'
    CHECK(record_status IN ('COMPLETED', 'WAITING_FOR_END', 'TO_BE_BUILT', 'ERROR', 'NO_FILES_FOUND')),
  user VARCHAR(50));
"""


def db_1x_from_published_schema(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1X)
    conn.execute("INSERT INTO instruments VALUES ('FEI-Helios-DB-636663', 'https://sp.example.gov/helios', 'FEI HeliosDB', "
                 "'https://sp.example.gov/cal/helios', 'Bldg 217 / E123', 'FEI Helios Dual Beam', '636663', './Helios', "
                 "'helios-pc', '10.0.0.5', 'M:/', 'sharepoint', 'America/New_York')")
    rows = [
        ("6b9e0c1e-0000-4000-8000-000000000001", "FEI-Helios-DB-636663", "2021-03-01T10:00:00.000", "START", "COMPLETED", "jat"),
        ("6b9e0c1e-0000-4000-8000-000000000001", "FEI-Helios-DB-636663", "2021-03-01T12:15:30.500", "END", "COMPLETED", "jat"),
        ("6b9e0c1e-0000-4000-8000-000000000002", "FEI-Helios-DB-636663", "2021-07-01 09:00:00", "START", "TO_BE_BUILT", None),
        ("6b9e0c1e-0000-4000-8000-000000000002", "FEI-Helios-DB-636663", "2021-07-01 10:00:00", "END", "TO_BE_BUILT", None),
        ("6b9e0c1e-0000-4000-8000-000000000003", "FEI-Helios-DB-636663", "2021-08-01T10:00:00", "START", "ERROR", "jat"),
        ("6b9e0c1e-0000-4000-8000-000000000003", "FEI-Helios-DB-636663", "2021-08-01T09:00:00", "END", "ERROR", "jat"),
        ("6b9e0c1e-0000-4000-8000-000000000004", "JEOL-3010-TEM-565989", "2021-09-01T10:00:00", "START", "COMPLETED", "jat"),
        ("6b9e0c1e-0000-4000-8000-000000000005", "FEI-Helios-DB-636663", "2021-10-01T10:00:00", "END", "COMPLETED", "jat"),
    ]
    conn.executemany("INSERT INTO session_log (session_identifier, instrument, timestamp, event_type, record_status, user) "
                     "VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


