"""Start JupyterHub or a user's server without jsonschema's slow IRI grammar (seconds per start on 2 cores).

``python -m nexuslims_kernel.hub.launch hub|singleuser ARGS...`` is what ``nxhub up`` and the
spawner run instead of ``jupyterhub`` / ``jupyterhub-singleuser``: the same programs, after
:func:`nexuslims_kernel.startup.skip_slow_iri_check` (Jupyter's event schemas never use ``iri``).
"""

from __future__ import annotations

import sys

from nexuslims_kernel.startup import skip_slow_iri_check


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("hub", "singleuser"):
        sys.exit("usage: python -m nexuslims_kernel.hub.launch hub|singleuser [ARGS...]")
    skip_slow_iri_check()
    which = argv[0]
    sys.argv = [f"jupyterhub{'-singleuser' if which == 'singleuser' else ''}", *argv[1:]]
    if which == "hub":
        from jupyterhub.app import main as run
    else:
        from jupyterhub.singleuser import main as run
    return run() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
