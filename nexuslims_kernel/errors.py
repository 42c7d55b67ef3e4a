"""Exceptions whose message is a one-line explanation fit to show a user.

The CLI prints ``str(exc)`` of any :class:`NxhubError` without a traceback
and exits with :attr:`NxhubError.exit_code`; the API maps them to JSON errors
with :attr:`NxhubError.http_status`.
"""

from __future__ import annotations


class NxhubError(Exception):
    """Base class: an expected failure with a message for humans."""

    exit_code = 1
    http_status = 400


class ConfigError(NxhubError):
    """A setting is missing, malformed or contradictory."""

    exit_code = 78  # EX_CONFIG


class NotFoundError(NxhubError):
    """A named object (instrument, user, session, ...) does not exist."""

    exit_code = 4
    http_status = 404


class AlreadyExistsError(NxhubError):
    """Creating an object whose unique name is taken."""

    exit_code = 5
    http_status = 409


class InvalidInputError(NxhubError):
    """A value given by the user is not acceptable (bad time zone, ...)."""

    exit_code = 2
    http_status = 400


class IllegalTransitionError(NxhubError):
    """A session was asked to move to a status it cannot reach from its own."""

    exit_code = 6
    http_status = 409


class NotAMemberError(InvalidInputError):
    """A session names a project or group its user does not belong to."""

    http_status = 403


class SessionConflictError(NxhubError):
    """A session would overlap another one on the same instrument."""

    exit_code = 8
    http_status = 409


class ConcurrentUpdateError(NxhubError):
    """Someone else changed the object between our read and our write."""

    exit_code = 7
    http_status = 409


class DatabaseError(NxhubError):
    """The database cannot be reached or is not at the expected schema."""

    exit_code = 69  # EX_UNAVAILABLE
    http_status = 503
