"""NexusLIMS Hub Logger: start and end microscope sessions, never losing an event.

The headless part (journal, hub client, sender, CLI) uses the standard library
only, so it also ships as one zipapp; the window (``nxhub_logger.gui``) adds PySide6.
"""

__version__ = "0.1.0"
