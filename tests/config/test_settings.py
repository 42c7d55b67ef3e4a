"""Settings: layering, types and one-line errors a facility admin would see."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexuslims_kernel.config import load_settings, settings_table
from nexuslims_kernel.errors import ConfigError


def test_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    s = load_settings(environ={"NXHUB_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path.resolve()
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'nxhub.db'}"
    assert s.previews_path == tmp_path.resolve() / "previews"
    assert s.extract.preview_size == 512


def test_env_overrides_toml_and_toml_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "nxhub.toml").write_text('log_level = "DEBUG"\n[extract]\npreview_size = 256\ntimeout_s = 5\n')
    s = load_settings(environ={"NXHUB_DATA_DIR": str(tmp_path), "NXHUB_EXTRACT_PREVIEW_SIZE": "128"})
    assert s.extract.preview_size == 128  # env wins
    assert s.extract.timeout_s == 5.0  # from the file
    assert s.log_level == "DEBUG"


def test_explicit_config_file_and_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "site.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[api]\nport = 9000\n')
    s = load_settings(environ={"NXHUB_CONFIG": str(cfg)}, overrides={"api": {"host": "127.0.0.2"}})
    assert (s.api.port, s.api.host) == (9000, "127.0.0.2")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NXHUB_EXTRACT_PREVIEW_SIZE": "big"}, "is not a whole number"),
        ({"NXHUB_EXTRACT_PREVIEW_SIZE": "4"}, "below its minimum"),
        ({"NXHUB_API_PORT": "70000"}, "above its maximum"),
        ({"NXHUB_API_AUTH": "ldap"}, "must be one of standalone, jupyterhub"),
        ({"NXHUB_DATABASE_URL": "mysql://x/y"}, "is not supported"),
        ({"NXHUB_BUILD_HEARTBEAT_S": "soon"}, "is not a number"),
    ],
)
def test_bad_values_give_one_line_errors(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"NXHUB_DATA_DIR": str(tmp_path), **environ})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "nxhub.toml").write_text("[extract]\npreveiw_size = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'extract.preveiw_size' in .*nxhub.toml"):
        load_settings(environ={"NXHUB_DATA_DIR": str(tmp_path)})


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "nxhub.toml").write_text("[extract\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"NXHUB_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"NXHUB_CONFIG": str(tmp_path / "nope.toml")})


def test_every_setting_is_documented() -> None:
    rows = settings_table()
    assert all(doc for _key, _env, _default, doc in rows)
    assert ("extract.preview_size", "NXHUB_EXTRACT_PREVIEW_SIZE") in {(r[0], r[1]) for r in rows}
