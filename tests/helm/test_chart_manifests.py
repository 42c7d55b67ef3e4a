"""The chart, rendered offline for every provider: lint, schema-valid manifests, and the
promises an operator relies on (pinned images, non-root, resources, no secret in a ConfigMap)."""

from __future__ import annotations

import base64
import re

import kubernetes_validate
import pytest
import yaml
from helmkit import (
    CHART,
    DB_PASSWORD,
    DB_URL,
    SCENARIOS,
    containers,
    find,
    hub_values,
    lint,
    pod_spec,
    render,
    template,
)

# A current Kubernetes release the validator ships schemas for (GKE/EKS/AKS regular channels).
K8S_VERSION = "1.34"
ALL = sorted(SCENARIOS)


def chart_app_version() -> str:
    return yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]


@pytest.mark.parametrize("scenario", ALL)
def test_helm_lint_passes_strict(scenario: str) -> None:
    result = lint(scenario)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("scenario", ALL)
def test_every_manifest_validates_for_current_kubernetes(scenario: str) -> None:
    docs = render(scenario)
    assert len(docs) > 20
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


def _images(docs: list[dict]) -> dict[str, str]:
    """Every image a pod of the release runs, plus the hub's and users' servers' images."""
    images = {f"{d['kind']}/{d['metadata']['name']}/{c['name']}": c["image"] for d in docs for c in containers(d)}
    values = hub_values(docs)
    images["KubeSpawner/singleuser"] = f"{values['singleuser']['image']['name']}:{values['singleuser']['image']['tag']}"
    return images


@pytest.mark.parametrize("scenario", ALL)
def test_every_image_is_pinned(scenario: str) -> None:
    docs = render(scenario)
    images = _images(docs)
    bad = {where: image for where, image in images.items()
           if not re.fullmatch(r"[\w./-]+(:[\w][\w.-]*[0-9][\w.-]*|@sha256:[0-9a-f]{64})", image) or image.endswith(":latest")}
    assert not bad, f"unpinned images: {bad}"
    ours = {where: image for where, image in images.items() if image.startswith("ghcr.io/nexuslims-hub/")}
    assert {"api", "worker", "harvest", "indexer"} <= {w.rsplit("/", 1)[-1] for w in ours}
    stale = {w: i for w, i in ours.items() if not i.endswith(":" + chart_app_version())}
    assert not stale, f"project images must carry the chart's appVersion {chart_app_version()}: {stale}"


def _runs_as_root(pod: dict, container: dict) -> str | None:
    psc, csc = pod.get("securityContext") or {}, container.get("securityContext") or {}
    if csc.get("privileged"):
        return "privileged"
    user = csc.get("runAsUser", psc.get("runAsUser"))
    non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
    if user == 0:
        return "runAsUser 0"
    if user is None and not non_root:
        return "no runAsUser and no runAsNonRoot (the image's user decides)"
    if csc.get("allowPrivilegeEscalation", True) and container.get("name") != "hub":
        return "allowPrivilegeEscalation not false"
    return None


@pytest.mark.parametrize("scenario", ALL)
def test_no_container_runs_as_root(scenario: str) -> None:
    docs = render(scenario)
    problems = {}
    for doc in docs:
        pod = pod_spec(doc)
        for container in containers(doc):
            why = _runs_as_root(pod, container)
            if why:
                problems[f"{doc['kind']}/{doc['metadata']['name']}/{container['name']}"] = why
    assert not problems, problems
    values = hub_values(docs)["singleuser"]
    assert values["uid"] != 0 and values["allowPrivilegeEscalation"] is False
    assert values["cloudMetadata"]["blockWithIptables"] is False, "the iptables init container runs as root"


@pytest.mark.parametrize("scenario", ALL)
def test_every_container_has_requests_and_limits(scenario: str) -> None:
    docs = render(scenario)
    missing = []
    for doc in docs:
        for container in containers(doc):
            res = container.get("resources") or {}
            if not (res.get("requests", {}).keys() >= {"cpu", "memory"} and "memory" in res.get("limits", {})):
                missing.append(f"{doc['kind']}/{doc['metadata']['name']}/{container['name']}: {res}")
    assert not missing, "\n".join(missing)
    singleuser = hub_values(docs)["singleuser"]
    assert singleuser["memory"]["limit"] and singleuser["cpu"]["limit"]


SECRETISH = re.compile(r"(password|secret|token|apikey|api_key|database_url)", re.I)


@pytest.mark.parametrize("scenario", ALL)
def test_no_secret_in_a_configmap(scenario: str) -> None:
    docs = render(scenario)
    secret_values = set()
    for doc in docs:
        if doc["kind"] == "Secret":
            for value in (doc.get("data") or {}).values():
                secret_values.add(base64.b64decode(value).decode())
            secret_values.update((doc.get("stringData") or {}).values())
    secret_values = {v for v in secret_values if len(v) >= 8 and "\n" not in v}
    for doc in (d for d in docs if d["kind"] == "ConfigMap"):
        for key, value in (doc.get("data") or {}).items():
            where = f"ConfigMap/{doc['metadata']['name']}:{key}"
            ours = doc["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "nexuslims-hub"
            # (the jupyterhub chart's `hub` ConfigMap maps short names such as hub-existing-secret to resource names)
            assert not (ours and SECRETISH.search(key)), f"{where} is named like a secret"
            assert DB_PASSWORD not in value, f"{where} holds the database password"
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", value), f"{where} holds a URL with a password"
            leaked = [s for s in secret_values if s in value]
            assert not leaked, f"{where} repeats a Secret's value"
    # The database URL reaches nxhub pods only through a secretKeyRef.
    for doc in docs:
        for container in containers(doc):
            for env in container.get("env") or []:
                if env["name"] == "NXHUB_DATABASE_URL":
                    assert "secretKeyRef" in env.get("valueFrom", {}), f"{doc['metadata']['name']} gets the URL in clear"


def test_default_values_keep_the_database_url_in_the_chart_secret() -> None:
    docs = render("default")
    secret = find(docs, "Secret", "nxhub-database")
    assert DB_PASSWORD in secret["stringData"]["database-url"]
    api = find(docs, "Deployment", "nxhub-api")
    env = {e["name"]: e for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["NXHUB_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "nxhub-database", "key": "database-url"}


def test_k3s_runs_postgres_in_cluster_and_points_nxhub_at_it() -> None:
    docs = render("k3s")
    find(docs, "StatefulSet", "nxhub-postgres")
    secret = find(docs, "Secret", "nxhub-database")["stringData"]
    match = re.fullmatch(r"postgresql\+psycopg://nxhub:([A-Za-z0-9]{32})@nxhub-postgres:5432/nxhub", secret["database-url"])
    assert match and match.group(1) == secret["postgres-password"], "the URL must carry the server's password"


def test_provider_files_use_an_external_database_secret_and_no_in_cluster_postgres() -> None:
    for scenario in ("gke", "eks", "aks"):
        docs = render(scenario)
        kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
        assert ("StatefulSet", "nxhub-postgres") not in kinds
        assert ("Secret", "nxhub-database") not in kinds  # the operator's own Secret
        worker = find(docs, "Deployment", "nxhub-worker")
        ref = worker["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "nxhub-database", "key": "database-url"}
        find(docs, "HorizontalPodAutoscaler", "nxhub-worker")
        assert "replicas" not in worker["spec"], "an HPA owns the replica count"


def test_migration_is_a_hook_job_running_nxhub_db_upgrade() -> None:
    job = find(render("default"), "Job", "nxhub-migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["nxhub", "db", "upgrade"]


def test_background_loops_run_the_nxhub_commands() -> None:
    docs = render("default")
    command = lambda name: find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["command"]  # noqa: E731
    assert command("nxhub-worker") == ["nxhub", "worker"]
    assert "until nxhub index --watch;" in command("nxhub-indexer")[-1]
    assert "nxhub harvest" in command("nxhub-harvest")[-1] and "sleep 60" in command("nxhub-harvest")[-1]
    for name in ("nxhub-worker", "nxhub-indexer", "nxhub-harvest", "nxhub-api"):
        init = find(docs, "Deployment", name)["spec"]["template"]["spec"]["initContainers"][0]
        assert "nxhub db current" in init["command"][-1], f"{name} must wait for the migration"


def test_network_stores_are_polled_and_local_ones_watched() -> None:
    command = lambda scenario: find(render(scenario), "Deployment", "nxhub-indexer")["spec"]["template"]["spec"]["containers"][0]["command"]  # noqa: E731
    assert "until nxhub index --watch;" in command("k3s")[-1]
    for scenario in ("gke", "eks", "aks"):
        assert "nxhub index ||" in command(scenario)[-1] and "sleep 120" in command(scenario)[-1], scenario


def test_cluster_admin_may_only_read_pods_and_scale_the_workers() -> None:
    docs = render("k3s+dask-gateway")
    rules = find(docs, "Role", "nxhub-cluster-admin")["rules"]
    writes = [r for r in rules if set(r["verbs"]) - {"get", "list", "watch"}]
    assert writes == [{"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["nxhub-worker"], "verbs": ["get", "patch"]}]
    api = find(docs, "Deployment", "nxhub-api")["spec"]["template"]["spec"]
    assert api["serviceAccountName"] == "nxhub-cluster-admin" and api["automountServiceAccountToken"] is True
    for name in ("nxhub-worker", "nxhub-harvest", "nxhub-indexer"):
        assert find(docs, "Deployment", name)["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert find(render("default"), "Deployment", "nxhub-api")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def _mounts(doc: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in doc["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}


def test_instrument_stores_are_mounted_read_only_into_workers_api_and_indexer() -> None:
    docs = render("eks")
    for name in ("nxhub-worker", "nxhub-api", "nxhub-indexer"):
        mount = _mounts(find(docs, "Deployment", name))["/data/instruments/titan"]
        assert mount["readOnly"] is True
        assert _mounts(find(docs, "Deployment", name))["/var/lib/nxhub"].get("readOnly") is not True


def test_api_is_the_hub_service_nxhub_api() -> None:
    docs = render("gke")
    services = hub_values(docs)["hub"]["services"]
    assert services["nxhub-api"]["url"] == "http://nxhub-api:8000"
    svc = find(docs, "Service", "nxhub-api")
    assert svc["spec"]["ports"][0]["port"] == 8000
    hub_secret = find(docs, "Secret", "hub")
    assert "hub.services.nxhub-api.apiToken" in hub_secret["data"]
    env = {e["name"]: e for e in find(docs, "Deployment", "nxhub-api")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hub", "key": "hub.services.nxhub-api.apiToken"}
    assert env["NXHUB_API_BASE_PATH"]["value"] == env["JUPYTERHUB_SERVICE_PREFIX"]["value"] == "/services/nxhub-api/"
    assert env["JUPYTERHUB_API_URL"]["value"] == "http://hub:8081/hub/api"


def test_ingress_has_tls_for_every_provider() -> None:
    for scenario in ("gke", "eks", "aks", "k3s"):
        ingress = find(render(scenario), "Ingress", "jupyterhub")
        assert ingress["spec"]["tls"], scenario
        annotations = ingress["metadata"].get("annotations") or {}
        assert ingress["spec"].get("ingressClassName") or annotations.get("kubernetes.io/ingress.class") == "gce", scenario


REFUSALS = [
    (["--set", "worker.replicas=-1"], "worker.replicas: Must be greater than or equal to 0"),
    (["--set", "jupyterhub.custom.nexuslims.userDataMode=nfs"], 'userDataMode must be one of the following: "api", "shared-mount"'),
    (["--set", "image.tag=latest"], "image.tag: Must not validate the schema"),
    (["--set", "database.external.url=mysql://db/nxhub"], "database.external.url: Does not match pattern"),
    (["--set", "settings.NXHUB_API_TOKEN=abc"], "settings: Property name of \"NXHUB_API_TOKEN\" does not match"),
    (["--set", "jupyterhub.hub.services.nxhub-api.url=http://elsewhere:8000"],
     "jupyterhub.hub.services.nxhub-api.url must be http://nxhub-api:8000"),
    (["--set", "containerSecurityContext.allowPrivilegeEscalation=true"], "containerSecurityContext.allowPrivilegeEscalation"),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS, ids=[r[1][:40] for r in REFUSALS])
def test_wrong_values_fail_at_install_time_with_a_clear_message(args: list[str], message: str) -> None:
    result = template(["--set", f"database.external.url={DB_URL}", *args] if "database.external.url" not in args[-1] else args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_no_database_configured_is_refused() -> None:
    result = template([])
    assert result.returncode != 0
    assert "set database.external.url (postgresql+psycopg://...), database.external.existingSecret, or database.internal.enabled=true" in result.stderr
