"""Instruments, people, groups and projects: validated create/edit/list.

The CLI and the API's admin endpoints both call these, so a bad time zone or
a duplicate name gets the same one-line error wherever it is typed.
"""

from __future__ import annotations

import os
import re
import time
import zoneinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import get_settings
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Group, Instrument, Person, Project
from nexuslims_kernel.db.tokens import hash_token, new_token
from nexuslims_kernel.errors import AlreadyExistsError, InvalidInputError, NotFoundError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")


def check_name(value: str, what: str, pattern: re.Pattern[str] = NAME_RE) -> str:
    if not pattern.match(value or ""):
        raise InvalidInputError(
            f"{what} {value!r} is not allowed: use letters, digits, '.', '_' or '-' (starting with a letter or digit)"
        )
    return value


def check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or America/New_York") from None
    return value


#: bucket URLs that answered a listing lately: callers check before their write transaction (a network round
#: trip must not hold SQLite's write lock), and the check inside it is then free
_REACHABLE: dict[str, float] = {}
REACHABLE_TTL_S = 30.0


def check_filestore(value: str | None) -> str | None:
    """A folder inside the allowed roots, or a bucket URL whose bucket can be listed now (one-line errors)."""
    if value in (None, ""):
        return None
    from nexuslims_kernel.stores import StoreError, is_store_url, open_store, parse_store_url

    if is_store_url(value):
        url = parse_store_url(value)
        if url.is_object:
            if time.monotonic() - _REACHABLE.get(str(url), -REACHABLE_TTL_S) >= REACHABLE_TTL_S:
                try:
                    open_store(url).check()  # no such bucket, access denied, wrong region: refused before saving
                except StoreError as exc:
                    raise InvalidInputError(f"file store {exc}") from None
                _REACHABLE[str(url)] = time.monotonic()
            return str(url)
        value = url.path
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise InvalidInputError(f"file-store root {value!r} must be an absolute path")
    roots = get_settings().filestore_roots
    real = os.path.realpath(path)
    if not any(os.path.commonpath([real, os.path.realpath(r)]) == os.path.realpath(r) for r in roots):
        raise InvalidInputError(
            f"file-store root {value!r} is not inside an allowed folder ({', '.join(map(str, roots))}); "
            "an administrator can allow more with the setting files.allowed_roots (NXHUB_FILES_ALLOWED_ROOTS)"
        )
    return str(path)


def check_harvester(value: str) -> str:
    """``none``, a built-in kind, or a plug-in registered with :mod:`nexuslims_kernel.calendars.registry`."""
    from nexuslims_kernel.calendars.registry import kinds

    known = ("none", *kinds())
    if value not in known:
        raise InvalidInputError(f"harvester {value!r} is not one of {', '.join(known)}")
    return value


# -- instruments -----------------------------------------------------------


def get_instrument(sess: Session, ref: str | int) -> Instrument:
    """An instrument by name or numeric id."""
    stmt = select(Instrument).where(Instrument.name == str(ref))
    inst = sess.scalar(stmt)
    if inst is None and str(ref).isdigit():
        inst = sess.get(Instrument, int(ref))
    if inst is None:
        raise NotFoundError(f"no instrument named {ref!r} (see 'nxhub instruments list')")
    return inst


def add_instrument(
    sess: Session,
    name: str,
    *,
    timezone: str = "UTC",
    location: str | None = None,
    display_name: str | None = None,
    filestore_root: str | None = None,
    harvester: str = "none",
    harvester_settings: dict[str, Any] | None = None,
) -> Instrument:
    check_name(name, "instrument name")
    if sess.scalar(select(Instrument.id).where(Instrument.name == name)) is not None:
        raise AlreadyExistsError(f"an instrument named {name!r} already exists")
    inst = Instrument(
        name=name,
        timezone=check_timezone(timezone),
        location=location,
        display_name=display_name,
        filestore_root=check_filestore(filestore_root),
        harvester=check_harvester(harvester),
        harvester_settings=harvester_settings or {},
    )
    sess.add(inst)
    sess.flush()
    return inst


EDITABLE_INSTRUMENT_FIELDS = {
    "timezone": check_timezone,
    "location": lambda v: v,
    "display_name": lambda v: v,
    "filestore_root": check_filestore,
    "harvester": check_harvester,
    "harvester_settings": lambda v: dict(v or {}),
}


def edit_instrument(sess: Session, ref: str | int, **changes: Any) -> Instrument:
    inst = get_instrument(sess, ref)
    for key, value in changes.items():
        if key == "name":
            check_name(value, "instrument name")
            other = sess.scalar(select(Instrument.id).where(Instrument.name == value, Instrument.id != inst.id))
            if other is not None:
                raise AlreadyExistsError(f"an instrument named {value!r} already exists")
            inst.name = value
            continue
        if key not in EDITABLE_INSTRUMENT_FIELDS:
            raise InvalidInputError(f"instrument field {key!r} cannot be edited")
        setattr(inst, key, EDITABLE_INSTRUMENT_FIELDS[key](value))
    sess.flush()
    return inst


def issue_instrument_token(sess: Session, ref: str | int) -> str:
    """Replace the instrument's Logger token; returns the new token (shown once)."""
    inst = get_instrument(sess, ref)
    token = new_token()
    inst.token_hash = hash_token(token)
    inst.token_created_at = utcnow()
    sess.flush()
    return token


def instrument_row(inst: Instrument) -> dict[str, Any]:
    return {
        "id": inst.id,
        "name": inst.name,
        "display_name": inst.display_name,
        "location": inst.location,
        "timezone": inst.timezone,
        "filestore_root": inst.filestore_root,
        "harvester": inst.harvester,
        "has_token": inst.token_hash is not None,
    }


# -- people, groups, projects ----------------------------------------------


def get_person(sess: Session, username: str) -> Person:
    person = sess.scalar(select(Person).where(Person.username == username))
    if person is None:
        raise NotFoundError(f"no user named {username!r} (see 'nxhub users list')")
    return person


def add_person(
    sess: Session,
    username: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
    external_ids: dict[str, Any] | None = None,
) -> Person:
    check_name(username, "username", USERNAME_RE)
    if sess.scalar(select(Person.id).where(Person.username == username)) is not None:
        raise AlreadyExistsError(f"a user named {username!r} already exists")
    check_email(email)
    person = Person(username=username, display_name=display_name, email=email, is_admin=is_admin, external_ids=external_ids or {})
    sess.add(person)
    sess.flush()
    return person


def check_email(email: str | None) -> str | None:
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        raise InvalidInputError(f"email {email!r} is not an e-mail address")
    return email


EDITABLE_PERSON_FIELDS = {"display_name", "email", "is_admin"}


def edit_person(sess: Session, username: str, **changes: Any) -> Person:
    """Change a person's name, e-mail or administrator flag (``None`` e-mail clears it)."""
    person = get_person(sess, username)
    unknown = set(changes) - EDITABLE_PERSON_FIELDS
    if unknown:
        raise InvalidInputError(f"user field(s) {', '.join(sorted(unknown))} cannot be edited")
    if "is_admin" in changes and not isinstance(changes["is_admin"], bool):
        raise InvalidInputError("is_admin must be true or false")
    if "email" in changes:
        check_email(changes["email"])
    for key, value in changes.items():
        setattr(person, key, value)
    sess.flush()
    return person


def remove_person(sess: Session, username: str) -> int:
    """Delete the person (memberships and tokens go with them); returns how many records they owned, which stay."""
    from sqlalchemy import update

    from nexuslims_kernel.db.models import Record

    person = get_person(sess, username)
    owned = sess.scalar(select(func.count()).select_from(Record).where(Record.owner_id == person.id)) or 0
    sess.execute(update(Record).where(Record.owner_id == person.id).values(owner_id=None))
    sess.delete(person)
    return owned


def person_row(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "username": person.username,
        "display_name": person.display_name,
        "email": person.email,
        "is_admin": person.is_admin,
        "groups": sorted(g.name for g in person.groups),
        "external_ids": person.external_ids,
    }


def get_group(sess: Session, name: str) -> Group:
    group = sess.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise NotFoundError(f"no group named {name!r} (see 'nxhub groups list')")
    return group


def add_group(sess: Session, name: str, description: str | None = None) -> Group:
    check_name(name, "group name")
    if sess.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise AlreadyExistsError(f"a group named {name!r} already exists")
    group = Group(name=name, description=description)
    sess.add(group)
    sess.flush()
    return group


def set_membership(sess: Session, group_name: str, username: str, member: bool) -> Group:
    group = get_group(sess, group_name)
    person = get_person(sess, username)
    if member and person not in group.members:
        group.members.append(person)
    elif not member:
        if person not in group.members:
            raise NotFoundError(f"user {username!r} is not a member of group {group_name!r}")
        group.members.remove(person)
    sess.flush()
    return group


def group_row(group: Group) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "description": group.description, "members": sorted(p.username for p in group.members)}


def add_project(sess: Session, name: str, *, title: str | None = None, group: str | None = None) -> Project:
    check_name(name, "project name")
    if sess.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise AlreadyExistsError(f"a project named {name!r} already exists")
    project = Project(name=name, title=title, group=get_group(sess, group) if group else None)
    sess.add(project)
    sess.flush()
    return project


def project_row(project: Project) -> dict[str, Any]:
    return {"id": project.id, "name": project.name, "title": project.title, "group": project.group.name if project.group else None}


def count(sess: Session, model: type) -> int:
    return int(sess.scalar(select(func.count()).select_from(model)) or 0)


def list_rows(sess: Session, model: type) -> list[dict[str, Any]]:
    """Every row of a directory table as plain dicts, in name order."""
    row_fn, order = {
        Instrument: (instrument_row, Instrument.name),
        Person: (person_row, Person.username),
        Group: (group_row, Group.name),
        Project: (project_row, Project.name),
    }[model]
    return [row_fn(obj) for obj in sess.scalars(select(model).order_by(order))]
