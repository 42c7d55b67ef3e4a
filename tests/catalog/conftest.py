"""Catalog fixtures: the real API on loopback over records whose files are the real EM corpus."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from apikit import ApiServer
from catalogkit import EELS, EMI, SECRET, SER, STEM, Spec, add_record

from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, set_membership


@dataclasses.dataclass
class CatalogWorld:
    api: ApiServer
    tokens: dict[str, str]
    records: dict[str, int]
    corpus: Path


@pytest.fixture
def catalog_world(settings, db, corpus_dir):
    from nexuslims_kernel.config import set_settings

    # The corpus lies outside the default file-store roots (files.allowed_roots): allow it, as an admin would.
    settings = dataclasses.replace(settings, files=dataclasses.replace(settings.files, allowed_roots=(corpus_dir, settings.data_dir)))
    set_settings(settings)
    previews = Path(settings.previews_path)
    previews.mkdir(parents=True, exist_ok=True)
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan", filestore_root=str(corpus_dir))
        alice, bob, carol = (add_person(sess, n) for n in ("alice", "bob", "carol"))
        add_group(sess, "lab")
        set_membership(sess, "lab", "alice", True)
        tokens = {p.username: create_api_token(sess, p.username, "t") for p in (alice, bob, carol)}
        t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        records = {
            "alice": add_record(sess, inst, alice, corpus_dir, previews, [
                [Spec(STEM), Spec(EMI, companions=(SER,), fmt="emi")], [Spec(EELS, dataset_type="Spectrum", shape=(2048,))]],
                title="Pt lamella tomography", start=t0).id,
            "carol": add_record(sess, inst, carol, corpus_dir, previews, [[Spec(SECRET, dataset_type="Diffraction")]],
                                title="Carol's secret lamella", start=t0 + dt.timedelta(days=1)).id,
            "public": add_record(sess, inst, bob, corpus_dir, previews, [[Spec(STEM)]], title="Open gold nanoparticles",
                                 start=t0 + dt.timedelta(days=2), public=True).id,
        }
    server = ApiServer(settings, db)
    yield CatalogWorld(api=server, tokens=tokens, records=records, corpus=corpus_dir)
    server.stop()
