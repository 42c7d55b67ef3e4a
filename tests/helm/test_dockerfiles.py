"""The images the chart runs: pinned bases, dependencies from pyproject.toml, non-root users that
match the chart's security contexts, and a JupyterHub that matches the chart's hub."""

from __future__ import annotations

import re
import tarfile
import tomllib

import pytest
import yaml
from helmkit import CHART, JUPYTERHUB_TGZ, REPO, ensure_dependency

DOCKER = REPO / "docker"
FILES = ["Dockerfile.api", "Dockerfile.singleuser", "Dockerfile.hub"]


def stages(name: str) -> list[list[str]]:
    """Instructions of each build stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", (DOCKER / name).read_text())
    out: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


def values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def jupyterhub_chart() -> dict:
    ensure_dependency()
    with tarfile.open(CHART / "charts" / JUPYTERHUB_TGZ) as tf:
        return yaml.safe_load(tf.extractfile("jupyterhub/Chart.yaml"))


@pytest.mark.parametrize("name", FILES)
def test_base_images_are_pinned(name: str) -> None:
    for stage in stages(name):
        image = stage[0].split()[1]
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+[\w.-]*", image), f"{name}: {image} is not pinned to a version"


@pytest.mark.parametrize("name", FILES)
def test_final_stage_runs_as_a_non_root_user(name: str) -> None:
    users = [line.split()[1] for line in stages(name)[-1] if line.upper().startswith("USER ")]
    assert users, f"{name}: the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"0", "root"}, f"{name} ends as root"


def test_api_image_user_is_the_charts_run_as_user() -> None:
    uid = values()["podSecurityContext"]["runAsUser"]
    assert f"USER {uid}:{uid}" in stages("Dockerfile.api")[-1]
    singleuser = values()["jupyterhub"]["singleuser"]
    assert f"USER {singleuser['uid']}:{singleuser['fsGid']}" in stages("Dockerfile.singleuser")[-1]


def test_python_dependencies_come_from_pyproject_extras() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in ("Dockerfile.api", "Dockerfile.singleuser"):
        installs = [line for stage in stages(name) for line in stage if "pip install" in line]
        assert installs, name
        used = {m for line in installs for m in re.findall(r'"\.\[([\w,]+)\]"', line)}
        assert used and all(extra in extras for u in used for extra in u.split(",")), f"{name}: {used}"
        pins = [p for line in installs for p in re.findall(r'"([\w-]+)==', line)]
        assert pins in ([], ["jupyterhub"]), f"{name} pins versions of its own: {pins}"


def test_users_servers_run_the_jupyterhub_of_the_charts_hub() -> None:
    app_version = jupyterhub_chart()["appVersion"]
    args = [line for line in stages("Dockerfile.singleuser")[0] if line.startswith("ARG JUPYTERHUB_VERSION=")]
    assert args == [f"ARG JUPYTERHUB_VERSION={app_version}"]


def test_hub_image_extends_the_dependency_charts_hub_and_carries_hub_config() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    version = next(d["version"] for d in chart["dependencies"] if d["name"] == "jupyterhub")
    stage = stages("Dockerfile.hub")[-1]
    assert stage[0] == f"FROM quay.io/jupyterhub/k8s-hub:{version}"
    loader = values()["jupyterhub"]["hub"]["extraConfig"]["00-nexuslims-hub"]
    target = re.search(r'load_subconfig\("([^"]+)/jupyterhub_config.py"\)', loader).group(1)
    assert f"COPY hub_config {target}" in stage
