"""Instrument profiles: per-instrument fixes applied after extraction.

Files often lack the microscope's name, carry naive local times, or spell a
field oddly. A facility describes each instrument once in a TOML file named by
the ``extract.profiles_file`` setting::

    [instruments."FEI-Titan-TEM"]
    timezone = "America/New_York"       # zone of naive vendor times
    set = { microscope = "FEI Titan" }  # always overwrite these fields
    default = { detector = "Ceta" }     # fill these only when missing
    match = { microscope = "Titan" }    # optional: pick this profile when no
                                        # instrument is given and the field
                                        # contains this text (case-insensitive)

The instrument is chosen by the caller's ``instrument`` argument (the name the
hub knows it by); without one, the first profile whose ``match`` fits the
extracted metadata is used. ``set``/``default`` values may be plain values or
quantities (``{value = 300, unit = "kV"}``). The instrument name is also
written as ``instrument`` in every dataset's metadata.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from nexuslims_kernel.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    """Fixes for one instrument."""

    name: str
    timezone: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    default: dict[str, Any] = field(default_factory=dict)
    match: dict[str, str] = field(default_factory=dict)

    def matches(self, metadata: dict[str, Any]) -> bool:
        return bool(self.match) and all(str(v).lower() in str(metadata.get(k, "")).lower() for k, v in self.match.items())

    def apply(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """``metadata`` with this profile's fields set and defaults filled in."""
        out = dict(metadata)
        for key, value in self.default.items():
            out.setdefault(key, value)
        out.update(self.set)
        out["instrument"] = self.name
        return out


_KNOWN_KEYS = {"timezone", "set", "default", "match"}


def parse_profiles(data: dict[str, Any], source: str = "profiles") -> dict[str, Profile]:
    """Profiles from parsed TOML, with one-line errors naming the bad entry."""
    profiles = {}
    for name, entry in (data.get("instruments") or {}).items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: instruments.{name} must be a table")
        unknown = set(entry) - _KNOWN_KEYS
        if unknown:
            raise ConfigError(f"{source}: instruments.{name} has unknown keys {sorted(unknown)}")
        tz = entry.get("timezone")
        if tz is not None:
            from nexuslims_kernel.extract.times import _tzinfo

            if _tzinfo(tz) is None:
                raise ConfigError(f"{source}: instruments.{name}.timezone {tz!r} is not a known time zone")
        profiles[name] = Profile(name=name, timezone=tz, set=dict(entry.get("set") or {}),
                                 default=dict(entry.get("default") or {}), match=dict(entry.get("match") or {}))
    return profiles


@lru_cache(maxsize=8)
def load_profiles(path: Path | None) -> dict[str, Profile]:
    """Profiles from a TOML file (cached per path); none when ``path`` is ``None``."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"instrument profiles file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"instrument profiles file {path} is not valid TOML: {exc}") from None
    return parse_profiles(data, str(path))


def pick_profile(profiles: dict[str, Profile], instrument: str | None, metadata: dict[str, Any] | None = None,
                 timezone: str | None = None) -> Profile | None:
    """The named instrument's profile, else the first whose ``match`` fits ``metadata``.

    ``timezone`` is the instrument's own zone (from the hub's database): it
    applies unless the profile names a zone of its own, which overrides it.
    """
    if instrument:
        profile = profiles.get(instrument) or Profile(name=instrument)
        if timezone and not profile.timezone:
            profile = replace(profile, timezone=timezone)
        return profile
    if metadata:
        return next((p for p in profiles.values() if p.matches(metadata)), None)
    return None
