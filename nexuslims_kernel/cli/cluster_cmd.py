"""``nxhub cluster status|scale workers N``: the hub on Kubernetes, from the operator's chair."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import emit, emit_one, settings_for, wants_json

QUEUED, BUILDING = "TO_BE_BUILT", "BUILDING"


def _view(ctx: click.Context):
    from nexuslims_kernel.cluster import kube

    return kube.cluster_from_kubeconfig(ctx.obj["namespace"], ctx.obj["context"])


def _queue(ctx: click.Context) -> dict[str, int] | None:
    """Sessions waiting for and in a build, when the database is reachable from here."""
    from sqlalchemy import func, select

    from nexuslims_kernel.db import get_database
    from nexuslims_kernel.db.models import InstrumentSession

    try:
        db = get_database(settings_for(ctx).db_url)
        with db.session() as sess:
            rows = dict(sess.execute(
                select(InstrumentSession.status, func.count())
                .where(InstrumentSession.status.in_([QUEUED, BUILDING]))
                .group_by(InstrumentSession.status)
            ).all())
    except Exception as exc:  # no route to the database from a workstation is normal
        click.echo(f"nxhub cluster: build queue unknown ({exc.__class__.__name__}); run inside the cluster or set NXHUB_DATABASE_URL", err=True)
        return None
    return {"queued": rows.get(QUEUED, 0), "building": rows.get(BUILDING, 0)}


@click.group()
@click.option("--namespace", "-n", help="Namespace of the release (default: the current context's, else 'default').")
@click.option("--context", help="kubeconfig context (default: the current one, or the pod's service account).")
@click.pass_context
def cluster(ctx: click.Context, namespace: str | None, context: str | None) -> None:
    """See and scale NexusLIMS Hub on Kubernetes (needs the 'cluster' extra)."""
    from nexuslims_kernel.cluster.kube import default_namespace

    ctx.obj["namespace"] = namespace or default_namespace(context)
    ctx.obj["context"] = context


@cluster.command()
@click.option("--queue/--no-queue", default=True, show_default=True, help="Count queued sessions in the database.")
@click.pass_context
def status(ctx: click.Context, queue: bool) -> None:
    """Hub, proxy, API, worker, harvest, indexer and database pods; build queue against workers."""
    view = _view(ctx)
    components = view.components()
    workers = view.workers()
    backlog = _queue(ctx) if queue else None
    per_worker = None
    if backlog is not None and workers["ready"]:
        per_worker = round((backlog["queued"] + backlog["building"]) / workers["ready"], 1)
    summary = {"namespace": view.namespace, "workers": workers, "queue": backlog, "sessions_per_ready_worker": per_worker}
    if wants_json(ctx):
        emit_one(ctx, {**summary, "components": [c.as_row() | {"ready": c.ready, "total": c.total} for c in components.values()]})
        return
    emit(ctx, [c.as_row() for c in components.values()], ["component", "ready", "pods", "problems"], title=f"namespace {view.namespace}")
    bounds = workers["autoscaler"]
    scaling = f"autoscaled {bounds['min']}..{bounds['max']} by {bounds['name']}" if bounds else "fixed replicas"
    click.echo(f"workers: {workers['ready']} ready of {workers['desired']} desired ({scaling})")
    if backlog is not None:
        line = f"build queue: {backlog['queued']} queued, {backlog['building']} building"
        click.echo(line + (f", {per_worker} per ready worker" if per_worker is not None else ", no ready worker"))


@cluster.command()
@click.argument("target", type=click.Choice(["workers"]))
@click.argument("replicas", type=click.IntRange(min=0))
@click.pass_context
def scale(ctx: click.Context, target: str, replicas: int) -> None:
    """Set the number of build workers (refused when an HPA owns the count)."""
    view = _view(ctx)
    before, after = view.scale_workers(replicas)
    emit_one(ctx, {"namespace": view.namespace, "target": target, "from": before, "to": after})
