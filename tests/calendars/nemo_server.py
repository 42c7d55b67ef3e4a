"""A real NEMO (PyPI ``nemo``) on 127.0.0.1 for the calendar tests and the benchmark.

NEMO pins its whole stack (Django 5.2, DRF, ...) so it lives in a venv of its own,
``<repo>/.venv-nemo/<version>/`` (git-ignored), created once and reused: CI pays
the install on its first run only. NEMO ships no settings module; ``SETTINGS``
below is the minimal one the API needs. Tables come from ``migrate --run-syncdb``
with migrations switched off (seconds instead of the 60-95 s chain); the empty
database is cached per NEMO version and copied for each server. Data is seeded
through the ORM by ``nemo_seed.py`` run inside the venv. We talk to it over HTTP only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from venvkit import ensure_venv, run

NEMO_VERSION = "8.1.5"
REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

SETTINGS = '''
import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "nexuslims-hub-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
AUTH_USER_MODEL = "NEMO.User"
ROOT_URLCONF = "NEMO.urls"
ALLOW_CONDITIONAL_URLS = True  # without it /api/ is not routed
TIME_ZONE = os.environ.get("NEMO_TIME_ZONE", "UTC")
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["NEMO_DB"]}}
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.humanize",
    "NEMO.apps.kiosk", "NEMO.apps.area_access", "NEMO", "rest_framework", "rest_framework.authtoken",
    "django_filters", "mptt", "auditlog",
]
MIGRATION_MODULES = {app: None for app in ("NEMO", "kiosk", "area_access", "admin", "auth", "contenttypes", "sessions", "authtoken", "auditlog", "mptt")}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware", "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {"context_processors": [
    "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages"]}}]
STATIC_URL = "/static/"  # plain storage: no manifest to build
STATIC_ROOT = str(BASE_DIR / "static")
MEDIA_ROOT = str(BASE_DIR / "media")
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["NEMO.permissions.BillingAPI"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_FILTER_BACKENDS": ["NEMO.rest_filter_backend.NEMOFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "NEMO.rest_pagination.NEMOPageNumberPagination",
    "PAGE_SIZE": 1000,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
'''


def venv_dir() -> Path:
    return Path(os.environ.get("NXHUB_NEMO_VENV") or REPO / ".venv-nemo" / NEMO_VERSION)


def ensure_nemo() -> Path:
    """The NEMO venv with its settings and a cached empty database; returns the venv folder."""

    def settings_and_empty_db(venv: Path) -> None:
        (venv / "project").mkdir(exist_ok=True)
        (venv / "project" / "nemo_test_settings.py").write_text(SETTINGS)
        template = venv / "project" / "empty.sqlite3"
        template.unlink(missing_ok=True)
        run([str(venv / "bin" / "django-admin"), "migrate", "--run-syncdb"], env=_env(venv, template), timeout=600)

    python = os.environ.get("NXHUB_NEMO_PYTHON") or sys.executable  # ours: a Python NEMO supports (3.11+)
    return ensure_venv(venv_dir(), f"nemo=={NEMO_VERSION}", NEMO_VERSION, python, settings_and_empty_db)


def _env(venv: Path, db: Path, tz: str = "UTC") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTHON", "NXHUB"))}
    env.update(DJANGO_SETTINGS_MODULE="nemo_test_settings", PYTHONPATH=str(venv / "project"), NEMO_DB=str(db), NEMO_TIME_ZONE=tz)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class NemoServer:
    """One NEMO on its own database, time zone and port; ``seed`` writes through the ORM."""

    venv: Path
    db: Path
    tz: str = "UTC"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    token: str = ""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def seed(self, *ops: dict) -> list:
        out = run([str(self.venv / "bin" / "python"), str(HERE / "nemo_seed.py")], input=json.dumps(list(ops)),
                   env=_env(self.venv, self.db, self.tz), timeout=600)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(self, timeout: float = 60.0) -> NemoServer:
        log = open(self.db.with_suffix(".log"), "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "django-admin"), "runserver", "--noreload", "--nothreading", f"127.0.0.1:{self.port}"],
            env=_env(self.venv, self.db, self.tz), stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"NEMO exited with {self.proc.returncode}; see {log.name}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"NEMO did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def new_server(venv: Path, folder: Path, tz: str = "UTC") -> NemoServer:
    """A NEMO on a copy of the cached empty database, with an API user whose token is set."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "nemo.sqlite3"
    shutil.copyfile(venv / "project" / "empty.sqlite3", db)
    server = NemoServer(venv=venv, db=db, tz=tz)
    server.token = server.seed({"op": "api_user", "username": "nxhub-harvester"})[0]
    return server
