"""One OS account per person: names that can and cannot be accounts, the account made on first spawn."""

from __future__ import annotations

import os
import pwd
import subprocess

import pytest

from nexuslims_kernel.hub.isolation.accounts import UID_RANGE, AccountError, account_name, ensure_account, remove_account

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="making OS accounts needs root (CI runs as root)")


@pytest.mark.parametrize("name", ["../x", "a/b", "", "  ", "..", "x:y", "tab\there"])
def test_a_name_that_cannot_be_an_account_is_refused_in_one_line(name) -> None:
    with pytest.raises(AccountError) as err:
        account_name(name)
    assert "\n" not in str(err.value) and "cannot have an OS account" in str(err.value)


def test_plain_names_keep_their_name_and_others_map_to_a_fixed_hash() -> None:
    assert account_name("bob") == "nx-bob"
    assert account_name("root") == "nx-root"  # never the real root
    long, accented = "a" * 40, "zoë"
    assert account_name(long).startswith("nx_") and len(account_name(long)) <= 32
    assert account_name(accented).startswith("nx_") and account_name(accented) == account_name("zoë")
    assert account_name("Bob") != account_name("bob")


@root_only
def test_first_spawn_makes_the_account_in_the_range_and_hands_it_its_home(tmp_path) -> None:
    home = tmp_path / "home" / "isotest1"
    (home / "nxhub-pages").mkdir(parents=True)
    (home / "nxhub-pages" / "browse.ipynb").write_text("{}")
    try:
        account = ensure_account("isotest1", home)
        entry = pwd.getpwnam("nx-isotest1")
        assert UID_RANGE[0] <= entry.pw_uid <= UID_RANGE[1] and entry.pw_shell.endswith("nologin")
        assert account.uid == entry.pw_uid
        assert (home / "nxhub-pages" / "browse.ipynb").stat().st_uid == entry.pw_uid
        assert oct(home.stat().st_mode & 0o777) == "0o700"
        assert ensure_account("isotest1", home).uid == account.uid  # the same account at the next spawn
    finally:
        remove_account("isotest1")
    assert home.exists()  # the home outlives the account


@root_only
def test_an_existing_account_outside_the_range_is_never_taken_over(tmp_path) -> None:
    subprocess.run(["useradd", "--system", "--no-create-home", "nx-isotest2"], check=True)
    try:
        with pytest.raises(AccountError, match="outside nxhub's range"):
            ensure_account("isotest2", tmp_path / "h")
    finally:
        subprocess.run(["userdel", "nx-isotest2"], check=True)
    with pytest.raises(AccountError):
        ensure_account("../isotest3", tmp_path / "h3")
    with pytest.raises(KeyError):
        pwd.getpwnam("nx-..")
