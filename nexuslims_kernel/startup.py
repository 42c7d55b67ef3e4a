"""Start-up costs every ``nxhub`` process avoids.

jsonschema imports ``rfc3987_syntax``, when installed (Jupyter pulls it in), for the
``iri`` format check; it compiles a Lark grammar at import: about 1 s of CPU on a quiet
core, 3-6 s on busy ones, in every API process, hub, user server and Voilà. None of our
schemas (nor Jupyter's event schemas) use ``iri``, so nothing is lost by not loading it;
``benchmarks/bench_pages.py`` measures the difference.
"""

from __future__ import annotations

import sys


def skip_slow_iri_check() -> None:
    """Keep ``rfc3987_syntax`` from loading in this process (call before jsonschema is imported)."""
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import now raises ImportError
