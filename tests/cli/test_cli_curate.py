"""`nxhub records curate|versions|publish` and curated exports: the API's rules from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apikit import add_record  # the API tests' record world

from nexuslims_kernel.db.directory import add_instrument, add_person


@pytest.fixture
def public_record(db, settings, tmp_path: Path) -> tuple[int, int]:
    """(record id, dataset id) of alice's public record."""
    store, previews = tmp_path / "store", Path(settings.previews_path)
    previews.mkdir(parents=True, exist_ok=True)
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan", filestore_root=str(store))
        alice = add_person(sess, "alice")
        add_person(sess, "carol")
        rec, ds = add_record(sess, inst, "public", alice, None, store, previews)
        return rec.id, ds.id


def test_curate_from_the_cli_makes_versions_and_exports_follow(nxhub, public_record, tmp_path: Path) -> None:
    rid, did = public_record
    code, out, err = nxhub("records", "curate", str(rid), "--title", "From the CLI", "--keyword", "gold", "--feature", str(did))
    assert code == 0 and "version 1" in out, err
    code, _, err = nxhub("records", "curate", str(rid), "--rating", "4")  # as admin: only the owner rates
    assert code != 0 and "only the record's owner rates it" in err
    code, out, err = nxhub("records", "curate", str(rid), "--rating", "4", "--as", "alice")
    assert code == 0 and "version 2" in out, err
    code, _, err = nxhub("records", "curate", str(rid), "--title", "mine", "--as", "carol")
    assert code != 0 and "only the owner or an admin" in err
    code, _, err = nxhub("records", "curate", str(rid), "--rating", "7", "--as", "alice")
    assert code != 0 and "rating must be a whole number from 1 to 5" in err
    code, out, _ = nxhub("--json", "records", "versions", str(rid))
    items = json.loads(out)["items"]
    assert [v["version"] for v in items] == [2, 1] and items[1]["created_by"] == "nxhub-cli" and items[0]["created_by"] == "alice"
    code, out, _ = nxhub("records", "curate", str(rid), "--hide", str(did))
    assert code == 0
    code, out, _ = nxhub("--json", "records", "show", str(rid))
    shown = json.loads(out)
    assert shown["title"] == "From the CLI" and shown["n_datasets"] == 0
    target = tmp_path / "r.xml"
    code, _, err = nxhub("export", str(rid), "-f", "xml", "-o", str(target))
    assert code == 0, err
    xml = target.read_text()
    assert "From the CLI" in xml and "image_public" not in xml
    code, _, err = nxhub("records", "publish", str(rid))
    assert code != 0 and "DataCite is not configured" in err
