"""``nxhub doctor``'s checks that need no running hub (the running-hub faults are in tests/e2e/test_up.py)."""

from __future__ import annotations

import dataclasses
import socket

from nexuslims_kernel.hub import doctor


def _by_name(checks):
    return {c.name: c for c in checks}


def test_a_busy_port_is_named_with_the_setting_that_moves_it(settings) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        hub = dataclasses.replace(settings.hub, service_port=port)
        checks = _by_name(doctor.check_ports(dataclasses.replace(settings, hub=hub), running=False))
    bad = checks["port nxhub-api service"]
    assert not bad.ok and f"127.0.0.1:{port} in use" in bad.detail and "NXHUB_HUB_SERVICE_PORT" in bad.fix


def test_data_dir_open_to_everyone_and_a_readable_sign_in_file_fail_with_chmod(settings) -> None:
    settings.data_dir.chmod(0o755)
    (settings.data_dir / "demo-logins.txt").write_text("alice: pw\n")
    (settings.data_dir / "demo-logins.txt").chmod(0o644)
    [check] = doctor.check_data_dir(settings)
    assert not check.ok and check.fix == f"chmod o-rwx {settings.data_dir}"
    settings.data_dir.chmod(0o700)
    checks = _by_name(doctor.check_data_dir(settings))
    assert checks["data dir"].ok and not checks["demo sign-ins file"].ok
    assert checks["demo sign-ins file"].fix.startswith("chmod 600 ")


def test_missing_proxy_and_node_say_how_to_install_them(monkeypatch) -> None:
    monkeypatch.setattr(doctor, "proxy_binary", lambda: None)
    [proxy] = doctor.check_proxy_binary()
    assert not proxy.ok and "npm ci" in proxy.fix
    monkeypatch.setenv("PATH", "/nonexistent")
    [node] = doctor.check_node()
    assert not node.ok and "nodejs" in node.fix


def test_a_stopped_hub_is_one_failure_telling_to_start_it(settings, db) -> None:
    hub = dataclasses.replace(settings.hub, api_port=1)  # nothing answers there
    checks = doctor.run_checks(dataclasses.replace(settings, hub=hub))
    failed = [c for c in checks if not c.ok]
    assert [c.name for c in failed if c.name == "hub"] == ["hub"] and failed[-1].fix == "start it: nxhub up"
    assert _by_name(checks)["schema revision"].ok
