"""Count normalised fields per corpus file; ``python corpus_field_counts.py OUT.json`` records them.

The JSON fixture ``corpus_field_counts_before.json`` was written with this script from ``main``
before the vendor plugins landed; the corpus test fails if a file now has fewer fields.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SKIP = {"axes", "acquisition_time_source"}


def count_fields(metadata: dict[str, Any]) -> int:
    """Leaf values of the normalised dict; a quantity ``{"value", "unit"}`` or a list counts once."""
    total = 0
    for key, value in metadata.items():
        if key in SKIP or value in (None, "", [], {}):
            continue
        if isinstance(value, dict) and "value" not in value:
            total += count_fields(value)
        else:
            total += 1
    return total


def file_counts(path: Path) -> list[int]:
    from nexuslims_kernel.extract import extract_file

    res = extract_file(path, preview_dir=None, preview_size=64)
    return [count_fields(d.metadata) for d in res.datasets]


def main(out: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import CORPUS, primary_rows

    counts = {row["relpath"]: file_counts(CORPUS / row["relpath"]) for row in primary_rows()}
    Path(out).write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
