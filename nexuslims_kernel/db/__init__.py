"""Database access: models, engines, migrations (and, with the API, the ACL query layer)."""

from nexuslims_kernel.db.engine import Database, get_database, reset_databases, safe_url
from nexuslims_kernel.db.migrate import current_revision, downgrade, head_revision, require_current, upgrade

__all__ = [
    "Database",
    "current_revision",
    "downgrade",
    "get_database",
    "head_revision",
    "require_current",
    "reset_databases",
    "safe_url",
    "upgrade",
]
