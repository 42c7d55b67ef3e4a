"""The Logger window (PySide6): large, clear, usable with gloves, one instance per machine."""
