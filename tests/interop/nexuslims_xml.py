"""NexusLIMS-style record XML (Nexus Experiment documents), written here by hand for the tests.

Shaped like what a NexusLIMS record builder writes (``<id>`` the session identifier, dataset
``<location>`` under the data root with the instrument's folder first, ``<meta>`` with units),
but our own text, not NexusLIMS's files.
"""

from __future__ import annotations

from nexuslims_kernel.records.schema import NS


def dataset(name: str, location: str, dtype: str = "Image", meta: dict[str, tuple[str, str | None]] | None = None) -> str:
    metas = "".join(f'<nx:meta name="{k}"{f" unit={chr(34)}{u}{chr(34)}" if u else ""}>{v}</nx:meta>'
                    for k, (v, u) in (meta or {}).items())
    return (f'<nx:dataset type="{dtype}" role="Experimental"><nx:name>{name}</nx:name>'
            f"<nx:location>{location}</nx:location>{metas}</nx:dataset>")


def record(title: str, ident: str | None, pid: str, start: str, end: str, activities: list[tuple[str, list[str]]],
           sample: str = "FePt-01") -> bytes:
    acts = "".join(f'<nx:acquisitionActivity seqno="{n}"><nx:startTime>{t}</nx:startTime><nx:sampleID>s1</nx:sampleID>'
                   f'<nx:setup><nx:param name="Voltage" unit="kV">5</nx:param></nx:setup>{"".join(ds)}</nx:acquisitionActivity>'
                   for n, (t, ds) in enumerate(activities))
    ident_el = f"<nx:id>{ident}</nx:id>" if ident else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<nx:Experiment xmlns:nx="{NS}">'
            f"<nx:title>{title}</nx:title>{ident_el}<nx:summary><nx:experimenter>Joshua T.</nx:experimenter>"
            f'<nx:instrument pid="{pid}">{pid}</nx:instrument><nx:reservationStart>{start}</nx:reservationStart>'
            f"<nx:reservationEnd>{end}</nx:reservationEnd><nx:motivation>Cut a lamella</nx:motivation></nx:summary>"
            f'<nx:sample id="s1"><nx:name>{sample}</nx:name></nx:sample>{acts}</nx:Experiment>').encode()
