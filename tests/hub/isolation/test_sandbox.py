"""The sandbox's view of the machine, and an explicit mode that cannot run here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexuslims_kernel.config import load_settings
from nexuslims_kernel.hub.isolation import IsolationError, resolve
from nexuslims_kernel.hub.isolation.sandbox import Sandbox, find_bwrap, software_dirs

REPO = Path(__file__).resolve().parents[3]
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="making OS accounts needs root (CI runs as root)")


def test_an_explicit_mode_that_cannot_run_here_is_a_one_line_error(tmp_path) -> None:
    missing = str(tmp_path / "missing")
    assert find_bwrap(missing) is None  # a path set is the only one tried
    settings = load_settings({"NXHUB_DATA_DIR": str(tmp_path), "NXHUB_HUB_ISOLATION": "sandbox", "NXHUB_HUB_BWRAP": missing})
    with pytest.raises(IsolationError, match="bubblewrap not found") as err:
        resolve(settings)
    assert "\n" not in str(err.value)


def test_the_sandbox_shows_the_software_and_the_home_but_not_the_data_dir(tmp_path) -> None:
    bwrap = find_bwrap()
    if bwrap is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    data = tmp_path / "data"
    home = data / "hub" / "home" / "bob"
    home.mkdir(parents=True)
    (data / "nxhub.db").write_text("secret rows")
    box = Sandbox(bwrap, home, software_dirs(REPO), [data], user_namespace=os.geteuid() != 0)
    become = (65534, 65534, []) if os.geteuid() == 0 else None
    if become:
        os.chown(home, 65534, 65534)
    probe = ("import os,sys;print(os.path.exists(sys.argv[1]), os.access(sys.argv[2], os.W_OK), "
             "len([p for p in os.listdir('/proc') if p.isdigit()]))")
    run = subprocess.run(box.argv([sys.executable, "-c", probe, str(data / "nxhub.db"), str(home)], become=become),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    exists, writable, processes = run.stdout.split()
    assert exists == "False" and writable == "True" and int(processes) <= 3


def test_a_shared_store_inside_a_hidden_data_dir_inside_the_checkout_is_read_only_and_nothing_else_shows(tmp_path) -> None:
    """``make run``'s layout: the data dir inside the checkout, the demo's stores inside the data dir."""
    bwrap = find_bwrap()
    if bwrap is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    checkout = tmp_path / "checkout"
    data = checkout / ".nxhub-data"
    store, home = data / "demo-store" / "Titan", data / "hub" / "home" / "bob"
    for folder in (store, home):
        folder.mkdir(parents=True)
    (data / "nxhub.db").write_text("secret rows")
    (store / "image.dm4").write_text("pixels")
    (checkout / "README.md").write_text("source")
    box = Sandbox(bwrap, home, [*software_dirs(REPO), checkout], [data], [store], user_namespace=os.geteuid() != 0)
    become = None
    if os.geteuid() == 0:
        become = (65534, 65534, [])
        os.chown(home, 65534, 65534)
        for path in (tmp_path, checkout, data, data / "demo-store", store, store / "image.dm4", checkout / "README.md"):
            path.chmod(path.stat().st_mode | 0o005)
    probe = ("import os,sys;a=sys.argv[1:];print(open(a[0]).read(), open(a[1]).read(), os.path.exists(a[2]));"
             "open(a[0],'a')")
    run = subprocess.run(box.argv([sys.executable, "-c", probe, str(store / "image.dm4"), str(checkout / "README.md"),
                                   str(data / "nxhub.db")], become=become), capture_output=True, text=True, timeout=60)
    assert run.stdout.split() == ["pixels", "source", "False"], run.stderr
    assert "Read-only file system" in run.stderr or "Permission denied" in run.stderr  # the store is never writable
