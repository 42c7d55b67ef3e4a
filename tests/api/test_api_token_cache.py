"""The token -> principal cache is never stale for changes made in the server's process."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from nexuslims_kernel.db.api_tokens import PRINCIPALS, principal_for_token
from nexuslims_kernel.db.models import Person, memberships
from nexuslims_kernel.db.models.api_tokens import ApiToken


def test_membership_change_and_revocation_apply_at_once(api_server, world, db) -> None:
    group_record = world.records["group"]
    with api_server.client(world.tokens["member"]) as client:
        for _ in range(2):  # the first use also stamps last_used_at (a write, which empties the cache)
            assert client.get(f"/records/{group_record}").status_code == 200
        assert PRINCIPALS.get(world.tokens["member"]) is not None  # cached by that request
        with db.session(write=True) as sess:
            bob = sess.scalar(select(Person).where(Person.username == "bob"))
            sess.execute(delete(memberships).where(memberships.c.person_id == bob.id))
        assert client.get(f"/records/{group_record}").status_code == 404
        assert client.get("/records/facets").json()["total"] == client.get("/records", params={"count": "true"}).json()["total"]
        with db.session(write=True) as sess:
            sess.execute(update(Person).where(Person.username == "bob").values(is_admin=True))
        assert client.get(f"/records/{world.records['private']}").status_code == 200
        with db.session(write=True) as sess:
            sess.execute(delete(ApiToken).where(ApiToken.person_id == bob.id))
        resp = client.get("/records")
        assert resp.status_code == 401
        assert "revoked" in resp.json()["error"]["message"]


def test_one_query_resolves_person_groups_and_instrument_tokens(world, db) -> None:
    with db.session() as sess:
        member = principal_for_token(sess, world.tokens["member"])
        inst = principal_for_token(sess, world.tokens["instrument"])
        assert principal_for_token(sess, "nxh_not-a-token") is None
    assert member is not None and member.kind == "user" and member.username == "bob" and member.group_ids
    assert inst is not None and inst.kind == "instrument" and inst.instrument_name == world.instrument
