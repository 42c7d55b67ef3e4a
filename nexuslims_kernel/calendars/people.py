"""Calendar people and projects -> ``people`` / ``projects`` rows, created when first seen.

A calendar's own id is remembered in ``external_ids`` under the server's key
(``{"nemo:<server>": 42}``), so a person renamed in NEMO stays the same person;
a bare ``{"nemo": 42}`` (``nxhub users add --nemo-id``) matches any NEMO server.
Otherwise people match by username, then by email (case-insensitive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nexuslims_kernel.calendars.base import PersonRef, ProjectRef
from nexuslims_kernel.db.clean import db_clean
from nexuslims_kernel.db.directory import add_person
from nexuslims_kernel.db.models import Person, Project
from nexuslims_kernel.errors import InvalidInputError


class Directory:
    """Look-ups for one write transaction, cached so 10,000 events cost a handful of queries."""

    def __init__(self, sess: Session) -> None:
        self.sess = sess
        self._people: dict[Any, int | None] = {}
        self._projects: dict[Any, int | None] = {}
        self._by_ext: dict[tuple[str, str], int] | None = None
        self._project_ext: dict[tuple[str, str], int] | None = None

    def _ext_index(self) -> dict[tuple[str, str], int]:
        if self._by_ext is None:
            self._by_ext = {}
            for pid, ext in self.sess.execute(select(Person.id, Person.external_ids)):
                for key, value in (ext or {}).items():
                    self._by_ext[(key, str(value))] = pid
        return self._by_ext

    def person_id(self, ref: PersonRef | None, *, create: bool = True) -> int | None:
        if ref is None:
            return None
        cache_key = (ref.external_key, ref.external_id, ref.username, ref.email)
        if cache_key not in self._people:
            self._people[cache_key] = self._find_person(ref, create and ref.create)
        return self._people[cache_key]

    def _find_person(self, ref: PersonRef, create: bool) -> int | None:
        sess, index = self.sess, self._ext_index()
        if ref.external_key and ref.external_id is not None:
            kind = ref.external_key.split(":", 1)[0]
            pid = index.get((ref.external_key, str(ref.external_id))) or index.get((kind, str(ref.external_id)))
            if pid is not None:
                return pid
        person = None
        if ref.username:
            person = sess.scalar(select(Person).where(Person.username == ref.username))
        if person is None and ref.email:
            person = sess.scalar(select(Person).where(func.lower(Person.email) == ref.email.lower()).order_by(Person.id).limit(1))
        if person is None:
            if not create or not ref.username:
                return None
            person = self._add(ref)
            if person is None:
                return None
        if ref.external_key and ref.external_id is not None and (person.external_ids or {}).get(ref.external_key) != ref.external_id:
            person.external_ids = {**(person.external_ids or {}), ref.external_key: ref.external_id}
            index[(ref.external_key, str(ref.external_id))] = -1  # filled below once flushed
        sess.flush()
        if ref.external_key and ref.external_id is not None:
            index[(ref.external_key, str(ref.external_id))] = person.id
        return person.id

    def _add(self, ref: PersonRef) -> Person | None:
        """A new person with the hub's own checks; a name the hub cannot take leaves the session without one."""
        name = db_clean(ref.display_name)[:300] if ref.display_name else None
        for email in (ref.email, None):
            try:
                with self.sess.begin_nested():
                    return add_person(self.sess, ref.username, display_name=name, email=email)
            except InvalidInputError:
                continue
        return None

    def project_id(self, ref: ProjectRef | None) -> int | None:
        if ref is None:
            return None
        if ref.external_key and ref.external_id is not None:
            if self._project_ext is None:
                self._project_ext = {(k, str(v)): pid for pid, ext in self.sess.execute(select(Project.id, Project.external_ids))
                                     for k, v in (ext or {}).items()}
            found = self._project_ext.get((ref.external_key, str(ref.external_id)))
            if found is not None or not ref.name:
                return found
        if not ref.name:
            return None
        if ref.name not in self._projects:
            project = self.sess.scalar(select(Project).where(Project.name == ref.name))
            if project is None:
                project = Project(name=db_clean(ref.name)[:200], title=ref.title, external_ids={})
                self.sess.add(project)
            if ref.external_key and ref.external_id is not None and (project.external_ids or {}).get(ref.external_key) != ref.external_id:
                project.external_ids = {**(project.external_ids or {}), ref.external_key: ref.external_id}
            self.sess.flush()
            self._projects[ref.name] = project.id
            if self._project_ext is not None and ref.external_key:
                self._project_ext[(ref.external_key, str(ref.external_id))] = project.id
        return self._projects[ref.name]
