"""Native pixel data from numpy arrays: ``set_pixel_data(ds, array, ...)``.

Owns writing native (uncompressed) Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008) and
Double Float Pixel Data (7FE0,0009) (PS3.5 section 8.1, 8.1.1 for 1-bit packing; PS3.3
C.7.6.3 Image Pixel module, C.7.6.24 Floating Point Image Pixel module) and making the pixel
module describe it: Rows, Columns, Samples per Pixel, Bits Allocated, Bits Stored, High Bit,
Pixel Representation, Photometric Interpretation, Planar Configuration and Number of Frames.

Shapes are read as :func:`dicomkit.pixels.pixel_array` returns them: ``(rows, cols)``,
``(rows, cols, samples)``, ``(frames, rows, cols)``, ``(frames, rows, cols, samples)``. A 3-D
array is one colour frame when its photometric interpretation has 3 samples (RGB, YBR_*),
else frames of one sample; without ``photometric_interpretation`` a 3-D array whose last axis
is 3 and any 4-D array are RGB, everything else MONOCHROME2.

The dtype decides Bits Allocated and Pixel Representation: ``bool`` → 1 bit (packed, PS3.5
8.1.1), (u)int8 → 8, (u)int16 → 16, (u)int32 → 32, (u)int64 → 64 (signed kinds → Pixel
Representation 1); ``float32``/``float64`` → Float/Double Float Pixel Data. Bits Stored
defaults to Bits Allocated; values that do not fit in Bits Stored raise
:class:`~dicomkit.errors.PixelDataError`.

The bytes are written in the byte order of the data set's transfer syntax when it is a
native one (so ``pixel_array(ds)`` reads back what was set, and writing in that syntax keeps
it); when the data set has no file meta or an encapsulated transfer syntax, the transfer
syntax becomes Explicit VR Little Endian. Attributes the new pixels make stale are removed:
the other pixel data elements, the Extended Offset Table (7FE0,0001)/(7FE0,0002), Smallest/
Largest Image Pixel Value (0028,0106)/(0028,0107) and Smallest/Largest Pixel Value in Series
(0028,0108)/(0028,0109), Pixel Padding Value/Range Limit (0028,0120)/(0028,0121) when Pixel
Representation changes (their VR follows it), Planar Configuration for one
sample, and the palette lookup tables unless the interpretation is PALETTE COLOR. Lossy Image
Compression attributes are kept: they record the history of the pixel values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dicomkit import dictionary
from dicomkit.dataset import DataElement, Dataset
from dicomkit.errors import PixelDataError
from dicomkit.uid import EXPLICIT_VR_LITTLE_ENDIAN, transfer_syntax
from dicomkit.vr import VR

__all__ = ["set_pixel_data"]

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
TRANSFER_SYNTAX_UID = 0x00020010

_COLOR = frozenset({"RGB", "YBR_FULL", "YBR_ICT", "YBR_RCT", "HSV", "XYB"})
_ONE_SAMPLE = frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR"})
_SUPPORTED = _COLOR | _ONE_SAMPLE

# attributes that describe the old pixel values or layout (removed when pixels are replaced)
_STALE = (
    0x7FE00001,  # Extended Offset Table
    0x7FE00002,  # Extended Offset Table Lengths
    0x00280106,  # Smallest Image Pixel Value
    0x00280107,  # Largest Image Pixel Value
    0x00280108,  # Smallest Pixel Value in Series
    0x00280109,  # Largest Pixel Value in Series
)
# PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5, C.7.9): removed for other interpretations
_PALETTE = (
    0x00281101, 0x00281102, 0x00281103, 0x00281104, 0x00281199,
    0x00281201, 0x00281202, 0x00281203, 0x00281204,
    0x00281221, 0x00281222, 0x00281223, 0x00281224,
)  # fmt: skip


def put(ds: Dataset, keyword: str, value: Any) -> None:
    """Set ``keyword`` to ``value`` as a new element (an element shared with a copied data set
    is replaced, never changed in place)."""
    tag = dictionary.tag_or_none(keyword)
    assert tag is not None, keyword
    vr = dictionary.vr_of(tag) or "UN"
    if " or " in vr:
        vr = vr.split(" or ")[0]
    ds[tag] = DataElement(tag, vr, value)


def drop(ds: Dataset, *tags: int) -> None:
    """Remove ``tags`` from ``ds`` where present."""
    for tag in tags:
        if tag in ds:
            del ds[tag]


def _layout(arr: np.ndarray, pi: str | None) -> tuple[int, int, int, int, str]:
    """(frames, rows, columns, samples, photometric) of ``arr``; frames 0 means no frame axis."""
    shape = arr.shape
    if pi is None:
        color = (arr.ndim == 3 and shape[-1] == 3) or arr.ndim == 4
        pi = "RGB" if color else "MONOCHROME2"
    pi = pi.strip().upper()
    if pi not in _SUPPORTED:
        hint = " (give the full-resolution samples as YBR_FULL)" if pi.startswith("YBR_") else ""
        raise PixelDataError(f"set_pixel_data cannot store Photometric Interpretation {pi!r}{hint}")
    samples = 3 if pi in _COLOR else 1
    if samples == 1 and arr.ndim in (2, 3):
        frames, rows, cols = (0, *shape) if arr.ndim == 2 else shape
    elif samples == 3 and arr.ndim in (3, 4) and shape[-1] == 3:
        frames, rows, cols = (0, *shape[:2]) if arr.ndim == 3 else shape[:3]
    else:
        want = (
            "(rows, cols) or (frames, rows, cols)"
            if samples == 1
            else "(rows, cols, 3) or (frames, rows, cols, 3)"
        )
        raise PixelDataError(f"an array of shape {shape} does not fit {pi}: the shape must be {want}")
    if arr.size == 0:
        raise PixelDataError(f"an array of shape {shape} has no pixels")
    if rows > 0xFFFF or cols > 0xFFFF:
        raise PixelDataError(f"Rows and Columns are at most 65535, the array has shape {shape}")
    return frames, rows, cols, samples, pi


def _check_range(arr: np.ndarray, bits_stored: int, signed: bool) -> None:
    if arr.size == 0:
        return
    lo, hi = int(arr.min()), int(arr.max())
    if signed:
        low, high = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    else:
        low, high = 0, (1 << bits_stored) - 1
    if lo < low or hi > high:
        kind = "signed" if signed else "unsigned"
        raise PixelDataError(
            f"pixel values {lo}..{hi} do not fit Bits Stored {bits_stored} ({kind}: {low}..{high})"
        )


def _byte_order(ds: Dataset) -> bool:
    """Little endian? Switches the data set to Explicit VR Little Endian when its transfer
    syntax is missing, unknown or encapsulated."""
    meta = ds.meta if isinstance(ds.meta, Dataset) else None
    uid = str(meta.get(TRANSFER_SYNTAX_UID) or "").strip("\x00 ") if meta is not None else ""
    ts = transfer_syntax(uid) if uid else None
    if ts is not None and not ts.encapsulated:
        return ts.little_endian
    new_meta = meta.copy() if meta is not None else Dataset()
    new_meta[TRANSFER_SYNTAX_UID] = DataElement(TRANSFER_SYNTAX_UID, VR.UI, EXPLICIT_VR_LITTLE_ENDIAN.uid)
    ds.meta = new_meta
    return True


def set_pixel_data(
    ds: Dataset,
    array: Any,
    *,
    photometric_interpretation: str | None = None,
    bits_stored: int | None = None,
    planar_configuration: int = 0,
    bits_allocated: int | None = None,
) -> None:
    """Store ``array`` as the native pixel data of ``ds`` and make its pixel module match.

    See the module docstring for how shapes and dtypes map to the attributes.
    ``bits_allocated=1`` packs a 0/1 integer array as 1-bit data (a ``bool`` array is packed
    anyway); ``planar_configuration=1`` stores colour samples plane by plane.
    Raises :class:`~dicomkit.errors.PixelDataError` for anything that cannot be stored.
    """
    arr = np.asarray(array)
    if arr.dtype.kind not in "biuf":
        raise PixelDataError(f"pixel data must be integer, bool or float, not {arr.dtype}")
    frames, rows, cols, samples, pi = _layout(arr, photometric_interpretation)
    if planar_configuration not in (0, 1):
        raise PixelDataError(f"Planar Configuration must be 0 or 1, not {planar_configuration}")
    is_float = arr.dtype.kind == "f"
    if arr.dtype.kind == "b" or bits_allocated == 1:
        if arr.dtype.kind == "b":
            arr = arr.astype(np.uint8)
        if arr.dtype.kind == "f":
            raise PixelDataError("1-bit pixel data needs integer or bool values")
        ba = 1
    else:
        ba = arr.dtype.itemsize * 8
        if bits_allocated is not None and bits_allocated != ba:
            raise PixelDataError(
                f"Bits Allocated {bits_allocated} does not match the array's dtype {arr.dtype} ({ba} bits); "
                "convert the array first"
            )
    if is_float:
        if samples != 1:
            raise PixelDataError("Float and Double Float Pixel Data hold one sample per pixel")
        if ba not in (32, 64):
            raise PixelDataError(f"float pixel data must be float32 or float64, not {arr.dtype}")
        if bits_stored not in (None, ba):
            raise PixelDataError(f"Bits Stored of {arr.dtype} pixel data is {ba}, not {bits_stored}")
    signed = arr.dtype.kind == "i"
    bs = ba if bits_stored is None else int(bits_stored)
    if not 1 <= bs <= ba:
        raise PixelDataError(f"Bits Stored {bs} must be between 1 and Bits Allocated {ba}")
    if not is_float:
        _check_range(arr, bs, signed)
    if ba == 1 and signed:
        raise PixelDataError("1-bit pixel data is unsigned")
    little = _byte_order(ds)

    # bytes: frames contiguous, samples interleaved (or planes), the transfer syntax's byte order
    data = arr.reshape(max(frames, 1), rows, cols, samples)
    if samples > 1 and planar_configuration == 1:
        data = data.transpose(0, 3, 1, 2)
    if ba == 1:
        raw = np.packbits(np.ascontiguousarray(data).reshape(-1), bitorder="little").tobytes()
    else:
        dtype = arr.dtype.newbyteorder("<" if little else ">")
        raw = np.ascontiguousarray(data, dtype=dtype).tobytes()
    if len(raw) & 1:
        raw += b"\0"

    if is_float:
        tag = FLOAT_PIXEL_DATA if ba == 32 else DOUBLE_FLOAT_PIXEL_DATA
        vr = VR.OF if ba == 32 else VR.OD
    else:
        tag, vr = PIXEL_DATA, (VR.OB if ba <= 8 else VR.OW)
    old_pr = ds.get(0x00280103)
    if is_float or old_pr is None or str(old_pr).strip() != str(1 if signed else 0):
        # US or SS by Pixel Representation (PS3.3 C.7.5.1.1.2): stale when it changes
        drop(ds, 0x00280120, 0x00280121)  # Pixel Padding Value, Pixel Padding Range Limit
    drop(ds, *(t for t in (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA) if t != tag), *_STALE)
    if pi != "PALETTE COLOR":
        drop(ds, *_PALETTE)
    ds[tag] = DataElement(tag, vr, raw)
    put(ds, "Rows", rows)
    put(ds, "Columns", cols)
    put(ds, "SamplesPerPixel", samples)
    put(ds, "PhotometricInterpretation", pi)
    put(ds, "BitsAllocated", ba)
    if is_float:
        drop(ds, 0x00280101, 0x00280102, 0x00280103)  # not in the Floating Point Image Pixel module
    else:
        put(ds, "BitsStored", bs)
        put(ds, "HighBit", bs - 1)
        put(ds, "PixelRepresentation", 1 if signed else 0)
    if samples > 1:
        put(ds, "PlanarConfiguration", planar_configuration)
    else:
        drop(ds, 0x00280006)
    if frames or 0x00280008 in ds:
        put(ds, "NumberOfFrames", max(frames, 1))
