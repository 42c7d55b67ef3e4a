"""The landing page in headless Chromium with JavaScript off: everything a visitor needs is there."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browserkit import chromium_path, launch  # Debian's Chromium through Playwright
from shotkit import keep_facts, path_for

from nexuslims_kernel.db.models import Dataset

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="needs Chromium")


def _real_preview(db, settings, did: int) -> None:
    """A picture worth looking at instead of the world's placeholder bytes."""
    with db.session() as sess:
        rel = sess.scalar(select(Dataset.preview_path).where(Dataset.id == did))
    img = Image.new("L", (256, 256), 30)
    draw = ImageDraw.Draw(img)
    for i, (x, y) in enumerate([(60, 70), (150, 90), (110, 170), (190, 190), (40, 200)]):
        draw.ellipse((x - 18 - i, y - 18 - i, x + 18 + i, y + 18 + i), fill=220)
    img.save(Path(settings.previews_path) / rel, format="PNG")


def test_the_landing_page_works_without_javascript(api_server, world, db, settings) -> None:
    from playwright.sync_api import sync_playwright

    rid, did = world.records["public"], world.datasets["public"]
    _real_preview(db, settings, did)
    with api_server.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={
            "title": "Gold nanoparticles on amorphous carbon",
            "description": "Citrate-capped **Au** particles, 200 kV bright field.\n\n- 5 areas\n- tilt series <script>x</script>",
            "keywords": ["gold", "nanoparticles", "TEM"], "rating": 4,
            "datasets": {str(did): {"featured": True, "caption": "Overview of area 1"}}})
    url = api_server.base.removesuffix("/api/v1") + f"/records/{rid}"
    with sync_playwright() as pw:
        browser = launch(pw)
        context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        resp = page.goto(url)
        assert resp.status == 200
        assert page.locator("h1").inner_text() == "Gold nanoparticles on amorphous carbon"
        assert page.locator(".description strong").inner_text() == "Au"
        assert page.locator(".kw").all_inner_texts() == ["gold", "nanoparticles", "TEM"]
        assert "Overview of area 1" in page.locator(".ds.featured").inner_text()
        assert page.locator(".ds img").evaluate("img => img.naturalWidth") == 256  # the preview loads (same origin)
        ld = json.loads(page.locator('script[type="application/ld+json"]').text_content())
        assert ld["@type"] == "Dataset" and ld["name"] == "Gold nanoparticles on amorphous carbon"
        assert errors == []
        path = path_for("publish-landing")
        page.screenshot(path=str(path), full_page=True)
        keep_facts("publish-landing", {"page": "landing", "title": ld["name"], "keywords": ld["keywords"]})
        browser.close()
    assert path.stat().st_size > 10_000
    anon = api_server.base.removesuffix("/api/v1") + f"/records/{world.records['private']}"
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(java_script_enabled=False)
        assert page.goto(anon).status == 404
        browser.close()
