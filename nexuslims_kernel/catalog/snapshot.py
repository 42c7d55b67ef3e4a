"""A search's datasets as a plain Intake 2 ``Catalog``: what the data is, saved apart from who reads it.

Each entry is a :class:`~.reader.HyperSpyReader` over a :class:`~.reader.NexusDataset`
description (API root, record, dataset, relative path, sha256 — never a token), so the
snapshot can be written with ``to_yaml_file``, shared, and read back with
``intake.from_yaml_file`` by anyone whose own token lets the API serve those files.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nexuslims_kernel.catalog.entries import RecordCatalog


def entry_name(record_id: int, dataset_id: int) -> str:
    return f"record_{record_id}_dataset_{dataset_id}"


def snapshot(catalog: RecordCatalog, limit: int | None = None) -> Any:
    """The datasets of the first ``limit`` records (all when None) of ``catalog``, one Intake entry each."""
    from intake.readers.entry import Catalog

    from nexuslims_kernel.catalog.reader import HyperSpyReader

    out = Catalog(metadata={"api": catalog.client.root, "search": dict(catalog.params),
                            "taken": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    for record in itertools.islice(catalog.records(), limit):
        for dataset in record.datasets:
            reader = HyperSpyReader(dataset.data, metadata={"record": record.id, "record_title": record.title,
                                                            "instrument": record.instrument, "name": dataset.name})
            out[entry_name(record.id, dataset.id)] = reader
    return out
