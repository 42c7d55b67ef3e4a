"""Seed a NexusLIMS database through NexusLIMS's own ORM; runs INSIDE the NexusLIMS venv, never imported by our tests.

stdin: ``{"instruments": [{...Instrument fields...}], "logs": [{...SessionLog fields, timestamp ISO...}]}``.
The database (``NX_DB_PATH``) was created by ``nexuslims db init`` beforehand.
"""

import datetime
import json
import sys

from nexusLIMS.db.engine import get_engine
from nexusLIMS.db.enums import EventType, RecordStatus
from nexusLIMS.db.models import Instrument, SessionLog
from sqlmodel import Session

ops = json.load(sys.stdin)
with Session(get_engine()) as session:
    for row in ops.get("instruments", []):
        session.add(Instrument(**row))
    session.commit()
for row in ops.get("logs", []):
    log = SessionLog(session_identifier=row["session_identifier"], instrument=row["instrument"],
                     timestamp=datetime.datetime.fromisoformat(row["timestamp"]),
                     event_type=EventType(row["event_type"]), record_status=RecordStatus(row["record_status"]),
                     user=row.get("user"))
    log.insert_log()
print(json.dumps({"ok": True}))
