"""Records → activities → datasets, fetched from the API page by page as they are used."""

from __future__ import annotations

import functools
import os
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexuslims_kernel.catalog import html as h
from nexuslims_kernel.catalog.cache import FileCache
from nexuslims_kernel.catalog.client import ApiClient, CatalogError

if TYPE_CHECKING:  # intake is imported on first read(), not by pages that only browse
    from nexuslims_kernel.catalog.reader import HyperSpyReader, NexusDataset

PAGE = 100
#: search() keyword -> API query parameter
FILTERS = {"instrument": "instrument", "owner": "user", "user": "user", "since": "from", "until": "to",
           "dataset_type": "dataset_type", "format": "format"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


class Context:
    """What every entry of one catalog shares: the client, local store mounts, the file cache."""

    def __init__(self, client: ApiClient, stores: Mapping[str, str] | None = None, cache: FileCache | None = None) -> None:
        self.client, self.stores, self._cache = client, dict(stores or {}), cache

    @property
    def cache(self) -> FileCache:
        if self._cache is None:
            self._cache = FileCache()
        return self._cache


class Dataset:
    """One signal of one data file; ``read()`` gives a HyperSpy signal."""

    def __init__(self, ctx: Context, record: Record, item: dict[str, Any]) -> None:
        self._ctx, self.record, self.item = ctx, record, item
        self.id: int = item["id"]
        self.name: str = item.get("name") or Path(item["relpath"]).name

    def __repr__(self) -> str:
        shape = "×".join(str(n) for n in self.item.get("shape") or [])
        return f"<Dataset {self.id} {self.name!r} {self.item.get('dataset_type')} {shape} ({self.item.get('format')})>"

    @functools.cached_property
    def details(self) -> dict[str, Any]:
        """Normalised and raw metadata (one request, on first use)."""
        return self._ctx.client.get(f"/datasets/{self.id}")

    @property
    def metadata(self) -> dict[str, Any]:
        return self.details.get("metadata") or {}

    @property
    def raw_metadata(self) -> dict[str, Any]:
        return self.details.get("raw_metadata") or {}

    @property
    def data(self) -> NexusDataset:
        """The Intake 2 data description of this dataset."""
        from nexuslims_kernel.catalog.reader import NexusDataset

        return NexusDataset(
            api=self._ctx.client.root, record_id=self.record.id, dataset_id=self.id, relpath=self.item["relpath"],
            signal_index=self.item.get("signal_index") or 0, companions=self.item.get("companions"),
            sha256=self.item.get("sha256"), file_size=self.item.get("file_size"),
            local_root=self._ctx.stores.get(self.record.instrument or ""),
            metadata={"name": self.name, "dataset_type": self.item.get("dataset_type"), "format": self.item.get("format")},
        )

    @property
    def reader(self) -> HyperSpyReader:
        from nexuslims_kernel.catalog.reader import HyperSpyReader

        return HyperSpyReader(self.data)

    def read(self, lazy: bool = True, **kwargs: Any) -> Any:
        """The HyperSpy signal (lazy by default), from the mounted store or the local cache."""
        return self.reader.read(lazy=lazy, cache=self._ctx.cache, client=self._ctx.client, **kwargs)

    def preview(self) -> bytes | None:
        return self._ctx.client.bytes(f"/datasets/{self.id}/preview") if self.item.get("has_preview") else None

    def _repr_html_(self) -> str:
        it = self.item
        rows = [("dataset", self.id), ("type", it.get("dataset_type")), ("format", it.get("format")),
                ("shape", " × ".join(map(str, it.get("shape") or []))), ("acquired", it.get("acquired_at")),
                ("file", it.get("relpath")), ("error", it.get("error"))]
        return h.block(self.name, rows, [h.img(self.preview(), self.name)])


class DatasetList(Sequence):
    """A record's or activity's datasets, fetched in pages of ``PAGE`` as they are indexed."""

    def __init__(self, ctx: Context, record: Record, seq: int | None, total: int) -> None:
        self._ctx, self._record, self._seq, self._total = ctx, record, seq, total
        self._pages: dict[int, list[Dataset]] = {}

    def __len__(self) -> int:
        return self._total

    def page(self, number: int, size: int = PAGE) -> list[Dataset]:
        """Datasets ``number*size`` … one request per page, remembered."""
        key = (number, size)
        if key not in self._pages:
            got = self._ctx.client.get(f"/records/{self._record.id}/datasets", activity=self._seq, offset=number * size, limit=size)
            self._pages[key] = [Dataset(self._ctx, self._record, item) for item in got["items"]]
        return self._pages[key]

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._total))]
        if index < 0:
            index += self._total
        if not 0 <= index < self._total:
            raise IndexError(index)
        return self.page(index // PAGE)[index % PAGE]

    def __iter__(self) -> Iterator[Dataset]:
        for number in range((self._total + PAGE - 1) // PAGE):
            yield from self.page(number)

    def __repr__(self) -> str:
        return f"<{self._total} datasets>"


class Activity:
    """One acquisition activity: a run of datasets with shared set-up."""

    def __init__(self, ctx: Context, record: Record, data: dict[str, Any]) -> None:
        self.record, self.seq, self.start, self.end = record, data["seq"], data.get("start"), data.get("end")
        self.setup: dict[str, Any] = data.get("setup") or {}
        self.datasets = DatasetList(ctx, record, self.seq, data.get("n_datasets", 0))

    def __repr__(self) -> str:
        return f"<Activity {self.seq} of record {self.record.id}: {len(self.datasets)} datasets, {self.start} – {self.end}>"

    def zip_url(self) -> str:
        return f"{self.record.api}/records/{self.record.id}/activities/{self.seq}/zip"


class Record:
    """One record: summary now, outline (activities) and datasets when first used."""

    def __init__(self, ctx: Context, summary: dict[str, Any]) -> None:
        self._ctx = ctx
        self.summary = summary
        self.id: int = summary["id"]
        self.title: str = summary.get("title") or f"Record {self.id}"
        inst = summary.get("instrument")
        self.instrument: str | None = inst.get("name") if isinstance(inst, dict) else inst

    @property
    def api(self) -> str:
        return self._ctx.client.root

    def __repr__(self) -> str:
        return f"<Record {self.id} {self.title!r} {self.instrument} {self.summary.get('start')} ({self.summary.get('n_datasets')} datasets)>"

    @functools.cached_property
    def outline(self) -> dict[str, Any]:
        if "activities" in self.summary:
            return self.summary
        return self._ctx.client.get(f"/records/{self.id}/outline")

    @property
    def header(self) -> dict[str, Any]:
        return self.outline.get("header") or {}

    @functools.cached_property
    def activities(self) -> list[Activity]:
        return [Activity(self._ctx, self, a) for a in self.outline.get("activities", [])]

    @functools.cached_property
    def datasets(self) -> DatasetList:
        """Every dataset of the record, in acquisition order."""
        return DatasetList(self._ctx, self, None, sum(a["n_datasets"] for a in self.outline.get("activities", []))
                           + self.outline.get("loose_datasets", 0))

    def to_json(self) -> dict[str, Any]:
        return self._ctx.client.get(f"/records/{self.id}")

    def to_xml(self) -> str:
        """The Nexus Experiment XML of this record."""
        return self._ctx.client.text(f"/records/{self.id}/export/xml")

    def to_rocrate(self, path: str | os.PathLike) -> Path:
        """Save the record's RO-Crate (metadata, record, thumbnails) as a zip at ``path``."""
        out = Path(path)
        with open(out, "wb") as fh:
            for chunk in self._ctx.client.stream(f"/records/{self.id}/export/rocrate"):
                fh.write(chunk)
        return out

    def _repr_html_(self) -> str:
        s = self.summary
        rows = [("record", self.id), ("instrument", self.instrument), ("owner", s.get("owner") or s.get("access", {}).get("owner")),
                ("start", s.get("start")), ("end", s.get("end")), ("datasets", s.get("n_datasets"))]
        thumbs = [h.img(ds.preview(), ds.name) for ds in self.datasets[:6]]
        return h.block(self.title, rows, thumbs)


class RecordKey(str):
    """A record id as the catalog's keys are (``str``, as Intake's), carrying the record it came with.

    Until the next release it also answers as that record (``for rec in cat: rec.title``), with a
    DeprecationWarning: iterate ``cat.records()`` for records.
    """

    record: Record

    def __new__(cls, record: Record) -> RecordKey:
        key = super().__new__(cls, str(record.id))
        key.record = record
        return key

    def _old_spelling(self) -> Record:
        warnings.warn("iterating a catalog gives record ids (str) now; use 'for record in cat.records()'",
                      DeprecationWarning, stacklevel=3)
        return self.record

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "record":
            raise AttributeError(name)
        return getattr(self._old_spelling(), name)

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title() would shadow Record.title
        return self._old_spelling().title


class RecordCatalog(Mapping):
    """Records you may see, filtered by the API: a Mapping of record id (str) to :class:`Record`.

    ``cat.search("lamella", instrument="Titan")`` narrows it (the API searches); ``len``, ``in``,
    ``cat["42"]``, ``cat.keys()``, ``cat.records()`` (alias ``values()``) and ``cat.items()``
    page through the API lazily; ``cat.to_intake()`` is an Intake 2 catalog of the datasets.
    """

    def __init__(self, ctx: Context, params: dict[str, Any] | None = None, page_size: int = PAGE) -> None:
        self._ctx, self.params, self.page_size = ctx, dict(params or {}), page_size

    @property
    def client(self) -> ApiClient:
        return self._ctx.client

    def search(self, q: str | None = None, *, sort: str | None = None, **filters: Any) -> RecordCatalog:
        """A narrower catalog; the API does the searching (full text ``q`` and facet filters)."""
        params = dict(self.params)
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise TypeError(f"unknown search filter(s) {sorted(unknown)}; use {sorted(FILTERS)}")
        if q:
            params["q"] = " ".join(filter(None, [params.get("q"), q]))
        for name, value in filters.items():
            if value is not None:
                params[FILTERS[name]] = _iso(value)
        if sort:
            params["sort"] = sort
        return RecordCatalog(self._ctx, params, self.page_size)

    def page(self, cursor: str | None = None, limit: int | None = None) -> tuple[list[Record], str | None]:
        got = self.client.get("/records", **self.params, limit=limit or self.page_size, cursor=cursor)
        return [Record(self._ctx, item) for item in got["items"]], got.get("next_cursor")

    def records(self) -> Iterator[Record]:
        """Every record of this search, page by page."""
        cursor = None
        while True:
            records, cursor = self.page(cursor)
            yield from records
            if not cursor:
                return

    def values(self) -> Iterator[Record]:  # type: ignore[override]  # one request per page, not per key
        return self.records()

    def items(self) -> Iterator[tuple[str, Record]]:  # type: ignore[override]
        return ((str(record.id), record) for record in self.records())

    def __iter__(self) -> Iterator[str]:
        return (RecordKey(record) for record in self.records())

    def __len__(self) -> int:
        return self.client.get("/records", **self.params, limit=1, count="true")["total"]

    def facets(self) -> dict[str, Any]:
        """Counts per instrument, owner, dataset type and format for this search."""
        return self.client.get("/records/facets", **self.params)

    def __getitem__(self, key: str) -> Record:
        """The record with id ``key`` ("42"); one you may not see is a KeyError, as one that does not exist."""
        if isinstance(key, slice):
            raise TypeError("a catalog is a mapping of record ids, not a sequence: "
                            "use itertools.islice(cat.records(), ...) or cat.page()")
        if isinstance(key, int) and not isinstance(key, bool):
            warnings.warn(f"record ids are str keys now: use cat[{str(key)!r}]", DeprecationWarning, stacklevel=2)
            key = str(key)
        if not isinstance(key, str) or not key.isdigit():
            raise KeyError(key)
        try:
            return Record(self._ctx, self.client.get(f"/records/{int(key)}/outline"))
        except CatalogError as exc:
            if exc.status == 404:
                raise KeyError(key) from None
            raise

    def __contains__(self, key: object) -> bool:
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not key.isdigit():
            return False
        try:
            self.client.get(f"/records/{int(key)}/outline")
        except CatalogError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def __eq__(self, other: object) -> bool:  # Mapping's would page through both catalogs
        return isinstance(other, RecordCatalog) and (other.client.root, other.params) == (self.client.root, self.params)

    __hash__ = None  # type: ignore[assignment]

    def to_intake(self, limit: int | None = None) -> Any:
        """An Intake 2 ``Catalog`` snapshot of this search's datasets (descriptions only, no token): save it
        with ``to_yaml_file`` and read it with ``intake.from_yaml_file``; each entry reads to a HyperSpy signal."""
        from nexuslims_kernel.catalog.snapshot import snapshot

        return snapshot(self, limit)

    def dataset(self, dataset_id: int) -> Dataset:
        """A dataset by id (404 → KeyError, as for records you may not see)."""
        try:
            item = self.client.get(f"/datasets/{int(dataset_id)}")
        except CatalogError as exc:
            if exc.status == 404:
                raise KeyError(dataset_id) from None
            raise
        record = self[str(item["record_id"])]
        return Dataset(self._ctx, record, item)

    def dataset_of(self, outline: dict[str, Any], item: dict[str, Any]) -> Dataset:
        """A dataset from answers already in hand (a record's outline, the dataset's ``GET /datasets/{id}``): no request."""
        return Dataset(self._ctx, Record(self._ctx, outline), item)

    def __repr__(self) -> str:
        query = urllib.parse.urlencode(self.params)
        return f"<RecordCatalog {self.client.root}{'?' + query if query else ''}>"

    def _repr_html_(self) -> str:
        records, more = self.page(limit=10)
        rows = "".join(f"<tr><td>{r.id}</td><td>{h.esc(r.title)}</td><td>{h.esc(r.instrument)}</td>"
                       f"<td>{h.esc(r.summary.get('owner'))}</td><td>{h.esc(r.summary.get('start'))}</td></tr>" for r in records)
        return (f'<div class="nx-r">{h.STYLE}<div class="t">NexusLIMS records{" (first 10)" if more else ""}</div>'
                f"<table><tr><th>id</th><th>title</th><th>instrument</th><th>owner</th><th>start</th></tr>{rows}</table></div>")
