"""PNG thumbnails computed from the (lazy) signal array with down-sampling.

Only a strided or reduced view is ever computed: the middle frame of a stack,
every n-th pixel of a big image, a chunk-wise sum of a spectrum image. Dask
runs with the synchronous scheduler so memory stays at about one chunk.
Spectra are drawn with Pillow (importing matplotlib would cost seconds).
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BG = (255, 255, 255)
FG = (30, 30, 30)
LINE = (31, 119, 180)


def preview_path(preview_dir: Path, source: str | os.PathLike[str], index: int) -> Path:
    """Stable name from the source path and signal index, so rebuilds overwrite."""
    digest = hashlib.sha1(f"{os.path.abspath(source)}\0{index}".encode()).hexdigest()[:24]
    return Path(preview_dir) / f"{digest}.png"


def _compute(array: Any) -> np.ndarray:
    if hasattr(array, "compute"):
        array = array.compute(scheduler="synchronous")
    return np.asarray(array)


def _as_float(array: np.ndarray) -> np.ndarray:
    """Magnitude of complex data, float of anything else (RGB handled separately)."""
    if array.dtype.kind == "c":
        return np.abs(array).astype(np.float64)
    return array.astype(np.float64)


def _is_rgb(array: Any) -> bool:
    names = getattr(array.dtype, "names", None)
    return bool(names) and set(names) >= {"R", "G", "B"}


def _nav_mask(axes: list[dict[str, Any]], ndim: int, n_signal: int) -> list[bool]:
    if len(axes) == ndim and any(not a["navigate"] for a in axes):
        return [bool(a["navigate"]) for a in axes]
    return [True] * (ndim - n_signal) + [False] * min(n_signal, ndim)


def _stride(n: int, target: int) -> int:
    return max(1, math.ceil(n / max(1, target)))


def _image_view(data: Any, nav: list[bool], size: int) -> Any:
    """Middle frame of every navigation axis, signal axes strided to about 2x the thumbnail."""
    index = tuple(slice(None, None, _stride(n, 2 * size)) if not is_nav else n // 2
                  for n, is_nav in zip(data.shape, nav))
    view = data[index]
    while view.ndim > 2:  # more than two signal dims: keep the last two
        view = view[view.shape[0] // 2]
    return view


def _scale_to_uint8(img: np.ndarray, log: bool) -> tuple[np.ndarray, bool]:
    """(uint8 image, is_uniform) with percentile clipping; log scale for diffraction."""
    img = np.where(np.isfinite(img), img, np.nan)
    if log:
        img = np.log1p(np.clip(img - np.nanmin(img), 0, None)) if np.isfinite(np.nanmin(img)) else img
    finite = img[np.isfinite(img)]
    if finite.size == 0:
        return np.zeros(img.shape, np.uint8), True
    lo, hi = np.percentile(finite, [0.5, 99.5])
    if hi <= lo:
        lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return np.full(img.shape, 128, np.uint8), True
    scaled = np.clip((np.nan_to_num(img, nan=lo) - lo) / (hi - lo), 0, 1)
    return (scaled * 255).astype(np.uint8), False


def _fit(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    factor = size / max(w, h)
    new = (max(1, round(w * factor)), max(1, round(h * factor)))
    return img.resize(new, Image.Resampling.NEAREST if factor > 1 else Image.Resampling.LANCZOS)


def _label(img: Image.Image, text: str) -> Image.Image:
    """Mark an image whose content is uniform, so the thumbnail is never a blank square."""
    img = img.convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size
    draw.rectangle([0, 0, w - 1, h - 1], outline=(200, 30, 30), width=max(1, w // 100))
    draw.text((max(2, w // 20), h // 2), text, fill=(200, 30, 30), font=_font(max(10, w // 24)))
    return img


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def image_thumbnail(view: Any, size: int, log: bool = False) -> Image.Image:
    """A 2-D view (RGB, complex or real) as a contrast-stretched PIL image."""
    array = _compute(view)
    if _is_rgb(array):
        channels = np.stack([array[c] for c in ("R", "G", "B")], axis=-1)
        pil = _fit(Image.fromarray(channels.astype(np.uint8), "RGB"), size)
        return _label(pil, "uniform colour") if channels.min() == channels.max() else pil
    if array.ndim == 1:
        array = array[np.newaxis, :]
    img, uniform = _scale_to_uint8(_as_float(array), log)
    pil = _fit(Image.fromarray(img, "L"), size)
    if uniform:
        pil = _label(pil, f"uniform value {float(np.nanmax(_as_float(array))) if array.size else 0:g}")
    return pil


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for mult in (1, 2, 5, 10):
        if (hi - lo) / (step * mult) <= n:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _short(value: float) -> str:
    """Compact tick label: 0, 250, 1.5k, 20k, 3M, 0.02."""
    mag = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if mag >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


# X-ray spectra start with a noise (zero-strobe) peak far above any line; it is drawn clipped,
# and the intensity scale is set by the spectrum above this energy.
_SCALE_FROM = {"kev": 0.2}


def _scale_start(y: np.ndarray, axis: dict[str, Any] | None) -> int:
    """First channel used for the y scale (past the zero-energy peak of an X-ray spectrum)."""
    axis = axis or {}
    cut = _SCALE_FROM.get(str(axis.get("units") or "").strip().lower())
    scale, offset = axis.get("scale") or 1.0, axis.get("offset") or 0.0
    if cut is None or scale <= 0:
        return 0
    first = math.ceil((cut - offset) / scale)
    return first if 0 < first < y.size * 0.9 else 0


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont) -> tuple[int, int]:
    box = draw.textbbox((0, 0), text, font=font)
    return box[2] - box[0], box[3] - box[1]


def plot_thumbnail(y: np.ndarray, axis: dict[str, Any] | None, width: int, height: int) -> Image.Image:
    """A line plot of ``y`` against its (energy, wavelength, time ...) axis, labelled outside the frame."""
    y = np.nan_to_num(_as_float(np.asarray(y)).ravel())
    scale = (axis or {}).get("scale") or 1.0
    offset = (axis or {}).get("offset") or 0.0
    x0, x1 = offset, offset + scale * max(1, y.size - 1)
    img = Image.new("RGB", (width, height), BG)
    draw = ImageDraw.Draw(img)
    font = _font(max(9, height // 16))
    scaled = y[_scale_start(y, axis):] if y.size else y
    lo = min(0.0, float(scaled.min())) if scaled.size else 0.0
    hi = float(scaled.max()) if scaled.size else 1.0
    hi = hi + 0.05 * (hi - lo) if hi > lo else lo + 1.0
    y_ticks = _ticks(lo, hi, 5)
    y_labels = [_short(t) for t in y_ticks]
    label_w = max(_text_size(draw, t, font)[0] for t in y_labels)
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (10, 3)
    text_h = ascent + descent
    x_ticks = _ticks(min(x0, x1), max(x0, x1))
    last_w = _text_size(draw, _short(x_ticks[-1]), font)[0] if x_ticks else 0
    left, top = label_w + 8, max(4, text_h // 2 + 2)
    right, bottom = width - max(6, last_w // 2 + 2), height - (2 * text_h + 10)
    draw.rectangle([left, top, right, bottom], outline=FG)
    if y.size:
        stride = _stride(y.size, 2 * (right - left))
        ys = y[: (y.size // stride) * stride or y.size].reshape(-1, stride).max(axis=1) if y.size >= stride else y
        n, span = len(ys), hi - lo
        points = [(left + (right - left) * i / max(1, n - 1), bottom - (bottom - top) * (min(max(v, lo), hi) - lo) / span)
                  for i, v in enumerate(ys)]
        draw.line(points if n > 1 else points * 2, fill=LINE, width=max(1, width // 300))
    for tick, text in zip(y_ticks, y_labels):
        py = bottom - (bottom - top) * (tick - lo) / (hi - lo)
        if top - 1 <= py <= bottom + 1:
            draw.line([(left - 3, py), (left, py)], fill=FG)
            draw.text((left - 5, py), text, fill=FG, font=font, anchor="rm")
    for tick in x_ticks:
        px = left + (right - left) * (tick - x0) / ((x1 - x0) or 1)
        text = _short(tick)
        draw.line([(px, bottom), (px, bottom + 3)], fill=FG)
        draw.text((px, bottom + 4), text, fill=FG, font=font, anchor="ma")
    name = (axis or {}).get("name") or ""
    units = (axis or {}).get("units") or ""
    title = f"{name} ({units})" if units and name else name or units
    if title:
        tw = _text_size(draw, title, font)[0]
        draw.text((max(2, (left + right - tw) / 2), bottom + text_h + 6), title, fill=FG, font=font)
    return img


def _write(img: Image.Image, out: Path) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    img.save(tmp, "PNG")
    os.replace(tmp, out)
    return str(out)


def render(data: Any, axes: list[dict[str, Any]], kind: str, size: int) -> Image.Image | None:
    """The thumbnail of one signal, or ``None`` when the data has no elements."""
    if data is None or 0 in getattr(data, "shape", (0,)) or data.ndim == 0:
        return None
    if kind in ("Spectrum", "SpectrumImage") or (kind == "Misc" and _n_signal(axes, data.ndim) == 1):
        return _spectral(data, axes, kind, size)
    nav = _nav_mask(axes, data.ndim, 2)
    return image_thumbnail(_image_view(data, nav, size), size, log=kind == "Diffraction")


def _n_signal(axes: list[dict[str, Any]], ndim: int) -> int:
    return sum(1 for a in axes if not a["navigate"]) if len(axes) == ndim else min(2, ndim)


def _spectral(data: Any, axes: list[dict[str, Any]], kind: str, size: int) -> Image.Image:
    nav = _nav_mask(axes, data.ndim, 1)
    nav_dims = tuple(i for i, is_nav in enumerate(nav) if is_nav)
    sig_axis = next((a for a, is_nav in zip(axes, nav) if not is_nav), None) if len(axes) == data.ndim else None
    if data.dtype.kind == "c" or _is_rgb(data):
        data = abs(data) if data.dtype.kind == "c" else data
    spectrum = _compute(data.sum(axis=nav_dims) if nav_dims else data)
    if kind != "SpectrumImage" or not nav_dims:
        return plot_thumbnail(spectrum, sig_axis, size, max(16, size * 2 // 3))
    half = size // 2
    index = tuple(slice(None, None, _stride(n, 2 * half)) if is_nav else slice(None) for n, is_nav in zip(data.shape, nav))
    strided = data[index]
    nav_img = strided.sum(axis=-1) if len(nav_dims) >= 2 else strided
    while nav_img.ndim > 2:
        nav_img = nav_img[nav_img.shape[0] // 2]
    left = plot_thumbnail(spectrum, sig_axis, half, half)
    right = image_thumbnail(nav_img, half)
    canvas = Image.new("RGB", (size, half), BG)
    canvas.paste(left, (0, 0))
    canvas.paste(right.convert("RGB"), (half + (half - right.width) // 2, (half - right.height) // 2))
    return canvas


def save_preview(data: Any, axes: list[dict[str, Any]], kind: str, size: int, out: Path) -> str | None:
    """Render and atomically write the thumbnail; the written path or ``None``."""
    img = render(data, axes, kind, size)
    return _write(img, out) if img is not None else None
