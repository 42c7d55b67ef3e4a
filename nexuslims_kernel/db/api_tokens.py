"""Issue and resolve bearer tokens: personal API tokens and instrument Logger tokens.

Only sha256 hashes are stored (see :mod:`nexuslims_kernel.db.tokens`); a token
is looked up by its hash with one indexed equality.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Instrument, Person
from nexuslims_kernel.db.models.api_tokens import ApiToken
from nexuslims_kernel.db.tokens import hash_token, new_token
from nexuslims_kernel.errors import NotFoundError

TOUCH_EVERY_S = 300


def create_api_token(sess: Session, username: str, name: str = "") -> str:
    """A new personal token for ``username``; returns the token (shown once)."""
    person = sess.scalar(select(Person).where(Person.username == username))
    if person is None:
        raise NotFoundError(f"no user named {username!r} (see 'nxhub users list')")
    token = new_token()
    sess.add(ApiToken(person_id=person.id, token_hash=hash_token(token), name=name))
    sess.flush()
    return token


def principal_for_token(sess: Session, token: str, *, touch: bool = True) -> Principal | None:
    """The person or instrument a bearer token belongs to, or None if it is unknown."""
    digest = hash_token(token)
    inst = sess.scalar(select(Instrument).where(Instrument.token_hash == digest))
    if inst is not None:
        return Principal.for_instrument(inst)
    row = sess.execute(
        select(ApiToken.id, ApiToken.person_id, ApiToken.last_used_at).where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        return None
    now = utcnow()
    # Write at most every few minutes, so reads do not all take the write lock.
    if touch and (row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_EVERY_S):
        sess.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    person = sess.get(Person, row.person_id)
    return Principal.for_person(sess, person) if person is not None else None
