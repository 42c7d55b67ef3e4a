"""Where the tests' screenshots go, and what the README's pictures show.

``make test`` must leave the tree clean, so every picture lands in one temporary folder
per test process. ``make screenshots`` sets ``NXHUB_SCREENSHOTS_DIR`` (docs/screenshots):
then the pictures the README shows (named in README.md, or already in that folder) are
written there, and ``facts.json`` beside them keeps the texts each one shows, so a test
can tell when the current pages no longer say what a committed picture says.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "screenshots"
FACTS = DOCS / "facts.json"
ENV = "NXHUB_SCREENSHOTS_DIR"


@functools.cache
def scratch() -> Path:
    """This process's temporary folder for pictures and server logs (kept after the run for a look)."""
    return Path(tempfile.mkdtemp(prefix="nxhub-screenshots-"))


def readme_dir() -> Path | None:
    target = os.environ.get(ENV)
    return Path(target).resolve() if target else None


@functools.cache
def readme_pictures() -> frozenset[str]:
    return frozenset(re.findall(r"docs/screenshots/([\w.-]+)\.png", (REPO / "README.md").read_text()))


def path_for(name: str) -> Path:
    """The file for picture ``name``: the README's folder under ``make screenshots`` when the README uses it, else scratch."""
    target = readme_dir()
    if target and (name in readme_pictures() or (target / f"{name}.png").exists()):
        target.mkdir(parents=True, exist_ok=True)
        return target / f"{name}.png"
    return scratch() / f"{name}.png"


def keep_facts(name: str, facts: dict) -> None:
    """Under ``make screenshots``, note in facts.json what picture ``name`` (just written there) shows."""
    target = readme_dir()
    if target is None or path_for(name).parent != target:
        return
    path = target / "facts.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known[name] = facts
    path.write_text(json.dumps(known, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def record_facts(page, root: str = ".nx-page") -> dict:
    """What a record page says in words: title, instrument and times, each activity's line, the datasets shown.

    ``root`` is the live page (``.nx-page``) or its first paint (``.nx-prerender``); both say the same.
    """
    def texts(selector: str) -> list[str]:
        return [" ".join(t.split()) for t in page.locator(f"{root} {selector}").all_inner_texts()]

    return {"page": "record", "title": texts(".nx-h1")[0], "subtitle": texts(".nx-sub")[0],
            "activities": texts(".nx-activity-head .nx-setup"), "datasets": texts(".nx-activity .nx-card-title")}
