"""One small site per test module: the demo facility on SQLite, extra records, the real API and ``nxhub pages serve``.

Browser tests drive Debian's Chromium through Playwright (``executable_path``);
they skip with a message saying how to install it when it is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parents[1] / "catalog"))

from apikit import ApiServer
from browserkit import BIG, XSS_TITLE, PagesServer, chromium_path, launch
from catalogkit import Spec, add_record

from nexuslims_kernel.config import load_settings, set_settings
from nexuslims_kernel.db import Database, reset_databases, upgrade
from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import get_person
from nexuslims_kernel.db.models import Instrument


@dataclasses.dataclass
class Site:
    api: ApiServer
    pages: PagesServer
    data_dir: Path
    records: dict[str, int]
    admin_token: str

    def store(self, instrument: str) -> Path:
        return self.data_dir / "demo-store" / instrument


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if chromium_path() is None:
        pytest.skip("Chromium not found: install Debian's package (apt-get install chromium; `make test` does it as root through tests/prereqs.sh)")
    data_dir = tmp_path_factory.mktemp("site")
    settings = load_settings(environ={}, overrides={"data_dir": str(data_dir), "database_url": f"sqlite:///{data_dir / 'nxhub.db'}"})
    set_settings(settings)
    from nexuslims_kernel.demo import run_demo

    summary = run_demo(settings)
    db = Database(settings.db_url)
    upgrade(db)
    previews = Path(settings.previews_path)
    with db.session(write=True) as sess:
        bob = get_person(sess, "bob")
        tem = sess.query(Instrument).filter_by(name="Demo-TEM").one()
        store = data_dir / "demo-store" / "Demo-TEM"
        some_file = next(p for p in sorted(store.rglob("*")) if p.is_file()).relative_to(store).as_posix()
        t0 = dt.datetime(2025, 3, 9, 9, tzinfo=dt.UTC)
        xss = add_record(sess, tem, bob, store, previews, [[Spec(some_file)]], title=XSS_TITLE, start=t0, search_text="hacked")
        big = add_record(sess, tem, bob, store, previews, [[Spec(some_file) for _ in range(BIG)]], title="Overnight montage, 1,000 tiles",
                         start=t0 + dt.timedelta(days=1), index=False)
        token = create_api_token(sess, "bob", "pages tests")
        from nexuslims_kernel.db.directory import add_person

        add_person(sess, "root", display_name="Facility Admin", is_admin=True)
        admin_token = create_api_token(sess, "root", "pages tests")
        records = {"xss": xss.id, "big": big.id}
    records.update({row["key"]: row["record_id"] for row in summary.sessions if row.get("record_id")})
    api = ApiServer(settings, db)
    pages = PagesServer(api.base, token)
    yield Site(api=api, pages=pages, data_dir=data_dir, records=records, admin_token=admin_token)
    pages.stop()
    api.stop()
    db.dispose()
    set_settings(None)
    reset_databases()


@pytest.fixture(scope="module")
def admin_pages(site):
    """A second pages server, signed in as the facility admin: every record and the instrument dashboard."""
    server = PagesServer(site.api.base, site.admin_token)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def stats_world(settings, db, tmp_path):
    """Two instruments, sessions over three weeks (one failed, its reason holding markup), indexed files; an admin and a user."""
    from catalogkit import index_file

    from nexuslims_kernel.db.directory import add_instrument, add_person
    from nexuslims_kernel.db.models import InstrumentSession

    store = tmp_path / "store"
    store.mkdir()
    with db.session(write=True) as sess:
        titan, quanta = add_instrument(sess, "titan", filestore_root=str(store)), add_instrument(sess, "quanta", filestore_root=str(store))
        add_person(sess, "root", is_admin=True)
        alice = add_person(sess, "alice")
        monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        for week, inst, hours, status, reason in ((0, titan, 2, "COMPLETED", None), (0, quanta, 3, "COMPLETED", None),
                                                   (1, titan, 4, "ERROR", '<b onmouseover="x()">corrupt</b> header'),
                                                   (2, titan, 1, "NO_FILES", "no files in the window")):
            start = monday + dt.timedelta(weeks=week)
            sess.add(InstrumentSession(instrument_id=inst.id, person_id=alice.id, source="manual", start=start,
                                       end=start + dt.timedelta(hours=hours), status=status, status_reason=reason))
            path = store / f"w{week}-{inst.name}.dat"
            path.write_bytes(b"x" * 1000 * (week + 1))
            import os

            os.utime(path, (start.timestamp() + 600, start.timestamp() + 600))
            index_file(sess, inst, store, path.name)
        tokens = {"root": create_api_token(sess, "root"), "alice": create_api_token(sess, "alice")}
    api = ApiServer(settings, db)
    yield api, tokens
    api.stop()
