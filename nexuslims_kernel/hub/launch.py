"""Start JupyterHub or a user's server without jsonschema's slow IRI grammar (seconds per start on 2 cores).

``python -m nexuslims_kernel.hub.launch hub|singleuser|voila ARGS...`` is what ``nxhub up``, the
spawner and the public pages service run instead of ``jupyterhub`` / ``jupyterhub-singleuser`` / ``voila``:
the same programs, after
:func:`nexuslims_kernel.startup.skip_slow_iri_check` (Jupyter's event schemas never use ``iri``).
"""

from __future__ import annotations

import sys

from nexuslims_kernel.startup import skip_slow_iri_check

PROGRAMS = {"hub": "jupyterhub", "singleuser": "jupyterhub-singleuser", "voila": "voila"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PROGRAMS:
        sys.exit(f"usage: python -m nexuslims_kernel.hub.launch {'|'.join(PROGRAMS)} [ARGS...]")
    skip_slow_iri_check()
    which = argv[0]
    sys.argv = [PROGRAMS[which], *argv[1:]]
    if which == "hub":
        from jupyterhub.app import main as run
    elif which == "singleuser":
        from jupyterhub.singleuser import main as run
    else:
        from voila.app import main as run
    return run() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
