"""NexusLIMS Hub: electron-microscopy sessions and files turned into searchable records."""

__version__ = "0.1.0"
