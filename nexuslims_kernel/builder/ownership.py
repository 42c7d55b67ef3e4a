"""A file belongs to at most one session's record.

Sessions on one instrument never overlap, but their windows widened by the
build's grace periods can, and sessions from before the rule (or ones an admin
let through) may too: a build leaves out every file another record already
holds, and says so in the record's warnings, unless an admin set the
session's ``share_files`` (``nxhub sessions rebuild ID --share-files``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.models import Dataset, Record

CHUNK = 500


def held_elsewhere(sess: Session, session_id: int, file_ids: Iterable[int]) -> dict[int, int]:
    """file id -> id of another session's record that already holds it."""
    ids = sorted(set(file_ids))
    held: dict[int, int] = {}
    for lo in range(0, len(ids), CHUNK):
        rows = sess.execute(
            select(Dataset.file_id, Dataset.record_id)
            .join(Record, Record.id == Dataset.record_id)
            .where(Dataset.file_id.in_(ids[lo:lo + CHUNK]), Record.session_id != session_id)
        )
        for file_id, record_id in rows:
            held.setdefault(file_id, record_id)
    return held


def left_out_warning(session_id: int, relpaths_by_record: dict[int, list[str]]) -> str:
    """One warning line naming the files left out and the records that hold them."""
    parts = [f"record {rid}: {', '.join(sorted(paths)[:5])}{' …' if len(paths) > 5 else ''}"
             for rid, paths in sorted(relpaths_by_record.items())]
    n = sum(len(p) for p in relpaths_by_record.values())
    return (f"{n} file(s) left out because another record holds them ({'; '.join(parts)}); an admin can include "
            f"them with 'nxhub sessions rebuild {session_id} --share-files'")


def split_held(sess: Session, session_id: int, items: list, file_id_of, relpath_of) -> tuple[list, dict[int, list[str]]]:
    """``items`` without those whose file another record holds, and what was left out, by record id."""
    held = held_elsewhere(sess, session_id, (file_id_of(i) for i in items if file_id_of(i) is not None))
    kept, out = [], {}
    for item in items:
        rid = held.get(file_id_of(item))
        if rid is None:
            kept.append(item)
        else:
            out.setdefault(rid, []).append(relpath_of(item))
    return kept, out
