"""`--json` prints pure JSON on stdout: library log lines (rosettasciio, HyperSpy) go to stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexuslims_kernel.extract.companions import split_companions

REPO = Path(__file__).resolve().parents[2]
# Files whose readers log warnings through rosettasciio's own stdout handler.
CHATTY = ["rosettasciio/tia/old/no_AcquireDate.emi", "rosettasciio/velox/Test SI 16x16 ReducedData 215 kx.emd",
          "rosettasciio/hamamatsu/photon_counting.img", "rosettasciio/insitu/protochips_thermal.csv"]
BATCH = 45  # files per `nxhub extract` run: few runs (cheap), several files each (the worker pool path)


def _nxhub(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXHUB_")}
    env.update(NXHUB_DATA_DIR=str(tmp_path / "data"), NXHUB_EXTRACT_TIMEOUT_S="60")
    env.setdefault("PYTHONPATH", str(REPO))
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def _corpus_files(corpus: Path) -> list[str]:
    rels = [line.split("\t", 1)[0] for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:] if line.strip()]
    return [str(corpus / rel) for rel in rels]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", CHATTY)
def test_one_chatty_file_prints_pure_json(corpus_dir: Path, tmp_path: Path, rel: str) -> None:
    proc = _nxhub("extract", str(corpus_dir / rel), "--json", tmp_path=tmp_path)
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    assert [r["path"] for r in json.loads(proc.stdout)] == [str(corpus_dir / rel)]


@pytest.mark.corpus
def test_every_corpus_file_with_json_prints_pure_json(corpus_dir: Path, tmp_path: Path) -> None:
    files = _corpus_files(corpus_dir)
    assert len(files) > 100
    seen: list[str] = []
    for start in range(0, len(files), BATCH):
        batch = files[start:start + BATCH]
        proc = _nxhub("--json", "extract", *batch, "--workers", "2", tmp_path=tmp_path)
        assert proc.returncode in (0, 3), proc.stderr[-2000:]
        results = json.loads(proc.stdout)  # a log line anywhere in stdout makes this fail
        assert [r["path"] for r in results] == list(split_companions(batch))
        seen += [r["path"] for r in results]
    assert set(CHATTY) <= {str(Path(p).relative_to(corpus_dir)) for p in seen}


def test_json_commands_print_only_json(tmp_path: Path) -> None:
    for args in (["--json", "init"], ["--json", "status"], ["--json", "config"], ["--json", "instruments", "list"]):
        proc = _nxhub(*args, tmp_path=tmp_path)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        json.loads(proc.stdout)
