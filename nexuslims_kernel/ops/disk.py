"""Free space where the hub writes: builds pause before the data dir's disk fills up.

A build writes previews and exported records; on a full disk it would fail
half-way and retry, again and again. Workers instead stop claiming while
:func:`low_disk` names a reason, and resume by themselves once space is freed;
the API keeps serving, and ``nxhub_builds_paused`` says so.
"""

from __future__ import annotations

import shutil

from nexuslims_kernel.config import Settings


def low_disk(settings: Settings) -> str | None:
    """Why builds must wait (too little free space), or None."""
    need = settings.ops.build_min_free_mb * 1_000_000
    if not need:
        return None
    for name, path in (("data dir", settings.data_dir), ("previews", settings.previews_path)):
        try:
            free = shutil.disk_usage(path).free
        except OSError:
            continue  # not created yet: nothing written there so far
        if free < need:
            return (f"builds paused: the {name}'s disk ({path}) has {free / 1e6:.0f} MB free, "
                    f"less than ops.build_min_free_mb={settings.ops.build_min_free_mb}")
    return None
