"""A file with a naive vendor time, for the time-zone tests of extract, builder and CLI."""

from __future__ import annotations

import numpy as np


def naive_rpl(tmp_path, name="scan.rpl"):
    """A file whose acquisition time (2024-01-15 10:00) has no zone, like most vendor files."""
    import hyperspy.api as hs

    s = hs.signals.Signal2D(np.arange(16 * 24, dtype="uint16").reshape(16, 24))
    s.metadata.set_item("General.date", "2024-01-15")
    s.metadata.set_item("General.time", "10:00:00")
    path = tmp_path / name
    s.save(path)
    return path
