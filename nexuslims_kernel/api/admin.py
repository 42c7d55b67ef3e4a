"""Admin endpoints: instruments, users, groups, rebuilds and record access. Admins only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.params import utc_instant
from nexuslims_kernel.db import directory as d
from nexuslims_kernel.db.models import Group, Instrument, Person, Record
from nexuslims_kernel.errors import InvalidInputError, NotFoundError
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.states import SessionStatus


def _only(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return body


def _set_person(sess: Session, username: str, **changes: Any) -> Person:
    person = d.get_person(sess, username)
    for key, value in changes.items():
        if key == "is_admin" and not isinstance(value, bool):
            raise InvalidInputError("is_admin must be true or false")
        setattr(person, key, value)
    sess.flush()
    return person


# name -> (list query, row, create(sess, **body), update(sess, key, **body), creatable, editable fields)
RESOURCES: dict[str, tuple[Any, Callable, Callable, Callable | None, set[str], set[str]]] = {
    "instruments": (
        select(Instrument).order_by(Instrument.name), d.instrument_row,
        lambda sess, name, **kw: d.add_instrument(sess, name, **kw), d.edit_instrument,
        {"name", "timezone", "location", "display_name", "filestore_root", "harvester", "harvester_settings"},
        {"name", *d.EDITABLE_INSTRUMENT_FIELDS},
    ),
    "users": (
        select(Person).order_by(Person.username), d.person_row,
        lambda sess, username, **kw: d.add_person(sess, username, **kw), _set_person,
        {"username", "display_name", "email", "is_admin"}, {"display_name", "email", "is_admin"},
    ),
    "groups": (
        select(Group).order_by(Group.name), d.group_row,
        lambda sess, name, **kw: d.add_group(sess, name, **kw), None, {"name", "description"}, set(),
    ),
}

#: name -> the stem of its schemas in the OpenAPI document (``UserCreate``, ``UserEdit``...)
SCHEMA = {"instruments": "Instrument", "users": "User", "groups": "Group"}
#: name -> fetch one by its key (404 if there is none)
ONE: dict[str, Callable[[Session, str], Any]] = {"instruments": d.get_instrument, "users": d.get_person}


class AdminHandler(BaseHandler):
    audience = "admin"

    def write_tx(self, fn: Callable[[Session], Any]) -> Any:
        with self.ctx.db.session(write=True) as sess:
            return fn(sess)


class CollectionHandler(AdminHandler):
    """GET/POST /admin/{instruments,users,groups}; PATCH /admin/{kind}/{name}."""

    def resource(self, kind: str) -> tuple:
        if kind not in RESOURCES:
            raise ApiError(404, f"no admin collection {kind!r}")
        return RESOURCES[kind]

    async def get(self, kind: str, key: str | None = None) -> None:
        query, row, *_ = self.resource(kind)

        def list_all() -> list[dict[str, Any]]:
            with self.ctx.db.session() as sess:
                return [row(obj) for obj in sess.scalars(query)]

        def one() -> dict[str, Any]:
            with self.ctx.db.session() as sess:
                return row(ONE[kind](sess, key))

        self.send_json(await self.run(one) if key is not None else {"items": await self.run(list_all)})

    async def post(self, kind: str, key: str | None = None) -> None:
        _, row, create, _, creatable, _ = self.resource(kind)
        body = _only(self.valid_body(SCHEMA[kind] + "Create"), creatable)
        first = next(iter(sorted(creatable & {"name", "username"})))
        if not isinstance(body.get(first), str):
            raise ApiError(400, f"'{first}' is required")
        name = body.pop(first)
        await self._precheck(kind, body)
        self.send_json(await self.run(self.write_tx, lambda sess: self._call(row, create, sess, name, body)), 201)

    async def patch(self, kind: str, key: str | None = None) -> None:
        _, row, _, update, _, editable = self.resource(kind)
        if key is None or update is None:
            raise ApiError(405, f"{kind} cannot be edited here")
        body = _only(self.valid_body(SCHEMA[kind] + "Edit"), editable)
        await self._precheck(kind, body)
        self.send_json(await self.run(self.write_tx, lambda sess: self._call(row, update, sess, key, body)))

    async def _precheck(self, kind: str, body: dict[str, Any]) -> None:
        """A bucket store is checked over the network before the write transaction, not while holding it."""
        if kind == "instruments" and isinstance(body.get("filestore_root"), str):
            await self.run(d.check_filestore, body["filestore_root"])

    @staticmethod
    def _call(row: Callable, fn: Callable, sess: Session, name: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return row(fn(sess, name, **body))
        except TypeError:
            raise InvalidInputError("a field has the wrong type") from None


class MembershipHandler(AdminHandler):
    """PUT/DELETE /admin/groups/{group}/members/{username}."""

    async def put(self, group: str, username: str) -> None:
        self.send_json(await self.run(self.write_tx, lambda sess: d.group_row(d.set_membership(sess, group, username, True))))

    async def delete(self, group: str, username: str) -> None:
        self.send_json(await self.run(self.write_tx, lambda sess: d.group_row(d.set_membership(sess, group, username, False))))


class RebuildHandler(AdminHandler):
    """POST /admin/sessions/{id}/rebuild: queue the session for a (re)build."""

    async def post(self, session_id: str) -> None:
        actor = self.principal.label

        def rebuild(sess: Session) -> dict[str, Any]:
            status = transition(sess, int(session_id), SessionStatus.TO_BE_BUILT, actor=actor, reason="rebuild requested")
            return {"session_id": int(session_id), "status": str(status)}

        self.send_json(await self.run(self.write_tx, rebuild))


def _embargo(value: Any) -> dt.datetime | None:
    return None if value is None else utc_instant(str(value), "embargo_until")


class AccessHandler(AdminHandler):
    """PATCH /admin/records/{id}/access: owner, group, is_public, embargo_until."""

    async def patch(self, record_id: str) -> None:
        body = _only(self.valid_body("AccessChange"), {"owner", "group", "is_public", "embargo_until"})

        def change(sess: Session) -> dict[str, Any]:
            record = sess.get(Record, int(record_id))
            if record is None:
                raise NotFoundError(f"record {record_id} not found")
            if "owner" in body:
                record.owner_id = d.get_person(sess, body["owner"]).id if body["owner"] else None
            if "group" in body:
                record.group_id = d.get_group(sess, body["group"]).id if body["group"] else None
            if "is_public" in body:
                if not isinstance(body["is_public"], bool):
                    raise InvalidInputError("is_public must be true or false")
                record.is_public = body["is_public"]
            if "embargo_until" in body:
                record.embargo_until = _embargo(body["embargo_until"])
            sess.flush()
            return {
                "id": record.id, "owner": record.owner.username if record.owner else None,
                "group": record.group.name if record.group else None, "is_public": record.is_public,
                "embargo_until": record.embargo_until.isoformat() if record.embargo_until else None,
            }

        self.send_json(await self.run(self.write_tx, change))
