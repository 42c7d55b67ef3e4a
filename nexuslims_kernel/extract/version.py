"""The extractor version stored with cached results: when it changes, files are extracted again.

It combines the package version, a revision of this engine's output (bump it when
normalised metadata changes shape or meaning) and rosettasciio's version.
"""

from __future__ import annotations

import importlib.metadata

# 2: vendor field tables, naive times in the instrument's zone, date-only / placeholder times
# 3: the instrument's own zone reaches builds; floats rounded to the precision the file carries
# 4: vendor plugins (Tescan, FEI/Thermo, Zeiss Orion TIFF ...): more normalised fields, metadata of cut files
OUTPUT_REVISION = 4


def _build() -> str:
    from nexuslims_kernel import __version__

    try:
        rsciio = importlib.metadata.version("rosettasciio")
    except importlib.metadata.PackageNotFoundError:
        rsciio = "none"
    return f"{__version__}.x{OUTPUT_REVISION}+rsciio{rsciio}"[:50]


EXTRACTOR_VERSION: str = _build()
