"""Colour: YCbCr ↔ RGB conversion and PALETTE COLOR lookup (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5, C.7.9).

``convert_color_space(arr, current, desired)`` converts between ``RGB`` and ``YBR_FULL`` /
``YBR_FULL_422`` (the 4:2:2 subsampling is undone when decoding, so both use the full-range
ITU-R BT.601 equations of PS3.3 C.7.6.3.1.2 / ISO/IEC 10918-5 section 7). ``YBR_RCT`` and
``YBR_ICT`` are the JPEG 2000 component transforms, which the JPEG 2000 decoder already
inverts: the decoded array *is* RGB, so converting from them is the identity.

Results are rounded half up and clipped to the range of the array's integer type, computed in
float32 (which, for 8-bit data, gives the same values as pydicom's ``convert_color_space``).

``apply_palette(arr, ds)`` maps PALETTE COLOR indices through the Red/Green/Blue Palette Color
Lookup Tables, plain (0028,1201-1203) or segmented (0028,1221-1223, C.7.9.2).
"""

from __future__ import annotations

import struct

import numpy as np

from dicomkit.dataset import Dataset
from dicomkit.errors import PixelDataError

__all__ = ["apply_palette", "convert_color_space", "palette_lut"]

_YBR = frozenset({"YBR_FULL", "YBR_FULL_422"})
_J2K_RGB = frozenset({"YBR_RCT", "YBR_ICT"})

# rows: Y, Cb, Cr contributions to R, G, B (PS3.3 C.7.6.3.1.2, ISO/IEC 10918-5 section 7)
_YBR_TO_RGB = np.array(
    [[1.0, 1.0, 1.0], [0.0, -0.114 * 1.772 / 0.587, 1.772], [1.402, -0.299 * 1.402 / 0.587, 0.0]],
    dtype=np.float32,
)
_RGB_TO_YBR = np.array(
    [[0.299, -0.299 / 1.772, 0.5], [0.587, -0.587 / 1.772, -0.587 / 1.402], [0.114, 0.5, -0.114 / 1.402]],
    dtype=np.float32,
)


def convert_color_space(arr: np.ndarray, current: str, desired: str) -> np.ndarray:
    """Convert a (..., 3) array between ``RGB`` and ``YBR_FULL``/``YBR_FULL_422``.

    Unsigned integer input only (the equations are defined for an offset of half the range).
    ``YBR_RCT``/``YBR_ICT`` → ``RGB`` is the identity (the JPEG 2000 decoder inverts the
    component transform). Returns a new array of the input's dtype (the input itself when
    nothing changes).
    """
    cur = current.strip().upper()
    want = desired.strip().upper()
    if cur == want or (cur in _YBR and want in _YBR) or (cur in _J2K_RGB and want == "RGB"):
        return arr
    if arr.shape[-1:] != (3,):
        raise PixelDataError(f"colour conversion needs 3 samples per pixel, the array has shape {arr.shape}")
    if arr.dtype.kind != "u":
        raise PixelDataError(f"colour conversion needs unsigned integer samples, not {arr.dtype}")
    if cur in _YBR and want == "RGB":
        matrix, offset_in, offset_out = _YBR_TO_RGB, True, False
    elif cur == "RGB" and want in _YBR:
        matrix, offset_in, offset_out = _RGB_TO_YBR, False, True
    else:
        raise PixelDataError(f"conversion from {current!r} to {desired!r} is not supported")
    bits = arr.dtype.itemsize * 8
    half = float(1 << (bits - 1))
    top = float((1 << bits) - 1)
    work = arr.astype(np.float32)
    if offset_in:
        work -= np.array([0.0, half, half], dtype=np.float32)
    out = work @ matrix
    if offset_out:
        out += np.array([0.0, half, half], dtype=np.float32)
    out += 0.5
    np.floor(out, out=out)
    np.clip(out, 0.0, top, out=out)
    return out.astype(arr.dtype.newbyteorder("="))


# -- PALETTE COLOR ------------------------------------------------------------------------


def _descriptor(ds: Dataset, tag: int) -> tuple[int, int, int]:
    elem = ds.element(tag)
    if elem is None:
        raise PixelDataError(
            f"PALETTE COLOR needs the Palette Color Lookup Table Descriptor ({tag >> 16:04X},{tag & 0xFFFF:04X})"
        )
    value = elem.value
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        value = struct.unpack(f"<{len(raw) // 2}H", raw[: len(raw) // 2 * 2])
    vals = list(value) if isinstance(value, tuple | list) else [value]
    if len(vals) != 3:
        raise PixelDataError(f"Palette Color Lookup Table Descriptor has {len(vals)} values, not 3")
    entries, first, bits = (int(v) for v in vals)
    entries = entries & 0xFFFF or 65536  # 0 means 2**16 (C.7.6.3.1.5)
    return entries, first & 0xFFFF if first < 0 else first, bits


def _words(ds: Dataset, tag: int, little: bool) -> np.ndarray:
    elem = ds.element(tag)
    if elem is None:
        raise PixelDataError(f"PALETTE COLOR LUT data ({tag >> 16:04X},{tag & 0xFFFF:04X}) is missing")
    value = elem.raw if elem.raw is not None else elem.value
    if isinstance(value, tuple | list):
        return np.asarray(value, dtype=np.uint16)
    raw = bytes(value)
    return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<u2" if little else ">u2").astype(np.uint16)


def _expand_segmented(words: np.ndarray, entries: int) -> np.ndarray:
    """PS3.3 C.7.9.2: discrete (0), linear (1) and indirect (2) segments → LUT values."""
    out: list[float] = []
    _run_segments([int(w) for w in words], 0, None, out, indirect=True)
    lut = np.rint(np.asarray(out[:entries], dtype=np.float64)).astype(np.uint16)
    if lut.size < entries:
        lut = np.concatenate((lut, np.full(entries - lut.size, lut[-1] if lut.size else 0, np.uint16)))
    return lut


def _run_segments(data: list[int], pos: int, count: int | None, out: list[float], *, indirect: bool) -> None:
    """Append the values of ``count`` segments (all when None) starting at word ``pos`` to ``out``;
    an indirect segment re-runs segments found earlier in ``data`` (not nested further)."""
    done = 0
    n = len(data)
    while pos + 1 < n and (count is None or done < count):
        op, length = data[pos], data[pos + 1]
        pos += 2
        done += 1
        if op == 0:
            out.extend(data[pos : pos + length])
            pos += length
        elif op == 1:
            if not out:
                raise PixelDataError("segmented LUT starts with a linear segment")
            y0, y1 = out[-1], data[pos]
            pos += 1
            out.extend(y0 + (y1 - y0) * (k + 1) / length for k in range(length))
        elif op == 2:
            if not indirect:
                raise PixelDataError("nested indirect segments in a segmented LUT are not supported")
            offset = data[pos] | data[pos + 1] << 16
            pos += 2
            _run_segments(data, offset, length, out, indirect=False)
        else:
            raise PixelDataError(f"segmented LUT has unknown segment type {op}")


def palette_lut(ds: Dataset, little: bool = True) -> tuple[np.ndarray, int, int]:
    """The (entries, 3) RGB palette, the first mapped value and the bits per entry."""
    tables = []
    first = bits = 0
    for k, (desc_tag, data_tag, seg_tag) in enumerate(
        (
            (0x00281101, 0x00281201, 0x00281221),
            (0x00281102, 0x00281202, 0x00281222),
            (0x00281103, 0x00281203, 0x00281223),
        )
    ):
        entries, first_k, bits_k = _descriptor(ds, desc_tag)
        if k == 0:
            first, bits = first_k, bits_k
        if data_tag in ds:
            words = _words(ds, data_tag, little)
            if bits_k == 8 and words.size * 2 == entries + entries % 2 and words.size != entries:
                # 8-bit entries packed two per word
                raw = words.astype("<u2").tobytes()
                lut = np.frombuffer(raw, dtype=np.uint8)[:entries].astype(np.uint16)
            else:
                lut = words[:entries]
        elif seg_tag in ds:
            lut = _expand_segmented(_words(ds, seg_tag, little), entries)
        else:
            raise PixelDataError(
                f"PALETTE COLOR needs ({data_tag >> 16:04X},{data_tag & 0xFFFF:04X}) or its segmented form"
            )
        if lut.size < entries:
            raise PixelDataError(f"palette LUT has {lut.size} entries, its descriptor says {entries}")
        tables.append(lut)
    size = min(t.size for t in tables)
    return np.stack([t[:size] for t in tables], axis=-1), first, bits


def apply_palette(arr: np.ndarray, ds: Dataset, *, little: bool = True) -> np.ndarray:
    """Map PALETTE COLOR indices to RGB: (..., 3) ``uint8`` when the LUT entries are 8-bit, else ``uint16``.

    Indices below the first mapped value take the first entry, above the last the last entry
    (C.7.6.3.1.5). ``little`` is the byte order of OW LUT data (the data set's).
    """
    lut, first, bits = palette_lut(ds, little)
    index = np.clip(arr.astype(np.int64) - first, 0, lut.shape[0] - 1)
    out = lut[index]
    return out.astype(np.uint8) if bits == 8 else out
