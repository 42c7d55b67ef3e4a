"""NexusLIMS Hub: electron-microscopy sessions and files turned into searchable records."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``nexuslims_kernel.open_catalog`` without importing the catalog (httpx, intake) for every CLI command."""
    if name == "open_catalog":
        from nexuslims_kernel.catalog import open_catalog

        return open_catalog
    raise AttributeError(f"module 'nexuslims_kernel' has no attribute {name!r}")
