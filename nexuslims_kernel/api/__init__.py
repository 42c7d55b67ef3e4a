"""The REST API (tornado): Logger events in, records and files out, all through the ACL gate.

``make_app(settings=None, db=None)`` builds the application; ``nxhub api serve``
runs it, standalone or as a JupyterHub service.
"""

from nexuslims_kernel.api.app import make_app, make_server

__all__ = ["make_app", "make_server"]
