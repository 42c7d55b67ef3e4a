"""The pages as a person sees them: real Voilà, real API, Debian's Chromium. Screenshots: see tests/shotkit.py."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import urllib.parse
import zipfile

import pytest
from browserkit import BIG, XSS_TITLE, shot
from shotkit import FACTS, keep_facts, record_facts

# One Voilà server and one browser for the whole module: keep its tests on one xdist worker (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("pages-browser")
# The live (widget) page; the record page's server-rendered first paint (.nx-prerender) sits before it, hidden once it draws.
LIVE = ".nx-page"
CARD = f"{LIVE} .nx-card"
H1 = f"{LIVE} .nx-h1"


def _titles(page) -> list[str]:
    return page.locator(f"{CARD} .nx-card-title").all_inner_texts()


def _wait_cards(page, predicate, timeout: float = 30_000) -> list[str]:
    page.wait_for_function("() => document.querySelectorAll('.nx-page .nx-card').length > 0 || document.querySelector('.nx-page .nx-empty')",
                           timeout=timeout)
    deadline = page.evaluate("Date.now()") + timeout
    while True:
        titles = _titles(page)
        if predicate(titles) or page.evaluate("Date.now()") > deadline:
            return titles
        page.wait_for_timeout(200)


def test_typing_a_search_narrows_the_list_and_the_url_follows(site, page):
    page.goto(site.pages.url("browse"))
    everything = _wait_cards(page, lambda t: len(t) >= 5)
    assert len(everything) >= 5 and "Tilt series for tomography" in everything
    shot(page, "browse")
    page.locator(".nx-search input").press_sequentially("tomography", delay=30)
    narrowed = _wait_cards(page, lambda t: t == ["Tilt series for tomography"])
    assert narrowed == ["Tilt series for tomography"]
    page.wait_for_function("() => location.search.includes('q=tomography')")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["q"] == ["tomography"]
    status = page.locator(".nx-status").first.inner_text()
    assert re.search(r"\b1\b.*record\b", status), status
    # the bookmarked URL restores the search; a facet narrows further and shows in the URL too
    page.goto(page.url)
    assert _wait_cards(page, lambda t: t == ["Tilt series for tomography"]) == ["Tilt series for tomography"]
    assert page.locator(".nx-search input").input_value() == "tomography"
    page.locator(".nx-search input").fill("")
    _wait_cards(page, lambda t: len(t) >= 5)
    page.locator(".nx-facet-btn", has_text="Demo-SEM").first.click()
    sem_only = _wait_cards(page, lambda t: len(t) < len(everything))
    page.wait_for_function("() => location.search.includes('instrument=Demo-SEM')")
    assert sem_only and set(sem_only) < set(everything)
    shot(page, "browse-facet")


def test_record_page_shows_thumbnails_and_metadata(site, page):
    page.goto(site.pages.url("record", f"id={site.records['demo-01']}"))
    page.wait_for_selector(H1, timeout=60_000)
    assert "FePt nanoparticles" in page.locator(H1).inner_text()
    summary = page.locator(f"{LIVE} .nx-kv").first.inner_text()
    assert "alice" in summary and "Experimenters" in summary
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('.nx-page .nx-card img')];"
                           " return imgs.length >= 3 && imgs.every(i => i.complete && i.naturalWidth > 0); }", timeout=30_000)
    page.locator(CARD).first.click()
    page.wait_for_selector("text=Metadata (normalised)", timeout=30_000)
    panel = page.locator(".nx-panel").last.inner_text()
    assert "kV" in panel and "Acquired" in panel
    page.locator("button", has_text="Show raw vendor metadata").click()
    page.wait_for_selector("details.nx-raw")
    shot(page, "record")
    keep_facts("record", record_facts(page))
    # outside a hub server, "Open in notebook" offers the notebook as a download
    page.get_by_role("button", name="Open in notebook").click()
    link = page.get_by_role("link", name=re.compile(r"Download nxhub-record-\d+\.ipynb"))
    notebook = __import__("json").loads(_download(page, link))
    code = "".join(c["source"] for c in notebook["cells"])
    assert notebook["nbformat"] == 4 and f"cat['{site.records['demo-01']}']" in code and "open_catalog()" in code


def _download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return open(info.value.path(), "rb").read()


def test_each_download_link_delivers_the_files_bytes(site, page):
    rid = site.records["demo-03"]
    page.goto(site.pages.url("record", f"id={rid}"))
    page.wait_for_selector(CARD, timeout=60_000)
    store = site.store("Demo-TEM")
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.rglob("*") if p.is_file()}
    record_zip = zipfile.ZipFile(__import__("io").BytesIO(_download(page, page.get_by_role("link", name="All files (zip)"))))
    names = [n for n in record_zip.namelist() if not n.endswith("/") and "/" in n or n in files]
    data_members = [n for n in record_zip.namelist() if n.rsplit("/", 1)[-1] in files]
    assert data_members, names
    for member in data_members:
        assert hashlib.sha256(record_zip.read(member)).hexdigest() == files[member.rsplit("/", 1)[-1]], member
    act_zip = zipfile.ZipFile(__import__("io").BytesIO(_download(page, page.get_by_role("link", name="Activity zip").first)))
    assert all(hashlib.sha256(act_zip.read(n)).hexdigest() == files[n.rsplit("/", 1)[-1]] for n in act_zip.namelist() if n.rsplit("/", 1)[-1] in files)
    xml = _download(page, page.get_by_role("link", name="Nexus XML"))
    assert xml.lstrip().startswith(b"<?xml") and b"Diffraction" in xml
    eln = zipfile.ZipFile(__import__("io").BytesIO(_download(page, page.get_by_role("link", name=".eln (ELN)"))))
    assert {n.split("/", 1)[0] for n in eln.namelist()} == {f"record-{rid}"}  # one top folder, as ELNs import it
    assert any(n.endswith("/ro-crate-metadata.json") for n in eln.namelist())
    for i in range(page.locator(CARD).count()):
        page.locator(CARD).nth(i).click()
        title = page.locator(CARD).nth(i).locator(".nx-card-title").inner_text()
        page.wait_for_selector(f".nx-panel .nx-section-title:has-text('{title}')", timeout=30_000)
        body = _download(page, page.get_by_role("link", name="Download file"))
        assert hashlib.sha256(body).hexdigest() == files[title], title


def test_markup_in_a_session_title_shows_as_text(site, page):
    page.goto(site.pages.url("browse", "q=hacked"))
    titles = _wait_cards(page, lambda t: len(t) == 1)
    assert titles == [XSS_TITLE]
    page.goto(site.pages.url("record", f"id={site.records['xss']}"))
    page.wait_for_selector(H1, timeout=60_000)
    assert page.locator(H1).inner_text() == XSS_TITLE
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    shot(page, "record-markup-as-text")


def test_a_thousand_dataset_record_pages_its_gallery(site, page):
    page.goto(site.pages.url("record", f"id={site.records['big']}"))
    page.wait_for_selector(CARD, timeout=60_000)
    assert page.locator(CARD).count() == 24
    status = page.locator(f"{LIVE} .nx-activity .nx-status").first
    assert status.inner_text() == f"1–24 of {BIG:,}"
    first_ids = page.locator(CARD).evaluate_all("cs => cs.map(c => c.dataset.id)")
    page.get_by_role("button", name="Next ›").click()
    page.wait_for_function("() => document.querySelector('.nx-page .nx-activity .nx-status').innerText.startsWith('25–48')")
    second_ids = page.locator(CARD).evaluate_all("cs => cs.map(c => c.dataset.id)")
    assert len(second_ids) == 24 and not set(first_ids) & set(second_ids)
    shot(page, "record-1000-datasets")


def test_instrument_dashboard_is_for_admins(site, admin_pages, page):
    page.goto(site.pages.url("instrument"))
    page.wait_for_selector("text=for facility administrators", timeout=60_000)
    page.goto(admin_pages.url("instrument"))
    page.wait_for_selector(".nx-chart", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.nx-chart svg rect.bar, .nx-chart .bargroup rect').length > 0",
                           timeout=30_000)
    assert page.locator(".nx-chart").count() == 4
    assert "COMPLETED" in page.locator(".nx-panel", has_text="Build health").inner_text()
    shot(page, "instruments")


#: The README's pictures of record pages (hub-03 from tests/e2e/test_hub_browser.py); facts.json says what each shows.
RECORD_PICTURES = ("hub-03-record", "record", "record-first-paint")


def test_the_readmes_record_pictures_say_what_the_pages_say_now(site, admin_pages, page):
    """A committed picture is stale when the page it shows now reads differently (a time, a title, a dataset)."""
    from playwright.sync_api import TimeoutError as NotYet

    shown = json.loads(FACTS.read_text()) if FACTS.exists() else {}
    assert set(RECORD_PICTURES) <= set(shown), f"{FACTS} lacks {set(RECORD_PICTURES) - set(shown)}: run `make screenshots`"
    with sqlite3.connect(site.data_dir / "nxhub.db") as conn:
        ids = dict(conn.execute("SELECT title, id FROM records"))
    stale = {}
    for name in RECORD_PICTURES:
        then = shown[name]
        page.goto(admin_pages.url("record", f"id={ids[then['title']]}"))
        page.wait_for_selector(H1, timeout=60_000)
        with contextlib.suppress(NotYet):  # the thumbnails draw after the summary; compare what is there
            page.wait_for_function("n => document.querySelectorAll('.nx-page .nx-activity .nx-card-title').length >= n",
                                   arg=len(then["datasets"]), timeout=30_000)
        now = record_facts(page)
        if now != then:
            stale[name] = {key: (then.get(key), now.get(key)) for key in now if then.get(key) != now.get(key)}
    assert not stale, f"README pictures stale (picture, page now) — run `make screenshots`: {stale}"


def test_preheated_kernels_wait_for_the_request_and_read_its_query(site, page):
    """--preheat: kernels start and import before anyone asks; the record id still comes from the URL."""
    from browserkit import PagesServer

    warm = PagesServer(site.api.base, None, preheat=1)  # no token: public records only
    try:
        page.wait_for_timeout(8000)  # the pool fills
        for key, title in (("demo-01", "FePt nanoparticles"), ("demo-05", "EELS of the carbon support")):
            page.goto(warm.url("record", f"id={site.records[key]}"), timeout=120_000)
            page.wait_for_selector(H1, timeout=120_000)
            assert title in page.locator(H1).inner_text()
        page.goto(warm.url("record", f"id={site.records['xss']}"), timeout=120_000)  # bob's private record: not for anonymous
        page.wait_for_selector("text=Record not found, or not yours to see", timeout=120_000)
    finally:
        warm.stop()


def test_record_page_paints_its_summary_and_thumbnails_before_any_script_runs(site, browser):
    """The first paint is in the document itself: with JavaScript off the record is already readable."""
    ctx = browser.new_context(viewport={"width": 1360, "height": 1000}, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(site.pages.url("record", f"id={site.records['demo-01']}"), timeout=120_000)
        first = page.locator(".nx-prerender")
        assert first.locator(".nx-h1").is_visible()
        assert "FePt nanoparticles" in first.locator(".nx-h1").inner_text()
        assert "Alice Archer" in first.locator(".nx-kv").first.inner_text()
        thumbs = first.locator(".nx-card img")
        assert thumbs.count() == 6
        for i in range(thumbs.count()):  # each one really loads: a box with pixels, not a broken-image icon
            thumbs.nth(i).scroll_into_view_if_needed()
            page.wait_for_function("i => { const im = document.querySelectorAll('.nx-prerender .nx-card img')[i];"
                                   " return im.complete && im.naturalWidth > 0; }", arg=i, timeout=30_000)
        links = {a.inner_text(): a.get_attribute("href") for a in first.locator(".nx-downloads a").all()}
        assert set(links) == {"All files (zip)", "Nexus XML", "JSON", "RO-Crate", ".eln (ELN)"}
        answer = page.request.get(site.pages.base + links["JSON"])
        assert answer.ok and "FePt nanoparticles" in answer.text()
        shot(page, "record-first-paint")
        keep_facts("record-first-paint", record_facts(page, ".nx-prerender"))
    finally:
        ctx.close()


def test_first_paint_escapes_markup_and_gives_way_to_the_live_page(site, page):
    held = []
    page.route("**/voila/static/voila.js", lambda route: held.append(route))  # hold Voilà's scripts: only the first paint shows
    page.goto(site.pages.url("record", f"id={site.records['xss']}"), wait_until="commit", timeout=120_000)
    page.wait_for_selector(".nx-prerender .nx-h1", timeout=60_000)
    assert page.locator(".nx-prerender .nx-h1").inner_text() == XSS_TITLE
    assert page.locator('img[src="x"]').count() == 0 and page.evaluate("window.__pwned") is None
    page.wait_for_function("() => document.querySelectorAll('.nx-prerender img').length > 0")
    for route in held:
        route.continue_()
    page.unroute("**/voila/static/voila.js")
    page.wait_for_selector(H1, timeout=60_000)
    page.wait_for_timeout(300)
    visible = page.evaluate("() => [...document.querySelectorAll('.nx-h1')].filter(e => e.offsetParent !== null).length")
    assert visible == 1 and page.locator(".nx-prerender").first.is_hidden()
    assert page.locator(H1).inner_text() == XSS_TITLE and page.evaluate("window.__pwned") is None
