"""The README stays true to the code: every setting is documented, commands exist."""

from __future__ import annotations

from pathlib import Path

from nexuslims_kernel.cli.main import COMMANDS
from nexuslims_kernel.config import settings_table

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [env for _key, env, _default, _doc in settings_table() if f"`{env}`" not in README]
    assert missing == []


def test_documented_commands_exist() -> None:
    used = {line.split()[1] for line in README.splitlines() if line.startswith("nxhub ") and len(line.split()) > 1}
    assert used - set(COMMANDS) == set()


def test_quick_start_says_where_nxhub_is_and_how_to_change_the_port() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "NXHUB_HUB_PORT" in quick_start and "--port" in quick_start
    using = README.split("## Using `nxhub`", 1)[1].split("```", 1)[0]  # said before the first command
    assert ".venv/bin/nxhub" in using and "source .venv/bin/activate" in using
