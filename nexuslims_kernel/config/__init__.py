"""One settings object for the whole package (see :mod:`.settings`)."""

from nexuslims_kernel.config.settings import (
    ApiSettings,
    BuildSettings,
    ExtractSettings,
    OpsSettings,
    SessionSettings,
    Settings,
    get_settings,
    load_settings,
    set_settings,
    settings_table,
)

__all__ = [
    "ApiSettings",
    "BuildSettings",
    "ExtractSettings",
    "OpsSettings",
    "SessionSettings",
    "Settings",
    "get_settings",
    "load_settings",
    "set_settings",
    "settings_table",
]
