"""The instrument dashboard (administrators)."""

from __future__ import annotations

from typing import Any


def show(catalog: Any = None) -> None:
    import ipywidgets as W
    from IPython.display import display

    display(W.HTML("Instrument dashboard: coming soon."))
