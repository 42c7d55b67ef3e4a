"""`nxhub records list|show` (the API's filters and access rules) and `record_id` in a session's JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apikit import KINDS, add_record  # the API tests' record world

from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, set_membership


@pytest.fixture
def records(db, settings, tmp_path: Path) -> dict[str, tuple[int, int]]:
    """kind -> (record id, session id): alice's private, group, public and embargoed records."""
    store, previews = tmp_path / "store", Path(settings.previews_path)
    previews.mkdir(parents=True, exist_ok=True)
    out = {}
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan", filestore_root=str(store))
        alice = add_person(sess, "alice")
        add_person(sess, "bob")
        add_person(sess, "carol")
        lab = add_group(sess, "lab")
        set_membership(sess, "lab", "alice", True)
        set_membership(sess, "lab", "bob", True)
        for kind in KINDS:
            rec, _ = add_record(sess, inst, kind, alice, lab if kind == "group" else None, store, previews)
            out[kind] = (rec.id, rec.session_id)
    return out


def _ids(nxhub, *args: str) -> list[int]:
    code, out, err = nxhub("--json", "records", "list", *args)
    assert code == 0, err
    return [item["id"] for item in json.loads(out)["items"]]


def test_records_list_filters_and_access_like_the_api(nxhub, records) -> None:
    rid = {kind: ids[0] for kind, ids in records.items()}
    newest_first = [rid[k] for k in reversed(KINDS)]
    assert _ids(nxhub) == newest_first  # the CLI sees everything, as an administrator
    assert _ids(nxhub, "--as", "carol") == [rid["public"]]  # not the embargoed one, not alice's group's
    assert _ids(nxhub, "--as", "bob") == [rid["public"], rid["group"]]
    assert _ids(nxhub, "-q", "zebrapublic") == [rid["public"]]
    assert _ids(nxhub, "--instrument", "titan", "--from", "2026-01-07", "--sort", "start") == [rid["public"],
                                                                                            rid["embargoed"]]
    assert _ids(nxhub, "--user", "bob") == []

    code, out, _ = nxhub("--json", "records", "list", "--limit", "3")
    first = json.loads(out)
    assert len(first["items"]) == 3 and first["next_cursor"]
    assert _ids(nxhub, "--limit", "3", "--cursor", first["next_cursor"]) == newest_first[3:]

    code, out, _ = nxhub("records", "list", "-q", "zebrapublic")
    assert code == 0 and "Session zebrapublic microscopy" in out and "public" in out


def test_records_show_and_errors(nxhub, records) -> None:
    private, session_id = records["private"]
    code, out, _ = nxhub("--json", "records", "show", str(private))
    data = json.loads(out)
    assert code == 0 and data["id"] == private and data["activities"][0]["datasets"][0]["relpath"] == "private/image_private.dm3"
    code, out, _ = nxhub("records", "show", str(private))
    assert code == 0 and "private/image_private.dm3" in out and "Datasets by activity" in out
    code, _, err = nxhub("records", "show", str(private), "--as", "carol")
    assert code == 4 and f"record {private} not found" in err  # hidden records look missing
    code, _, err = nxhub("records", "list", "--as", "nobody")
    assert code == 4 and "no user named 'nobody'" in err
    code, _, err = nxhub("records", "list", "--from", "yesterday")
    assert code == 2 and "--from 'yesterday'" in err


def test_session_json_names_its_record(nxhub, records) -> None:
    record_id, session_id = records["group"]
    code, out, _ = nxhub("--json", "sessions", "show", str(session_id))
    assert code == 0 and json.loads(out)["record_id"] == record_id
    code, out, _ = nxhub("--json", "sessions", "list")
    assert {row["id"]: row["record_id"] for row in json.loads(out)} == {s: r for r, s in records.values()}
