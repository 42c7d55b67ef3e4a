"""The hub in a real browser: ``nxhub up`` (JupyterHub, proxy, API, spawned servers) driven in Debian's Chromium.

alice signs in, browses exactly the records she may see, opens her private record,
sends it to a notebook that runs in her own server and loads the signal; bob then
tries to reach that record by page URL, API call and catalog, and cannot. Each step
leaves a screenshot; ``make screenshots`` puts them in docs/screenshots/ for the README.
"""

from __future__ import annotations

import sqlite3
import time

import psutil
import pytest
from hubkit import UpProcess, launch_chromium, screenshot
from shotkit import keep_facts, record_facts

playwright_api = pytest.importorskip("playwright.sync_api")

VISIBLE_SQL = """
SELECT r.id FROM records r LEFT JOIN people o ON o.id = r.owner_id
WHERE o.username = :u OR r.is_public = 1
   OR r.group_id IN (SELECT m.group_id FROM memberships m JOIN people p ON p.id = m.person_id WHERE p.username = :u)
"""
PRIVATE_SQL = ("SELECT r.id FROM records r JOIN people o ON o.id = r.owner_id "
               "WHERE o.username = :u AND r.group_id IS NULL AND r.is_public = 0 ORDER BY r.id")
PUBLIC_SQL = "SELECT id FROM records WHERE is_public = 1 AND :u = :u"
SLOW = 180_000  # ms: a first spawn plus HyperSpy's imports on a busy two-core machine


def _db_ids(up: UpProcess, sql: str, username: str) -> list[int]:
    with sqlite3.connect(up.data_dir / "nxhub.db") as conn:
        return sorted(row[0] for row in conn.execute(sql, {"u": username}))


def _sign_in(page, up: UpProcess, username: str) -> None:
    page.goto(f"{up.base}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", up.logins()[username])
    page.click("#login_submit")
    page.wait_for_url("**/hub/home")


def _browse(page) -> list[int]:
    """From the hub's home page: Browse records (spawning the server if needed); the record ids listed."""
    page.click("#nxhub-browse")
    page.wait_for_selector("a[href*='record.ipynb?id=']", timeout=SLOW)
    page.wait_for_load_state("networkidle")
    hrefs = [a.get_attribute("href") for a in page.query_selector_all("a[href*='record.ipynb?id=']")]
    return sorted({int(h.rsplit("=", 1)[1]) for h in hrefs})


def _server_token(username: str) -> tuple[str, str]:
    """The API URL and hub token a user's server (and so its notebooks' catalog) holds."""
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "singleuser" in cmd:  # jupyterhub-singleuser, or nexuslims_kernel.hub.launch singleuser
            env = proc.environ()
            if env.get("JUPYTERHUB_USER") == username:
                return env["NXHUB_API_URL"], env["JUPYTERHUB_API_TOKEN"]
    raise AssertionError(f"no server running for {username}")


def _run_notebook(lab) -> None:
    """Run All Cells in JupyterLab and wait for the last cell's HyperSpy signal; no error on the way."""
    lab.wait_for_selector(".jp-Notebook", timeout=SLOW)
    lab.wait_for_function("() => document.body.textContent.includes('Python 3 (ipykernel) | Idle')", timeout=SLOW)
    lab.get_by_text("Run", exact=True).first.click()
    lab.get_by_text("Run All Cells", exact=True).click()
    lab.wait_for_function(
        "() => { const cells = document.querySelectorAll('.jp-CodeCell');"
        " return cells.length && /Signal/.test(cells[cells.length - 1].querySelector('.jp-OutputArea')?.textContent || ''); }",
        timeout=SLOW)
    outputs = " ".join(e.text_content() for e in lab.query_selector_all(".jp-OutputArea-output"))
    assert "Traceback" not in outputs, outputs[:2000]


@pytest.mark.slow
def test_signed_in_people_browse_open_and_analyse_only_what_they_may(tmp_path) -> None:
    up = UpProcess(tmp_path, extra_env={"NXHUB_HUB_PUBLIC_BROWSE": "1"})
    try:
        up.wait_for(r"Ctrl-C stops everything")
        private = _db_ids(up, PRIVATE_SQL, "alice")
        assert private, "the demo facility should give alice a private record"
        target = private[0]
        with playwright_api.sync_playwright() as pw:
            browser = launch_chromium(pw)
            alice = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
            _sign_in(alice, up, "alice")
            screenshot(alice, "hub-01-home")
            assert alice.is_visible("#nxhub-browse") and alice.is_visible("#nxhub-sessions") and alice.is_visible("#nxhub-lab")

            assert _browse(alice) == _db_ids(up, VISIBLE_SQL, "alice")
            assert "/user/alice/voila/render/" in alice.url
            screenshot(alice, "hub-02-browse")

            alice.click(f"a[href='record.ipynb?id={target}']")
            alice.get_by_role("button", name="Open in notebook").wait_for(timeout=SLOW)
            screenshot(alice, "hub-03-record")
            keep_facts("hub-03-record", record_facts(alice))
            alice.get_by_role("button", name="Open in notebook").click()
            link = alice.wait_for_selector("a:has-text('in JupyterLab')", timeout=60_000)
            with alice.context.expect_page() as opened:
                link.click()
            lab = opened.value
            lab.set_viewport_size({"width": 1280, "height": 860})
            try:
                _run_notebook(lab)
            except Exception:
                lab.screenshot(path=str(tmp_path / "notebook-failed.png"))
                raise
            lab.locator(".jp-OutputArea-output").last.scroll_into_view_if_needed()
            time.sleep(1)
            screenshot(lab, "hub-04-notebook")

            # bob: not in alice's records, not by the page URL, the API or the catalog.
            bob = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
            _sign_in(bob, up, "bob")
            seen_by_bob = _browse(bob)
            assert seen_by_bob == _db_ids(up, VISIBLE_SQL, "bob") and target not in seen_by_bob
            bob.goto(f"{up.base}/user/bob/voila/render/nxhub-pages/record.ipynb?id={target}")
            bob.wait_for_selector(".nx-empty, .nx-error", timeout=SLOW)
            assert bob.get_by_role("button", name="Open in notebook").count() == 0
            screenshot(bob, "hub-05-bob-denied")
            denied = bob.goto(f"{up.base}/user/alice/lab")
            assert "/user/alice/lab" not in bob.url or denied.status == 403
            # Not signed in at all: the shared, credential-less Voilà service shows public records only.
            anonymous = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
            anonymous.goto(f"{up.base}/services/nxhub-public/voila/render/browse.ipynb")
            anonymous.wait_for_selector("a[href*='record.ipynb?id=']", timeout=SLOW)
            listed = sorted({int(a.get_attribute("href").rsplit("=", 1)[1])
                             for a in anonymous.query_selector_all("a[href*='record.ipynb?id=']")})
            assert listed == _db_ids(up, PUBLIC_SQL, "") and target not in listed
            screenshot(anonymous, "hub-06-public-browse")

            me = bob.request.get(f"{up.base}/services/nxhub-api/api/v1/me").json()
            assert me["username"] == "bob"
            assert bob.request.get(f"{up.base}/services/nxhub-api/api/v1/records/{target}").status == 404
            browser.close()

        from nexuslims_kernel.catalog import open_catalog

        api, token = _server_token("bob")
        catalog = open_catalog(url=api, token=token)
        with pytest.raises(KeyError):
            catalog[str(target)]
        api, token = _server_token("alice")
        assert open_catalog(url=api, token=token)[str(target)] is not None
    finally:
        code, leftovers = up.stop()
    assert code == 0 and not leftovers, leftovers
