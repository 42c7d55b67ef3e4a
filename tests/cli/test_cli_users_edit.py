"""`nxhub users edit USER`: a mistake in a person's name, e-mail or admin right can be undone."""

from __future__ import annotations

import json


def test_users_edit_changes_admin_name_and_email(nxhub) -> None:
    assert nxhub("init")[0] == 0
    assert nxhub("users", "add", "alice", "--name", "Alice Typo", "--admin")[0] == 0
    code, out, _ = nxhub("--json", "users", "edit", "alice", "--no-admin", "--name", "Alice Liddell",
                         "--email", "alice@example.org")
    row = json.loads(out)
    assert code == 0 and (row["is_admin"], row["display_name"], row["email"]) == (False, "Alice Liddell",
                                                                                  "alice@example.org")
    code, out, _ = nxhub("--json", "users", "list")
    assert [(u["username"], u["is_admin"], u["email"]) for u in json.loads(out)] == [("alice", False, "alice@example.org")]
    code, out, _ = nxhub("--json", "users", "edit", "alice", "--admin", "--email", "")
    assert code == 0 and json.loads(out)["is_admin"] is True and json.loads(out)["email"] is None


def test_users_edit_errors_are_one_line(nxhub) -> None:
    assert nxhub("init")[0] == 0
    assert nxhub("users", "add", "alice")[0] == 0
    code, _, err = nxhub("users", "edit", "alcie", "--admin")
    assert code == 4 and "no user named 'alcie'" in err and err.count("\n") == 1
    code, _, err = nxhub("users", "edit", "alice", "--email", "not-an-email")
    assert code == 2 and "not an e-mail address" in err
    code, _, err = nxhub("users", "edit", "alice")
    assert code == 2 and "nothing to change" in err
