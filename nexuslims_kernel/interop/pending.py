"""``nxhub publish pending``: every record not yet handed to the site's configured CDCS / eLabFTW, once.

The per-site setting (``interop.cdcs_url``, ``interop.elabftw_url``) names the targets; a
record counts as done for a target when an earlier publish remembered it (``interop.rest``),
so running this from cron or a systemd timer pushes each new record exactly once and a
target that is down is simply tried again next time. One record failing is listed and the
rest go on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from nexuslims_kernel.db.models import FacilityMeta, Record
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.interop.rest import meta_key


def unpublished(db: Any, kind: str, base: str) -> list[int]:
    """Ids of records the target at ``base`` has not been given yet, oldest first."""
    with db.session() as sess:
        meta = sess.get(FacilityMeta, meta_key(kind, base.rstrip("/") + "/"))
        done = {int(k) for k in ((meta.value if meta else {}) or {}).get("records", {})}
        return [rid for rid in sess.scalars(select(Record.id).order_by(Record.id)) if rid not in done]


def publish_pending(db: Any, targets: dict[str, tuple[str, Callable[[int], Any]]],
                    progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """``targets``: kind -> (base URL, publish one record id). Returns per-target counts and failures."""
    report: dict[str, Any] = {}
    for kind, (base, publish_one) in targets.items():
        ids = unpublished(db, kind, base)
        done, failed = [], []
        for n, rid in enumerate(ids, start=1):
            try:
                publish_one(rid)
                done.append(rid)
            except NxhubError as exc:
                failed.append({"record": rid, "reason": str(exc)})
            if progress:
                progress(kind, n, len(ids))
        report[kind] = {"url": base, "published": done, "failed": failed}
    return report
