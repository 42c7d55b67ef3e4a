"""Admin endpoints: one user by name, and file stores only inside the allowed roots (API and CLI alike)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from apikit import ApiServer

from nexuslims_kernel.config import set_settings

NXHUB = [sys.executable, "-c", "from nexuslims_kernel.cli.main import main; main()"]


def test_get_one_user_or_instrument(api_server, world) -> None:
    with api_server.client(world.tokens["admin"]) as admin:
        alice = admin.get("/admin/users/alice")
        assert alice.status_code == 200 and alice.json()["username"] == "alice" and alice.json()["groups"] == ["lab"]
        assert "items" not in alice.json()
        missing = admin.get("/admin/users/nobody")
        assert missing.status_code == 404 and "nobody" in missing.json()["error"]["message"]
        assert admin.get("/admin/instruments/titan").json()["name"] == "titan"
        assert admin.get("/admin/instruments/nope").status_code == 404
    with api_server.client(world.tokens["owner"]) as owner:
        assert owner.get("/admin/users/alice").status_code == 403


def test_file_stores_only_inside_allowed_roots(settings, db, world, tmp_path) -> None:
    allowed = tmp_path / "stores"
    (allowed / "titan").mkdir(parents=True)
    strict = dataclasses.replace(settings, files=dataclasses.replace(settings.files, allowed_roots=(allowed,)))
    set_settings(strict)
    (tmp_path / "link").symlink_to("/etc")
    server = ApiServer(strict, db)
    try:
        with server.client(world.tokens["admin"]) as admin:
            for bad in ("/", "/etc", str(world.store), str(allowed) + "/../secret", str(tmp_path / "link")):
                for resp in (admin.patch("/admin/instruments/titan", json={"filestore_root": bad}),
                             admin.post("/admin/instruments", json={"name": "krios", "filestore_root": bad})):
                    assert resp.status_code == 400, (bad, resp.text)
                    assert "files.allowed_roots" in resp.json()["error"]["message"]
            ok = admin.patch("/admin/instruments/titan", json={"filestore_root": str(allowed / "titan")})
            assert ok.status_code == 200 and ok.json()["filestore_root"] == str(allowed / "titan")
    finally:
        server.stop()


def test_cli_refuses_a_file_store_outside_the_allowed_roots(env_for_cli, db, tmp_path) -> None:
    env = {**env_for_cli, "NXHUB_FILES_ALLOWED_ROOTS": str(tmp_path / "stores")}
    (tmp_path / "stores" / "a").mkdir(parents=True)
    bad = subprocess.run([*NXHUB, "instruments", "add", "titan", "--filestore", "/"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not inside an allowed folder" in bad.stderr and "Traceback" not in bad.stderr
    good = subprocess.run([*NXHUB, "instruments", "add", "titan", "--filestore", str(tmp_path / "stores" / "a")], env=env,
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    edit = subprocess.run([*NXHUB, "instruments", "edit", "titan", "--filestore", "/etc"], env=env, capture_output=True, text=True)
    assert edit.returncode == 2 and "files.allowed_roots" in edit.stderr
