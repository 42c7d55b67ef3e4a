"""``nxhub users``, ``nxhub groups``, ``nxhub projects``: who owns records."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit_listing, emit_one


@click.group()
def users() -> None:
    """Add, edit and list people."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="Full name.")
@click.option("--email")
@click.option("--admin", is_flag=True, help="May see and manage everything.")
@click.option("--nemo-id", type=int, help="The person's id in NEMO, for matching reservations.")
@click.option("--group", "groups", multiple=True, help="Add to this group (repeatable).")
@click.pass_context
def users_add(ctx: click.Context, username: str, display_name: str | None, email: str | None, admin: bool, nemo_id: int | None, groups: tuple[str, ...]) -> None:
    """Add person USERNAME (the same name they log in to the hub with)."""
    from nexuslims_kernel.db.directory import add_person, person_row, set_membership

    with database_for(ctx).session(write=True) as sess:
        person = add_person(sess, username, display_name=display_name, email=email, is_admin=admin,
                            external_ids={"nemo": nemo_id} if nemo_id is not None else {})
        for group in groups:
            set_membership(sess, group, username, True)
        row = person_row(person)
    emit_one(ctx, row)


@users.command("edit")
@click.argument("username")
@click.option("--name", "display_name", help="Full name.")
@click.option("--email", help="E-mail address ('' clears it).")
@click.option("--admin/--no-admin", "admin", default=None, help="Make an administrator, or take that right away.")
@click.pass_context
def users_edit(ctx: click.Context, username: str, display_name: str | None, email: str | None,
               admin: bool | None) -> None:
    """Change USERNAME's name, e-mail or administrator right."""
    from nexuslims_kernel.db.directory import edit_person, person_row
    from nexuslims_kernel.errors import InvalidInputError

    changes = {"display_name": display_name, "email": email, "is_admin": admin}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInputError("nothing to change: give --name, --email or --admin/--no-admin")
    if changes.get("email") == "":
        changes["email"] = None
    with database_for(ctx).session(write=True) as sess:
        row = person_row(edit_person(sess, username, **changes))
    emit_one(ctx, row)


@users.command("remove")
@click.argument("username")
@click.option("--purge", is_flag=True, help="Also delete their home (notebooks) and their OS account.")
@click.pass_context
def users_remove(ctx: click.Context, username: str, purge: bool) -> None:
    """Remove person USERNAME: their server is stopped; their records stay; their home is kept unless --purge."""
    from nexuslims_kernel.cli.output import settings_for
    from nexuslims_kernel.db.directory import remove_person
    from nexuslims_kernel.hub.admin import forget_hub_user
    from nexuslims_kernel.hub.isolation import homes_dir, purge_person

    settings = settings_for(ctx)
    with database_for(ctx).session(write=True) as sess:
        records = remove_person(sess, username)
    state = settings.data_dir / "hub"
    click.echo(f"removed {username}; {records} record(s) of theirs stay, with no owner (their groups and admins see them)")
    click.echo(forget_hub_user(settings.hub.api_port, state, username))
    home = homes_dir(settings, state) / username
    if purge:
        click.echo(purge_person(username, home))
    elif home.exists():
        click.echo(f"their home {home} is kept (nxhub users remove --purge deletes it)")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List people."""
    emit_listing(ctx, "Person", ["id", "username", "display_name", "email", "is_admin", "groups"])


@click.group()
def groups() -> None:
    """Manage groups and their members."""


@groups.command("add")
@click.argument("name")
@click.option("--description")
@click.pass_context
def groups_add(ctx: click.Context, name: str, description: str | None) -> None:
    """Create group NAME."""
    from nexuslims_kernel.db.directory import add_group, group_row

    with database_for(ctx).session(write=True) as sess:
        row = group_row(add_group(sess, name, description))
    emit_one(ctx, row)


@groups.command("list")
@click.pass_context
def groups_list(ctx: click.Context) -> None:
    """List groups with their members."""
    emit_listing(ctx, "Group", ["id", "name", "description", "members"])


def _membership(ctx: click.Context, group: str, usernames: tuple[str, ...], member: bool) -> None:
    from nexuslims_kernel.db.directory import group_row, set_membership

    with database_for(ctx).session(write=True) as sess:
        for username in usernames:
            grp = set_membership(sess, group, username, member)
        row = group_row(grp)
    emit_one(ctx, row)


@groups.command("add-member")
@click.argument("group")
@click.argument("usernames", nargs=-1, required=True)
@click.pass_context
def add_member(ctx: click.Context, group: str, usernames: tuple[str, ...]) -> None:
    """Add USERNAMES to GROUP."""
    _membership(ctx, group, usernames, True)


@groups.command("remove-member")
@click.argument("group")
@click.argument("usernames", nargs=-1, required=True)
@click.pass_context
def remove_member(ctx: click.Context, group: str, usernames: tuple[str, ...]) -> None:
    """Remove USERNAMES from GROUP."""
    _membership(ctx, group, usernames, False)


@click.group()
def projects() -> None:
    """Add and list projects."""


@projects.command("add")
@click.argument("name")
@click.option("--title")
@click.option("--group", help="Group whose members see the project's records.")
@click.pass_context
def projects_add(ctx: click.Context, name: str, title: str | None, group: str | None) -> None:
    """Create project NAME."""
    from nexuslims_kernel.db.directory import add_project, project_row

    with database_for(ctx).session(write=True) as sess:
        row = project_row(add_project(sess, name, title=title, group=group))
    emit_one(ctx, row)


@projects.command("list")
@click.pass_context
def projects_list(ctx: click.Context) -> None:
    """List projects."""
    emit_listing(ctx, "Project", ["id", "name", "title", "group"])
