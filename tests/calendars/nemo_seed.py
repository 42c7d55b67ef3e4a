"""Seed a NEMO database through its ORM; runs INSIDE the NEMO venv, never imported by our tests.

Reads a JSON list of operations on stdin and prints a JSON list of results (ids,
the API token). The ORM is used because NEMO 8.1.5 does not save a reservation's
``question_data`` posted through its API.
"""

import datetime as dt
import json
import sys

import django

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from NEMO import models as m  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402


def _time(value):
    return dt.datetime.fromisoformat(value) if value else None


def _json(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def api_user(op):
    user, _ = m.User.objects.get_or_create(username=op["username"], defaults={"first_name": "API", "last_name": "Harvester", "email": "api@example.org"})
    user.user_permissions.add(Permission.objects.get(codename="use_billing_api"))
    return Token.objects.get_or_create(user=user)[0].key


def tool(op):
    return m.Tool.objects.create(name=op["name"], _category=op.get("category", "Microscopes")).id


def user(op):
    return m.User.objects.create(username=op["username"], first_name=op.get("first_name", ""), last_name=op.get("last_name", ""), email=op.get("email", "")).id


def project(op):
    account = m.Account.objects.get_or_create(name=op.get("account", "Facility"))[0]
    return m.Project.objects.create(name=op["name"], application_identifier=op.get("identifier", op["name"]), account=account).id


def reservation(op):
    owner = m.User.objects.get(id=op["user"])
    return m.Reservation.objects.create(
        user=owner, creator=owner, tool_id=op["tool"], project_id=op.get("project"), start=_time(op["start"]), end=_time(op["end"]),
        question_data=_json(op.get("question_data")), cancelled=op.get("cancelled", False), short_notice=False,
    ).id


def usage(op):
    return m.UsageEvent.objects.create(
        user_id=op["user"], operator_id=op.get("operator", op["user"]), project_id=op["project"], tool_id=op["tool"],
        start=_time(op["start"]), end=_time(op.get("end")), run_data=_json(op.get("run_data")), pre_run_data=_json(op.get("pre_run_data")),
    ).id


def usage_bulk(op):
    """``n`` ended events of ``minutes`` each, back to back from ``start``; bulk insert for the benchmark."""
    start, step = _time(op["start"]), dt.timedelta(minutes=op.get("minutes", 30))
    base = (m.UsageEvent.objects.order_by("-has_ended").values_list("has_ended", flat=True).first() or 0) + 1
    rows = [
        m.UsageEvent(user_id=op["user"], operator_id=op["user"], project_id=op["project"], tool_id=op["tool"],
                     start=start + i * step, end=start + (i + 1) * step - dt.timedelta(minutes=1), has_ended=base + i,
                     run_data=_json(op.get("run_data")))
        for i in range(op["n"])
    ]
    m.UsageEvent.objects.bulk_create(rows, batch_size=2000)
    return op["n"]


MODELS = {"usage": m.UsageEvent, "reservation": m.Reservation, "user": m.User, "project": m.Project, "tool": m.Tool}


def update(op):
    row = MODELS[op["model"]].objects.get(id=op["id"])
    for key, value in op["fields"].items():
        if key in ("start", "end"):
            value = _time(value)
        elif key in ("run_data", "pre_run_data", "question_data"):
            value = _json(value)
        setattr(row, key, value)
    row.save()
    return row.id


def delete(op):
    MODELS[op["model"]].objects.filter(id=op["id"]).delete()
    return op["id"]


OPS = {f.__name__: f for f in (api_user, tool, user, project, reservation, usage, usage_bulk, update, delete)}

if __name__ == "__main__":
    print(json.dumps([OPS[op["op"]](op) for op in json.load(sys.stdin)]))
