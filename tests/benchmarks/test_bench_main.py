"""`make bench`: the summary counts every FAIL line, and benchmarks/README.md says what runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bench_main():
    spec = importlib.util.spec_from_file_location("bench_main", REPO / "benchmarks" / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_states_exactly_what_make_bench_runs() -> None:
    readme = (REPO / "benchmarks" / "README.md").read_text()
    assert _bench_main().describe() in readme


def test_every_fail_line_is_counted_even_when_a_script_exits_0(tmp_path: Path, capsys) -> None:
    (tmp_path / "ok.py").write_text("print('PASS search p95 50 < 100 ms')\n")
    (tmp_path / "zip.py").write_text("print('FAIL zip 3000 MB/s = 0.80 x the floor (goal >= 0.9)')\n")
    (tmp_path / "api.py").write_text("print('FAIL search p95 150 < 100 ms')\nprint('FAIL facets p95 300 < 200 ms')\n")
    bench = _bench_main()
    runs = [("ok.py", [], []), ("zip.py", [], []), ("api.py", [], [])]
    assert bench.main(runs, tmp_path, quick=False) == 1
    out = capsys.readouterr().out
    assert "FAIL lines: 3" in out and "zip.py: FAIL zip 3000 MB/s" in out and "api.py: FAIL facets" in out
    assert "unmet goals: zip.py (exit 0, 1 FAIL), api.py (exit 0, 2 FAIL)" in out
    assert bench.main(runs[:1], tmp_path, quick=False) == 0
    assert "FAIL lines: 0" in capsys.readouterr().out
