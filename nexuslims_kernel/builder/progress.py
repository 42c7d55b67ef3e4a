"""Rich progress bars for ``nxhub build``: files found, extracted, record written per session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self


class BuildProgress:
    """One bar per stage of the session being built; silent when ``enabled`` is False (--json)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Self:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def callback(self, session_id: int) -> Callable[[str, int, int], None] | None:
        if self._progress is None:
            return None
        labels = {"files": "files found", "extracted": "extracted", "record": "record written"}
        tasks = {stage: self._progress.add_task(f"session {session_id}: {label}", total=None)
                 for stage, label in labels.items()}

        def update(stage: str, done: int, total: int) -> None:
            if stage in tasks:
                self._progress.update(tasks[stage], completed=done, total=max(total, 1))

        return update
