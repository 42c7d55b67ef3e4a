"""Finish a rosettasciio signal dict the way ``hyperspy.load`` would, without HyperSpy.

Readers return a ``mapping`` (original-metadata path -> metadata path and
converter) that HyperSpy applies after loading, and DigitalMicrograph asks
for ``to_signal1D`` + ``squeeze`` as ``post_process``. Applying them here keeps
HyperSpy (seconds of imports) out of the workers while giving the same
metadata, dimensions and axis order: navigation axes first, as HyperSpy has them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)


def _slug(key: str) -> str:
    return re.sub(r"\W", "_", str(key))


def _get(tree: Any, dotted: str) -> Any:
    """Value at a dotted path; HyperSpy slugifies keys ("Start time" -> "Start_time")."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict):
            raise KeyError(dotted)
        if part not in node:
            part = next((k for k in node if _slug(k) == part), None)
            if part is None:
                raise KeyError(dotted)
        node = node[part]
    return node


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[leaf] = value


def apply_mapping(signal: dict[str, Any]) -> None:
    """Copy values named by the reader's ``mapping`` into ``metadata``."""
    metadata = signal.setdefault("metadata", {})
    original = signal.get("original_metadata") or {}
    for source, (target, function) in (signal.pop("mapping", None) or {}).items():
        try:
            value = _get(original, source)
            if function is not None:
                value = function(value)
        except Exception as exc:  # vendor trees vary; a missing or odd tag is not an error
            log.debug("metadata mapping %s skipped: %s", target, type(exc).__name__)
            continue
        if value is not None:
            _set(metadata, target, value)


def _wants(post: list[Any], name: str) -> bool:
    return any(name in getattr(getattr(f, "__code__", None), "co_names", ()) for f in post)


def _to_signal1d(axes: list[dict[str, Any]]) -> None:
    """DigitalMicrograph spectrum images: the (single) navigation axis is the spectral one."""
    nav = [a for a in axes if a.get("navigate")]
    if len(nav) == 1:
        for ax in axes:
            ax["navigate"] = ax is not nav[0]


def _squeeze(signal: dict[str, Any]) -> None:
    axes = signal["axes"]
    data = signal["data"]
    if len(axes) != data.ndim or data.ndim <= 1:
        return
    keep = [i for i, ax in enumerate(axes) if int(ax.get("size", data.shape[i])) != 1]
    if not keep:
        keep = [data.ndim - 1]
    if len(keep) < data.ndim:
        signal["data"] = data[tuple(slice(None) if i in keep else 0 for i in range(data.ndim))]
        signal["axes"] = [axes[i] for i in keep]


def _navigation_first(signal: dict[str, Any]) -> None:
    axes = signal["axes"]
    data = signal["data"]
    if len(axes) != getattr(data, "ndim", -1) or not all("navigate" in a for a in axes):
        return
    order = [i for i, a in enumerate(axes) if a["navigate"]] + [i for i, a in enumerate(axes) if not a["navigate"]]
    if order != list(range(len(axes))):
        signal["data"] = data.transpose(order)
        signal["axes"] = [axes[i] for i in order]


def finish_signal(signal: dict[str, Any]) -> dict[str, Any]:
    """Apply mapping and post-processing hints in place; returns ``signal``."""
    apply_mapping(signal)
    post = signal.pop("post_process", None) or []
    if signal.get("data") is not None and signal.get("axes"):
        if _wants(post, "to_signal1D"):
            _to_signal1d(signal["axes"])
        if _wants(post, "squeeze"):
            _squeeze(signal)
        _navigation_first(signal)
        _ensure_signal_axes(signal)
    return signal


def _ensure_signal_axes(signal: dict[str, Any]) -> None:
    """No (or unknown) signal axes: the last one or two axes are the signal, as for an image."""
    axes = signal["axes"]
    if any(a.get("navigate") is False for a in axes):
        return
    n_signal = min(2, len(axes))
    for i, ax in enumerate(axes):
        ax["navigate"] = i < len(axes) - n_signal
