"""Hub users are nxhub people: a sign-in maps to a person by username.

nxhub is the source of truth for groups and admin rights: each sign-in copies
the person's groups into the hub (``Authenticator.manage_groups``) and makes
nxhub admins hub admins; hub admins are admins in the API already (see
``api.auth.HubAuthenticator``). A hub user with no person is created as one on
first sign-in when ``hub.create_people`` allows, else refused with a clear page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import USERNAME_RE, add_person
from nexuslims_kernel.db.models import Person


class NotAPerson(Exception):
    """The hub user is not an nxhub person and the site does not create people on sign-in."""


@dataclass(frozen=True)
class Link:
    username: str
    is_admin: bool
    groups: list[str]
    created: bool


def link_person(db: Database, username: str, *, create: bool, display_name: str | None = None,
                email: str | None = None) -> Link:
    """The person behind a hub sign-in (created when allowed), with their groups and admin flag."""
    with db.session(write=create) as sess:
        person = sess.scalar(select(Person).where(Person.username == username))
        created = False
        if person is None:
            if create and not USERNAME_RE.match(username):
                raise NotAPerson(f"{username!r} cannot be an nxhub user name (letters, digits and . _ @ + - only); "
                                 "ask a facility admin to map your account.")
            if not create:
                raise NotAPerson(
                    f"{username!r} signed in, but this facility has no user of that name. "
                    "Ask a facility admin to add you ('nxhub users add " + username + "').")
            # Claims from an identity provider are hints: an address we would refuse is left out, not fatal.
            usable_email = email if email and re.fullmatch(r"[^@\s]+@[^@\s]+", email) else None
            person = add_person(sess, username, display_name=(display_name or None) and display_name[:300], email=usable_email)
            created = True
        return Link(person.username, bool(person.is_admin), sorted(g.name for g in person.groups), created)


def admin_usernames(db: Database) -> set[str]:
    """nxhub admins, who are hub admins from the hub's start."""
    with db.session() as sess:
        return set(sess.scalars(select(Person.username).where(Person.is_admin.is_(True))))
