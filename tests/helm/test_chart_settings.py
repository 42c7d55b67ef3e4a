"""What the chart tells nxhub is what nxhub understands: every NXHUB_* variable a pod gets is a
real setting with a valid value, and every command a pod runs exists."""

from __future__ import annotations

import os
import shlex

import pytest
from helmkit import DB_URL, SCENARIOS, containers, find, render

from nexuslims_kernel.cli.main import COMMANDS
from nexuslims_kernel.config import load_settings, settings_table

ALL = sorted(SCENARIOS)
# Read by hub_config, not by the settings object.
HUB_CONFIG_ONLY = {"NXHUB_HUB_KUBERNETES"}


def container_env(docs: list[dict], container: dict) -> dict[str, str]:
    """The environment a container starts with (ConfigMaps expanded, Secrets as the test URL)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = str(var["value"])
        elif var["name"] == "NXHUB_DATABASE_URL":
            env[var["name"]] = DB_URL
    return env


def nxhub_containers(docs: list[dict]):
    for doc in docs:
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/name") != "nexuslims-hub":
            continue
        for container in containers(doc):
            if container["image"].split(":")[0].endswith("/nxhub"):
                yield doc, container


@pytest.mark.parametrize("scenario", ALL)
def test_every_nxhub_variable_is_a_setting_with_a_valid_value(scenario: str) -> None:
    docs = render(scenario)
    known = {env for _key, env, _default, _doc in settings_table()}
    checked = 0
    for doc, container in nxhub_containers(docs):
        env = container_env(docs, container)
        unknown = {k for k in env if k.startswith("NXHUB_")} - known
        assert not unknown, f"{doc['metadata']['name']}/{container['name']}: {unknown} are not nxhub settings"
        settings = load_settings(environ=env)  # raises ConfigError naming a bad value
        assert str(settings.data_dir) == "/var/lib/nxhub"
        checked += 1
    assert checked >= 9  # init and main containers of API, worker, harvest, indexer; the migration


def test_api_and_worker_settings_follow_the_values() -> None:
    docs = render("k3s")
    api = container_env(docs, find(docs, "Deployment", "nxhub-api")["spec"]["template"]["spec"]["containers"][0])
    settings = load_settings(environ=api)
    assert (settings.api.auth, settings.api.base_path, settings.api.processes) == ("jupyterhub", "/services/nxhub-api/", 1)
    worker = container_env(docs, find(docs, "Deployment", "nxhub-worker")["spec"]["template"]["spec"]["containers"][0])
    assert load_settings(environ=worker).extract.workers == 1


def test_hub_variables_are_hub_config_or_settings() -> None:
    docs = render("gke")
    hub = find(docs, "Deployment", "hub")["spec"]["template"]["spec"]["containers"][0]
    names = {v["name"] for v in hub["env"] if v["name"].startswith("NXHUB_")}
    known = {env for _key, env, _default, _doc in settings_table()}
    assert names - known == HUB_CONFIG_ONLY


def _nxhub_words(container: dict) -> list[list[str]]:
    """The nxhub invocations of a container: its argv, or the commands inside an sh -c loop."""
    argv = list(container.get("command") or ["nxhub"]) + list(container.get("args") or [])
    if argv[:2] == ["sh", "-c"]:
        words = shlex.split(argv[2].replace(";", " ; ").replace("||", " || "))
        return [words[i:i + 2] for i, w in enumerate(words) if w == "nxhub"]
    return [argv[:2]] if argv[0] == "nxhub" else []


@pytest.mark.parametrize("scenario", ["default", "gke"])
def test_every_command_the_chart_runs_exists(scenario: str) -> None:
    used = {words[1] for _doc, c in nxhub_containers(render(scenario)) for words in _nxhub_words(c) if len(words) > 1}
    assert {"api", "worker", "index", "db", "harvest"} <= used
    if "harvest" not in COMMANDS:
        used.discard("harvest")  # `nxhub harvest` arrives with the calendars branch
    assert used <= set(COMMANDS), used - set(COMMANDS)


def test_api_pod_command_and_env_serve_the_readiness_probe_path(tmp_path) -> None:
    """The API container's argv and environment from the chart, run here: its probe path answers.

    Only what cannot exist here changes: the database is a local SQLite file, the data directory
    a temporary one, and the API binds 127.0.0.1 on a free port instead of 0.0.0.0:8000.
    """
    import re
    import subprocess
    import sys
    import time

    import httpx

    docs = render("k3s")
    pod = find(docs, "Deployment", "nxhub-api")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NXHUB_", "JUPYTERHUB_"))}
    env.update(container_env(docs, container))
    env.update(NXHUB_DATABASE_URL=f"sqlite:///{tmp_path / 'nxhub.db'}", NXHUB_DATA_DIR=str(tmp_path), JUPYTERHUB_API_TOKEN="not-used-here")
    nxhub = [sys.executable, "-m", "nexuslims_kernel.cli.main"]
    subprocess.run([*nxhub, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    args = container["args"]
    args = args[: args.index("--host")] + ["--host", "127.0.0.1", "--port", "0"]
    server = subprocess.Popen([*nxhub, *args], env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "NexusLIMS Hub API on" not in line and time.monotonic() < deadline:
            line = server.stderr.readline() or line
            assert server.poll() is None, f"the API exited: {line}"
        url = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert url, line
        probe = container["readinessProbe"]["httpGet"]["path"]
        resp = httpx.get(f"http://127.0.0.1:{url.group(1)}{probe}", timeout=30)
        assert resp.status_code == 200 and resp.json()["openapi"].startswith("3.")
        assert "(auth: jupyterhub, processes: 1)" in line
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()
