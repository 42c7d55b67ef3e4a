"""Personal tokens: list, revoke (at once here, within the cache time elsewhere), expiry, last use; never stored in clear."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import inspect, select, text, update

from nexuslims_kernel.db.api_tokens import CACHE_TTL_S, PRINCIPALS, create_api_token, expiry_from
from nexuslims_kernel.db.models.api_tokens import ApiToken
from nexuslims_kernel.errors import InvalidInputError

NXHUB = [sys.executable, "-c", "from nexuslims_kernel.cli.main import main; main()"]


def _cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NXHUB, *args], env=env, capture_output=True, text=True, timeout=120)


def test_me_tokens_lists_and_revokes_only_your_own(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        second = create_api_token(sess, "alice", "laptop", expires_at=expiry_from("90d"))
    with api_server.client(world.tokens["owner"]) as alice, api_server.client(world.tokens["member"]) as bob:
        mine = alice.get("/me/tokens").json()["items"]
        assert [t["name"] for t in mine] == ["test", "laptop"]
        assert mine[0]["expires_at"] is None and dt.datetime.fromisoformat(mine[1]["expires_at"]) > dt.datetime.now(dt.UTC)
        assert mine[0]["last_used_at"] is not None  # this very request used it
        assert not any(world.tokens["owner"] in json.dumps(t) or second in json.dumps(t) for t in mine)
        bobs = bob.get("/me/tokens").json()["items"]
        assert bob.delete(f"/me/tokens/{mine[1]['id']}").status_code == 404  # not his
        resp = alice.delete(f"/me/tokens/{mine[1]['id']}")
        assert resp.status_code == 200 and resp.json() == {"revoked": [mine[1]["id"]]}
        assert httpx.get(f"{api_server.base}/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
        assert alice.delete("/me/tokens").json() == {"revoked": [mine[0]["id"]]}
        assert alice.get("/me").status_code == 401  # the revoking process forgets it at once
        assert bob.get("/me/tokens").json()["items"] == bobs
    with api_server.client() as anon:
        assert anon.get("/me/tokens").status_code == 401
    with api_server.client(world.tokens["instrument"]) as logger:
        assert logger.get("/me/tokens").status_code == 403


def test_expired_tokens_stop_working(api_server, world, db) -> None:
    with api_server.client(world.tokens["member"]) as bob:
        assert bob.get("/me").status_code == 200
        with db.session(write=True) as sess:
            sess.execute(update(ApiToken).where(ApiToken.name == "test").values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        assert bob.get("/me").status_code == 401
    with db.session() as sess, pytest.raises(InvalidInputError):
        create_api_token(sess, "bob", expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
    PRINCIPALS.put("nxh_x", object(), PRINCIPALS.generation(), soon)  # the cache never outlives the token
    time.sleep(0.6)
    assert PRINCIPALS.get("nxh_x") is None


def test_expiry_spellings() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert expiry_from("90d", now) == now + dt.timedelta(days=90)
    assert expiry_from("12h", now) == now + dt.timedelta(hours=12)
    assert expiry_from("2w", now) == now + dt.timedelta(weeks=2)
    assert expiry_from("2027-01-31", now) == dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
    for bad in ("soon", "0d", "-1d", "9999-12-31T23:59:59-01:00", "1e3d"):
        with pytest.raises(InvalidInputError):
            expiry_from(bad, now)


def test_cli_list_revoke_and_another_process_within_the_cache_time(db, env_for_cli) -> None:
    from nexuslims_kernel.db.directory import add_person

    with db.session(write=True) as sess:
        add_person(sess, "alice")
    made = _cli(env_for_cli, "--json", "api", "token", "create", "alice", "--name", "laptop", "--expires", "90d")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*NXHUB, "api", "serve", "--port", str(port), "--processes", "1"], env=env_for_cli,
                              stderr=subprocess.PIPE, text=True)
    url, auth = f"http://127.0.0.1:{port}/api/v1/me", {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(200):
            try:
                me = httpx.get(url, headers=auth, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert me.json()["username"] == "alice"
        listed = json.loads(_cli(env_for_cli, "--json", "api", "token", "list", "alice").stdout)
        assert [(t["username"], t["name"]) for t in listed] == [("alice", "laptop")]
        assert listed[0]["last_used_at"] is not None and listed[0]["expires_at"] is not None
        assert httpx.get(url, headers=auth, timeout=5).status_code == 200  # now cached in the server
        revoked = _cli(env_for_cli, "api", "token", "revoke", str(listed[0]["id"]))
        assert revoked.returncode == 0 and "Revoked 1" in revoked.stderr
        time.sleep(CACHE_TTL_S + 0.2)  # the documented bound for other processes
        assert httpx.get(url, headers=auth, timeout=5).status_code == 401
        assert _cli(env_for_cli, "api", "token", "revoke", str(listed[0]["id"])).returncode == 4
        assert json.loads(_cli(env_for_cli, "--json", "api", "token", "list").stdout) == []
    finally:
        server.terminate()
        server.wait(10)
    _assert_nowhere_in_the_database(db, token)


def _assert_nowhere_in_the_database(db, *secrets: str) -> None:
    with db.session() as sess:
        tables = inspect(sess.get_bind()).get_table_names()
        dump = "\n".join(repr(row) for table in tables for row in sess.execute(text(f'SELECT * FROM "{table}"')))
    assert all(secret not in dump for secret in secrets)
    assert "api_tokens" in tables


def test_no_plaintext_token_in_the_database_or_the_logs(api_server, world, db, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with api_server.client(world.tokens["owner"]) as alice:
        alice.get("/records")
        alice.get("/me/tokens")
    with api_server.client("nxh_wrong-token-value") as wrong:
        assert wrong.get("/me").status_code == 401
    _assert_nowhere_in_the_database(db, *[t for t in world.tokens.values() if t])
    with db.session() as sess:
        hashes = list(sess.scalars(select(ApiToken.token_hash)))
    assert len(hashes) == 4 and all(len(h) == 64 for h in hashes)
    logged = caplog.text
    assert all(t not in logged for t in world.tokens.values() if t) and "nxh_wrong-token-value" not in logged
