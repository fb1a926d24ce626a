"""Display: stored pixel values → 8-bit image (PS3.4 Annex N.2, PS3.3 C.11.1, C.11.2, C.11.6).

The grayscale pipeline of PS3.4 N.2, applied in this order by :func:`to_display`:

1. **Modality LUT** (:func:`apply_modality_lut`, PS3.3 C.11.1): the Modality LUT Sequence
   (0028,3000) when present, otherwise Rescale Slope/Intercept (0028,1053)/(0028,1052)
   (``y = m * x + b``). Rescale Type / Modality LUT Type name the output units
   (:func:`modality_units`).
2. (Mask subtraction is not applied.)
3. **VOI LUT** (:func:`apply_voi_lut`, PS3.3 C.11.2): the VOI LUT Sequence (0028,3010) or
   Window Center/Width (0028,1050)/(0028,1051) with VOI LUT Function (0028,1056) ``LINEAR``
   (C.11.2.1.2.1), ``LINEAR_EXACT`` (C.11.2.1.3.2) or ``SIGMOID`` (C.11.2.1.3.1); several
   windows or LUTs are chosen by ``index``. Without any VOI attribute (and no window given),
   the range of the frame's values is stretched linearly: min → black, max → white (as DCMTK's
   ``dcm2pnm +Wm``).
4. **Presentation LUT** (PS3.3 C.11.6): Presentation LUT Shape (2050,0020) ``INVERSE``, or
   Photometric Interpretation ``MONOCHROME1`` (whose Presentation LUT Shape, where present, is
   ``INVERSE`` for exactly this inversion, PS3.3 C.8.11.7), inverts; ``IDENTITY`` does not.
5. The P-values in [0, 255] are rounded half up to ``uint8``.

Enhanced multi-frame images take Rescale and Window values per frame from the Pixel Value
Transformation (0028,9145) and Frame VOI LUT (0028,9132) functional groups (per-frame first,
then shared, then the top-level data set).

Colour images skip the grayscale pipeline: RGB and YBR (converted by the decoder) and PALETTE
COLOR (:func:`dicomkit.pixels.apply_palette`) are scaled from their sample depth to 8 bits.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dicomkit.dataset import Dataset
from dicomkit.errors import PixelDataError
from dicomkit.pixels.color import apply_palette
from dicomkit.pixels.decode import PixelInfo, pixel_array, pixel_info

__all__ = [
    "VOI_FUNCTIONS",
    "apply_modality_lut",
    "apply_presentation_lut",
    "apply_voi_lut",
    "apply_windowing",
    "modality_units",
    "to_display",
]

#: The VOI LUT Function (0028,1056) values understood (PS3.3 C.11.2.1.3).
VOI_FUNCTIONS = frozenset({"LINEAR", "LINEAR_EXACT", "SIGMOID"})

_SHARED_GROUPS = 0x52009229
_PER_FRAME_GROUPS = 0x52009230
_PIXEL_VALUE_TRANSFORMATION = 0x00289145
_FRAME_VOI_LUT = 0x00289132
_MONOCHROME = frozenset({"MONOCHROME1", "MONOCHROME2"})


# -- attribute lookup ---------------------------------------------------------------------


def _first(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return value[0] if value else None
    return value


def _item(ds: Dataset, tag: int, index: int = 0) -> Dataset | None:
    seq = ds.get(tag)
    if not seq or len(seq) <= index:
        return None
    item = seq[index]
    return item if isinstance(item, Dataset) else None


def _group_item(ds: Dataset, frame: int | None, macro: int) -> Dataset | None:
    """The functional group macro item for ``frame`` (per-frame, else shared), if any."""
    if frame is not None:
        per_frame = _item(ds, _PER_FRAME_GROUPS, frame)
        if per_frame is not None:
            found = _item(per_frame, macro)
            if found is not None:
                return found
    shared = _item(ds, _SHARED_GROUPS)
    return _item(shared, macro) if shared is not None else None


def _source(ds: Dataset, frame: int | None, macro: int, keyword: str) -> Dataset:
    """Where ``keyword`` is defined for ``frame``: a functional group item or ``ds`` itself."""
    item = _group_item(ds, frame, macro)
    return item if item is not None and keyword in item else ds


def _float(value: Any, what: str) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise PixelDataError(f"{what} has an invalid value {value!r}") from None
    if not math.isfinite(result):
        raise PixelDataError(f"{what} is not a finite number: {value!r}")
    return result


def _frames_differ(ds: Dataset, macro: int) -> bool:
    """True when the per-frame functional groups carry ``macro`` (values may differ per frame)."""
    seq = ds.get(_PER_FRAME_GROUPS)
    return bool(seq) and any(isinstance(item, Dataset) and macro in item for item in seq)


def _each_frame(
    arr: np.ndarray,
    ds: Dataset,
    frame: int | None,
    macro: int,
    apply: Callable[[np.ndarray, int | None], Any],
) -> Any:
    """``apply(arr, frame)``, or frame by frame when ``arr`` holds all frames of an enhanced image
    whose per-frame functional groups carry ``macro``."""
    if frame is None and arr.ndim >= 3 and _frames_differ(ds, macro):
        frames = len(ds.get(_PER_FRAME_GROUPS))
        if arr.shape[0] == frames and (arr.ndim == 3 or arr.ndim == 4):
            return np.stack([apply(arr[k], k) for k in range(frames)])
    return apply(arr, frame)


# -- LUTs (C.11.1.1, C.11.2.1.1) ---------------------------------------------------------


def _signed_pixels(ds: Dataset) -> bool:
    try:
        return int(_first(ds.get(0x00280103)) or 0) == 1
    except (TypeError, ValueError):
        return False


def _little(ds: Dataset) -> bool:
    try:
        return pixel_info(ds).little_endian
    except PixelDataError:
        return True


def _lut(item: Dataset, *, signed: bool, little: bool, what: str) -> tuple[np.ndarray, int, int]:
    """(entries, first mapped value, bits per entry) of a Modality or VOI LUT item."""
    desc_elem = item.element(0x00283002)
    data_elem = item.element(0x00283006)
    if desc_elem is None or data_elem is None:
        raise PixelDataError(f"the {what} item needs LUT Descriptor (0028,3002) and LUT Data (0028,3006)")
    desc = desc_elem.value
    if isinstance(desc, bytes | bytearray | memoryview):
        desc = tuple(np.frombuffer(bytes(desc)[:6], "<u2" if little else ">u2").tolist())
    values = list(desc) if isinstance(desc, tuple | list) else [desc]
    if len(values) != 3:
        raise PixelDataError(f"the {what} LUT Descriptor has {len(values)} values, not 3")
    entries, first, bits = (int(v) for v in values)
    entries = entries & 0xFFFF or 65536  # 0 means 2**16 entries (C.11.1.1.1)
    # the first value mapped is US or SS as the pixel data is unsigned or signed (C.11.1.1.1)
    if signed and first > 0x7FFF:
        first -= 0x10000
    elif not signed and first < 0:
        first += 0x10000
    if bits < 1 or bits > 16:
        raise PixelDataError(f"the {what} LUT Descriptor gives {bits} bits per entry (1 to 16 allowed)")
    data = data_elem.value
    if isinstance(data, tuple | list):
        lut = np.asarray([int(v) & 0xFFFF for v in data], dtype=np.uint16)
    else:
        raw = bytes(data_elem.raw if data_elem.raw is not None else (data or b""))
        if bits <= 8 and len(raw) < 2 * entries:
            # 8-bit entries packed two per 16-bit word (8 bits allocated, C.11.1.1.1)
            words = np.frombuffer(raw[: len(raw) // 2 * 2], "<u2" if little else ">u2")
            lut = np.frombuffer(words.astype("<u2").tobytes(), np.uint8).astype(np.uint16)
        else:
            lut = np.frombuffer(raw[: len(raw) // 2 * 2], "<u2" if little else ">u2").astype(np.uint16)
    if lut.size < entries:
        raise PixelDataError(f"the {what} LUT Data has {lut.size} entries, its descriptor says {entries}")
    return lut[:entries], first, bits


def _look_up(arr: np.ndarray, lut: np.ndarray, first: int) -> np.ndarray:
    """Values below the first mapped value take the first entry, above the last the last one."""
    index = np.clip(np.rint(arr).astype(np.int64) - first, 0, lut.size - 1)
    mapped: np.ndarray = lut[index]
    return mapped


# -- Modality LUT (C.11.1) -------------------------------------------------------------------


def apply_modality_lut(arr: np.ndarray, ds: Dataset, *, frame: int | None = None) -> np.ndarray:
    """Stored values → modality values (PS3.3 C.11.1).

    With a Modality LUT Sequence, each value is looked up in its LUT (``uint16`` result; values
    outside the descriptor's range take the first/last entry; the first mapped value is signed
    when Pixel Representation is 1). Otherwise ``m * x + b`` with Rescale Slope/Intercept
    (``float64`` result; from the Pixel Value Transformation functional group for enhanced
    images, ``frame`` 0-based). Without either, ``arr`` is returned unchanged.
    """
    modality_lut = _item(ds, 0x00283000)
    if modality_lut is not None:
        lut, first, _ = _lut(modality_lut, signed=_signed_pixels(ds), little=_little(ds), what="Modality LUT")
        return _look_up(arr, lut, first)

    def rescale(values: np.ndarray, k: int | None) -> np.ndarray:
        src = _source(ds, k, _PIXEL_VALUE_TRANSFORMATION, "RescaleSlope")
        slope, intercept = _first(src.get(0x00281053)), _first(src.get(0x00281052))
        if slope is None and intercept is None:
            return values
        m = 1.0 if slope is None else _float(slope, "(0028,1053) Rescale Slope")
        b = 0.0 if intercept is None else _float(intercept, "(0028,1052) Rescale Intercept")
        return values.astype(np.float64) * m + b

    result: np.ndarray = _each_frame(arr, ds, frame, _PIXEL_VALUE_TRANSFORMATION, rescale)
    return result


def modality_units(ds: Dataset, *, frame: int | None = None) -> str | None:
    """The units of the modality values: Rescale Type (0028,1054) or Modality LUT Type
    (0028,3004); ``"HU"`` for CT with a rescale and no type (PS3.3 C.8.2.1: Rescale Type
    is required only when not HU); ``None`` when unknown."""
    modality_lut = _item(ds, 0x00283000)
    if modality_lut is not None:
        kind = _first(modality_lut.get(0x00283004))
        return str(kind).strip() or None if kind is not None else None
    src = _source(ds, frame, _PIXEL_VALUE_TRANSFORMATION, "RescaleSlope")
    kind = _first(src.get(0x00281054))
    if kind is not None and str(kind).strip():
        return str(kind).strip()
    modality = str(_first(ds.get(0x00080060)) or "").strip().upper()
    if modality == "CT" and (0x00281053 in src or 0x00281052 in src):
        return "HU"
    return None


# -- VOI LUT (C.11.2) ----------------------------------------------------------------------------


def apply_windowing(
    arr: np.ndarray,
    center: float,
    width: float,
    function: str = "LINEAR",
    output_range: tuple[float, float] = (0.0, 255.0),
) -> np.ndarray:
    """Window Center/Width with a VOI LUT Function, as float64 in ``output_range`` (C.11.2.1.2-3).

    ``LINEAR``: width ≥ 1; ``LINEAR_EXACT`` and ``SIGMOID``: width > 0.
    """
    y_min, y_max = output_range
    span = y_max - y_min
    fn = function.strip().upper()
    x = arr.astype(np.float64)
    if fn == "LINEAR":
        if width < 1:
            raise PixelDataError(f"Window Width {width} is less than 1 (LINEAR needs a width >= 1)")
        low, high = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
        if width == 1:  # a threshold: the middle formula is never used
            out = np.where(x <= low, y_min, y_max)
        else:
            out = ((x - (center - 0.5)) / (width - 1) + 0.5) * span + y_min
            out = np.where(x <= low, y_min, np.where(x > high, y_max, out))
    elif fn == "LINEAR_EXACT":
        if width <= 0:
            raise PixelDataError(f"Window Width {width} must be positive for LINEAR_EXACT")
        out = ((x - center) / width + 0.5) * span + y_min
        out = np.where(x <= center - width / 2, y_min, np.where(x > center + width / 2, y_max, out))
    elif fn == "SIGMOID":
        if width <= 0:
            raise PixelDataError(f"Window Width {width} must be positive for SIGMOID")
        with np.errstate(over="ignore"):
            out = span / (1.0 + np.exp(-4.0 * (x - center) / width)) + y_min
    else:
        raise PixelDataError(
            f"(0028,1056) VOI LUT Function {function!r} is not LINEAR, LINEAR_EXACT or SIGMOID"
        )
    return np.asarray(out, dtype=np.float64)


def _windows(src: Dataset) -> list[tuple[float, float]]:
    centers, widths = src.get(0x00281050), src.get(0x00281051)
    if centers is None or widths is None or centers == "" or widths == "":
        return []
    cs = list(centers) if isinstance(centers, tuple | list) else [centers]
    ws = list(widths) if isinstance(widths, tuple | list) else [widths]
    if len(cs) != len(ws):
        raise PixelDataError(
            f"(0028,1050) Window Center has {len(cs)} values but (0028,1051) Window Width has {len(ws)}"
        )
    return [
        (_float(c, "(0028,1050) Window Center"), _float(w, "(0028,1051) Window Width"))
        for c, w in zip(cs, ws, strict=True)
    ]


def _stretch(arr: np.ndarray, output_range: tuple[float, float]) -> np.ndarray:
    """No VOI: min → y_min, max → y_max, linear in between (NaN-safe for float data)."""
    y_min, y_max = output_range
    x = arr.astype(np.float64)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.full(x.shape, y_min)
    low, high = float(finite.min()), float(finite.max())
    if high == low:
        return np.full(x.shape, y_min)
    out: np.ndarray = (np.clip(x, low, high) - low) / (high - low) * (y_max - y_min) + y_min
    return out


def apply_voi_lut(
    arr: np.ndarray,
    ds: Dataset,
    *,
    index: int = 0,
    window: tuple[float, float] | None = None,
    function: str | None = None,
    output_range: tuple[float, float] = (0.0, 255.0),
    prefer_lut: bool = True,
    frame: int | None = None,
) -> np.ndarray:
    """Modality values → values of interest in ``output_range`` (float64; PS3.3 C.11.2).

    ``window=(center, width)`` overrides the data set. Otherwise the VOI LUT Sequence item
    ``index`` (when ``prefer_lut`` or there is no window; its entries scaled from the
    descriptor's bits per entry, 0 … 2**bits - 1, to ``output_range``) or the Window
    Center/Width pair ``index``, with VOI LUT Function (default LINEAR; ``function`` overrides).
    With no VOI at all the values are stretched from their minimum to their maximum.
    Enhanced images take the window from the Frame VOI LUT functional group of ``frame``.
    NaN (float pixel data) maps to ``output_range[0]``.
    """

    def voi(values: np.ndarray, k: int | None) -> np.ndarray:
        src = _source(ds, k, _FRAME_VOI_LUT, "WindowCenter")
        fn = function or str(_first(src.get(0x00281056)) or "LINEAR").strip().upper() or "LINEAR"
        if window is not None:
            return _finite(apply_windowing(values, float(window[0]), float(window[1]), fn, output_range))
        windows = _windows(src)
        luts = ds.get(0x00283010) or []
        if luts and (prefer_lut or not windows):
            if not 0 <= index < len(luts):
                raise PixelDataError(f"VOI LUT {index} requested but the VOI LUT Sequence has {len(luts)}")
            lut, first, bits = _lut(
                luts[index], signed=_signed_pixels(ds), little=_little(ds), what="VOI LUT"
            )
            top = float((1 << bits) - 1)
            if lut.size and int(lut.max()) > top:  # descriptor understates the depth
                top = float((1 << int(lut.max()).bit_length()) - 1)
            y_min, y_max = output_range
            return _look_up(np.nan_to_num(values), lut, first) / top * (y_max - y_min) + y_min
        if windows:
            if not 0 <= index < len(windows):
                raise PixelDataError(f"window {index} requested but the data set has {len(windows)}")
            center, width = windows[index]
            return _finite(apply_windowing(values, center, width, fn, output_range))
        return _stretch(values, output_range)

    def _finite(out: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(out), output_range[0], out)

    result: np.ndarray = _each_frame(arr, ds, frame, _FRAME_VOI_LUT, voi)
    return result


# -- Presentation LUT (C.11.6) ---------------------------------------------------------------


def _inverts(ds: Dataset) -> bool:
    shape = str(_first(ds.get(0x20500020)) or "").strip().upper()
    pi = str(_first(ds.get(0x00280004)) or "").strip().upper()
    return shape == "INVERSE" or pi == "MONOCHROME1"


def apply_presentation_lut(
    arr: np.ndarray, ds: Dataset, output_range: tuple[float, float] = (0.0, 255.0)
) -> np.ndarray:
    """Invert within ``output_range`` for MONOCHROME1 or Presentation LUT Shape INVERSE."""
    if not _inverts(ds):
        return arr
    y_min, y_max = output_range
    inverted: np.ndarray = y_max + y_min - arr
    return inverted


# -- the whole pipeline ------------------------------------------------------------------------


def _to_uint8(values: np.ndarray) -> np.ndarray:
    out = np.floor(values + 0.5)
    np.clip(out, 0.0, 255.0, out=out)
    return out.astype(np.uint8)


def _scale_colour(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8 and bits == 8:
        return np.ascontiguousarray(arr)
    if arr.dtype.kind == "f":
        return _to_uint8(_stretch(arr, (0.0, 255.0)))
    top = float((1 << bits) - 1)
    return _to_uint8(np.clip(arr.astype(np.float64), 0.0, top) * (255.0 / top))


def _grey_frame(
    arr: np.ndarray, ds: Dataset, frame: int | None, window: tuple[float, float] | None, index: int
) -> np.ndarray:
    modality = apply_modality_lut(arr, ds, frame=frame)
    voi = apply_voi_lut(modality, ds, index=index, window=window, frame=frame)
    return _to_uint8(apply_presentation_lut(voi, ds))


def _colour(arr: np.ndarray, ds: Dataset, info: PixelInfo) -> np.ndarray:
    if info.photometric_interpretation == "PALETTE COLOR":
        rgb = apply_palette(arr, ds, little=info.little_endian)
        if rgb.dtype == np.uint8:
            return rgb
        bits = 16
        first = ds.get(0x00281101)
        if isinstance(first, tuple | list) and len(first) == 3 and int(first[2]) in range(9, 17):
            bits = int(first[2])
        return _scale_colour(rgb, bits)
    if info.samples_per_pixel != 3:
        raise PixelDataError(
            f"cannot display Photometric Interpretation {info.photometric_interpretation} "
            f"with {info.samples_per_pixel} samples per pixel"
        )
    bits = info.bits_stored if info.bits_stored <= info.bits_allocated else info.bits_allocated
    return _scale_colour(arr, bits)


def to_display(
    ds: Dataset,
    frame: int | None = None,
    *,
    window: tuple[float, float] | None = None,
    index: int = 0,
) -> np.ndarray:
    """The 8-bit image to show: ``uint8`` (rows, cols) for grey, (rows, cols, 3) RGB for colour.

    ``frame`` (0-based) selects one frame; ``None`` gives every frame of a multi-frame image,
    (frames, rows, cols[, 3]), like :func:`dicomkit.pixels.pixel_array`. Grey images go
    through the PS3.4 N.2 pipeline (see the module docstring); ``window=(center, width)``
    replaces the data set's VOI and ``index`` chooses among several windows or VOI LUTs.
    Colour images are converted to RGB (YBR by the decoder, PALETTE COLOR through its LUTs)
    and scaled to 8 bits.
    """
    info = pixel_info(ds)
    pi = info.photometric_interpretation
    arr = pixel_array(ds, frame)
    multi = frame is None and info.number_of_frames > 1
    if pi not in _MONOCHROME:
        return _colour(arr, ds, info)
    if info.samples_per_pixel != 1:
        raise PixelDataError(f"{pi} needs 1 sample per pixel, not {info.samples_per_pixel}")
    if not multi:
        return _grey_frame(arr, ds, frame, window, index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.stack([_grey_frame(arr[k], ds, k, window, index) for k in range(arr.shape[0])])
