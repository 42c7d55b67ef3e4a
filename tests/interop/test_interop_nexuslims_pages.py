"""A record imported from NexusLIMS XML, on our record page in Chromium (real API, real Voilà pages)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parents[1] / "pages"))

from apikit import ApiServer
from browserkit import PagesServer, chromium_path, launch
from nexuslims_1x import db_1x_from_published_schema
from nexuslims_xml import dataset, record
from sqlalchemy import select

from nexuslims_kernel.config import load_settings, set_settings
from nexuslims_kernel.db import Database, reset_databases, upgrade
from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.models import Record

pytestmark = pytest.mark.xdist_group("pages-browser")
XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "nexus-experiment.xsd"
S1 = "6b9e0c1e-0000-4000-8000-000000000001"


def test_a_record_imported_from_nexuslims_xml_renders_on_the_record_page(tmp_path):
    if chromium_path() is None:
        pytest.skip("Chromium not found: install Debian's package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from nexuslims_kernel.files.scan import scan
    from nexuslims_kernel.interop.nexuslims_import import import_nexuslims

    data_dir = tmp_path / "hub"
    settings = load_settings(environ={}, overrides={"data_dir": str(data_dir), "database_url": f"sqlite:///{data_dir / 'nxhub.db'}",
                                                    "xsd_path": str(XSD)})
    set_settings(settings)
    db = Database(settings.db_url)
    upgrade(db)
    source = db_1x_from_published_schema(tmp_path / "nexuslims_db.sqlite")
    root = tmp_path / "mmfnexus"
    for name in ("img_1.tif", "eds.msa"):
        (root / "Helios" / "2021/03/01" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "Helios" / "2021/03/01" / name).write_bytes(b"\x00" * 64)
        os.utime(root / "Helios" / "2021/03/01" / name, (1.6e9, 1.6e9))
    records = tmp_path / "records"
    records.mkdir()
    (records / "s1.xml").write_bytes(record("Lamella prep for FePt", S1, "FEI-Helios-DB-636663", "2021-03-01T10:00:00-05:00",
                                            "2021-03-01T12:15:30-05:00", [("2021-03-01T10:05:00-05:00", [
                                                dataset("img_1.tif", "/Helios/2021/03/01/img_1.tif", meta={"Magnification": ("5000", "x")}),
                                                dataset("eds.msa", "/Helios/2021/03/01/eds.msa", dtype="Spectrum")])]))
    import_nexuslims(db, source, data_root=root)
    scan(db, "FEI-Helios-DB-636663", settings)
    report = import_nexuslims(db, source, data_root=root, records=records)
    assert dict(report.records) == {"imported": 1}
    with db.session(write=True) as sess:
        rid = sess.scalar(select(Record.id))
        token = create_api_token(sess, "jat", "interop pages test")  # the NexusLIMS user owns the imported record
    api = ApiServer(settings, db)
    pages = PagesServer(api.base, token)
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            page.goto(pages.url("record", f"id={rid}"))
            page.wait_for_selector(".nx-page .nx-h1", timeout=60_000)
            assert "Lamella prep for FePt" in page.locator(".nx-page .nx-h1").inner_text()
            page.wait_for_function("() => document.querySelectorAll('.nx-page .nx-card').length >= 2", timeout=30_000)
            titles = page.locator(".nx-page .nx-card .nx-card-title").all_inner_texts()
            assert sorted(titles) == ["eds.msa", "img_1.tif"]
            page.locator(".nx-page .nx-card", has_text="img_1.tif").first.click()
            page.wait_for_selector("text=Magnification", timeout=30_000)
            browser.close()
    finally:
        pages.stop()
        api.stop()
        db.dispose()
        set_settings(None)
        reset_databases()
