"""Decoding pixel data to numpy arrays: ``pixel_array(ds_or_path, frame=None)``, ``iter_frames(ds)``.

Decoders are chosen by transfer syntax (a registry keyed by UID):

* native (uncompressed) data: Bits Allocated 1, 8, 16, 32, 64; Samples per Pixel 1 or 3;
  Planar Configuration 0/1; Float/Double Float Pixel Data (7FE0,0008)/(7FE0,0009); big-endian
  data sets (the byte order of the file's transfer syntax). The result is a read-only numpy
  **view** on the bytes read whenever the layout allows (1-bit data, 8-bit OW in big endian,
  native YBR_FULL_422, colour conversion and unused-bit correction need a new array).
* RLE Lossless (PS3.5 Annex G) in :mod:`dicomkit.pixels.rle`;
* Deflated Image Frame Compression (1.2.840.10008.1.2.8.1) and Encapsulated Uncompressed
  (1.2.840.10008.1.2.1.98) with the standard library;
* the JPEG family through ``imagecodecs`` (the ``codecs`` extra): JPEG Baseline/Extended and
  JPEG Lossless with libjpeg-turbo, JPEG-LS with CharLS, JPEG 2000 with OpenJPEG, HTJ2K with
  OpenJPH.

Encapsulated frames are located through the offset tables (:mod:`dicomkit.codec.encaps`); one
frame is decoded without decoding the others.

``read_pixels(path, frame=None)`` reads a file and its pixels in one go: the data set is read
without its pixel data (``stop_before_pixels``), then the pixel data is read from the file
straight into the array's own buffer (native: one copy, corrected in place; a single frame:
only that frame's bytes; encapsulated: the offset table and that frame's fragments only).
Files it cannot handle that way (deflated, pixel data not right after the other elements,
no usable offset table, ...) are read whole and decoded by ``pixel_array``. ``pixel_array(path)``
is ``read_pixels(path)[1]``: the fast way through a folder of files — one buffer per file,
where ``pixel_array(read(path))`` holds the data set's copy of Pixel Data and the corrected
array at once (on this VM the fresh memory pages of each 512 KiB buffer cost about as much as
all the parsing; see docs/benchmarks.md).

What comes back matches pydicom 3's default ``Dataset.pixel_array``:

* shapes (rows, cols), (rows, cols, samples), (frames, rows, cols[, samples]) — a frame
  axis only when Number of Frames > 1; samples last whatever the Planar Configuration;
* integer dtypes by Bits Allocated and Pixel Representation (1-bit → ``uint8`` 0/1), in the
  data set's byte order for native data (``>u2`` for big endian), native order otherwise;
* when Bits Stored < Bits Allocated, the unused high bits are cleared (unsigned) or filled
  with the sign bit (signed), as pydicom's ``correct_unused_bits``; JPEG 2000 / JPEG-LS
  sign corrections as pydicom applies them;
* ``YBR_FULL`` and ``YBR_FULL_422`` are converted to RGB (pydicom's ``as_rgb=True``
  default; JPEG decoders already return RGB). ``as_rgb=False`` returns the samples as
  stored (native/RLE) — for JPEG, as the decoder returns them without colour conversion;
  ``convert_color_space`` converts explicitly. ``YBR_RCT``/``YBR_ICT`` come back as RGB
  (the JPEG 2000 decoder inverts the component transform). PALETTE COLOR returns the
  indices: :func:`dicomkit.pixels.apply_palette` maps them.

Problems with the pixel module raise :class:`~dicomkit.errors.PixelDataError` naming the
attribute; a missing codec raises :class:`~dicomkit.errors.UnsupportedTransferSyntaxError`.
Native pixel data shorter than Number of Frames needs: the complete frames are returned with a
:class:`TruncatedPixelDataWarning` listing the missing ones (``.missing_frames``); asking for a
missing frame, or data too short for even one frame, raises ``PixelDataError``.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dicomkit.codec import encaps
from dicomkit.codec.reader import _Context, _entry_location, read
from dicomkit.dataset import Dataset
from dicomkit.errors import DicomWarning, InvalidDicomError, PixelDataError, UnsupportedTransferSyntaxError
from dicomkit.pixels.color import convert_color_space
from dicomkit.pixels.rle import decode_rle_frame
from dicomkit.uid import transfer_syntax

__all__ = [
    "PixelInfo",
    "TruncatedPixelDataWarning",
    "iter_frames",
    "pixel_array",
    "pixel_info",
    "read_pixels",
]

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
DEFLATED_IMAGE_FRAME = "1.2.840.10008.1.2.8.1"
ENCAPSULATED_UNCOMPRESSED = "1.2.840.10008.1.2.1.98"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG_2000 = "1.2.840.10008.1.2.4.91"
JPEG_2000_SYNTAXES = frozenset(
    {JPEG_2000_LOSSLESS, JPEG_2000, "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93"}
)
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_RPCL_LOSSLESS = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
HTJ2K_SYNTAXES = frozenset({HTJ2K_LOSSLESS, HTJ2K_RPCL_LOSSLESS, HTJ2K})
JPEG_LS_SYNTAXES = frozenset({JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS})

PHOTOMETRIC = frozenset(
    {
        "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "HSV", "ARGB", "CMYK", "XYB",
        "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT",
    }
)  # fmt: skip
_YBR_TO_RGB = frozenset({"YBR_FULL", "YBR_FULL_422"})


class TruncatedPixelDataWarning(DicomWarning):
    """Pixel data ends before the last frame: the complete frames were returned.

    ``missing_frames`` holds the 0-based numbers of the frames that are missing or incomplete.
    """

    def __init__(self, message: str, missing_frames: tuple[int, ...]) -> None:
        super().__init__(message, tag=PIXEL_DATA, data_loss=True)
        self.missing_frames = missing_frames


@dataclass(frozen=True, slots=True)
class PixelInfo:
    """The Image Pixel module attributes that describe how to read the pixel data."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int
    number_of_frames: int
    transfer_syntax_uid: str
    little_endian: bool
    pixel_tag: int

    @property
    def is_float(self) -> bool:
        return self.pixel_tag != PIXEL_DATA

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of one sample, in native (decoded) byte order."""
        ba = self.bits_allocated
        if self.is_float:
            return np.dtype(np.float32 if ba == 32 else np.float64)
        if ba == 1:
            return np.dtype(np.uint8)
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"{kind}{ba // 8}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)

    @property
    def frame_bits(self) -> int:
        """Bits of one native frame (YBR_FULL_422 stores two samples per pixel)."""
        pixels = self.rows * self.columns
        if self.photometric_interpretation == "YBR_FULL_422" and self.samples_per_pixel == 3:
            return pixels * 2 * self.bits_allocated
        return pixels * self.samples_per_pixel * self.bits_allocated


#: Samples per Pixel, Planar Configuration, Rows, Columns, Bits Allocated/Stored, High Bit,
#: Pixel Representation: US in PS3.6
_US_TAGS = frozenset(
    {0x00280002, 0x00280006, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103}
)


def _raw_us(ds: Dataset, tag: int) -> int | None:
    """A US value straight from the bytes read (None: not a raw 2-byte US entry): the pixel
    module's numbers without building their elements."""
    if tag not in _US_TAGS:
        return None  # (in implicit VR the bytes say nothing about the VR: only known US tags)
    entry = ds._d.get(tag)
    ctx = ds._source
    if type(entry) is not int or not isinstance(ctx, _Context):
        return None
    vrb, off, ln = _entry_location(entry, ds._buf, ctx.little, ctx.implicit)
    if ln != 2 or (vrb is not None and vrb != b"US"):
        return None
    return int.from_bytes(ds._buf[off : off + 2], "little" if ctx.little else "big")


def _int(ds: Dataset, tag: int, name: str, default: int | None = None) -> int:
    fast = _raw_us(ds, tag)
    if fast is not None:
        return fast
    value = ds.get(tag)
    if isinstance(value, tuple):
        value = value[0] if value else None
    if value is None or value == "":
        if default is None:
            raise PixelDataError(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {name} is missing or empty")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PixelDataError(
            f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {name} has an invalid value {value!r}"
        ) from None


def _syntax(ds: Dataset) -> tuple[str, bool]:
    meta = ds.meta
    uid = meta.get(0x00020010) if meta is not None else None
    if uid:
        uid = str(uid).rstrip("\x00 ")
        ts = transfer_syntax(uid)
        return uid, ts.little_endian if ts is not None else True
    # no transfer syntax in the file meta: the byte order the reader detected
    little = getattr(ds._source, "little", None)
    if little is None:
        raise PixelDataError(
            "the transfer syntax is unknown: the data set has no (0002,0010) Transfer Syntax UID"
        )
    return ("1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"), bool(little)


def pixel_info(ds: Dataset) -> PixelInfo:
    """Read and check the pixel description of ``ds`` (raises :class:`PixelDataError`)."""
    tags = [t for t in (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA) if t in ds]
    if not tags:
        raise PixelDataError(
            "the data set has no Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008) "
            "or Double Float Pixel Data (7FE0,0009)"
        )
    if len(tags) > 1:
        raise PixelDataError(
            "the data set has more than one of Pixel Data, Float and Double Float Pixel Data"
        )
    return _pixel_info(ds, tags[0])


def _pixel_info(ds: Dataset, tag: int) -> PixelInfo:
    uid, little = _syntax(ds)
    rows = _int(ds, 0x00280010, "Rows")
    columns = _int(ds, 0x00280011, "Columns")
    spp = _int(ds, 0x00280002, "Samples per Pixel", 1)
    ba = _int(ds, 0x00280100, "Bits Allocated")
    if tag == FLOAT_PIXEL_DATA:
        bs, hb, pr = 32, 31, 0
        if ba != 32:
            raise PixelDataError(f"Float Pixel Data needs Bits Allocated 32, not {ba}")
    elif tag == DOUBLE_FLOAT_PIXEL_DATA:
        bs, hb, pr = 64, 63, 0
        if ba != 64:
            raise PixelDataError(f"Double Float Pixel Data needs Bits Allocated 64, not {ba}")
    else:
        bs = _int(ds, 0x00280101, "Bits Stored", ba)
        hb = _int(ds, 0x00280102, "High Bit", bs - 1)
        pr = _int(ds, 0x00280103, "Pixel Representation", 0)
    pi_value = ds.get(0x00280004)
    if isinstance(pi_value, tuple):
        pi_value = pi_value[0] if pi_value else None
    pi = str(pi_value or "").strip().upper()
    nf = _int(ds, 0x00280008, "Number of Frames", 1) or 1
    pc = _int(ds, 0x00280006, "Planar Configuration", 0) if spp > 1 else 0
    if rows <= 0 or columns <= 0:
        raise PixelDataError(f"Rows {rows} and Columns {columns} must both be positive")
    if ba not in (1, 8, 16, 32, 64):
        raise PixelDataError(f"(0028,0100) Bits Allocated {ba} is not 1, 8, 16, 32 or 64")
    if not 1 <= bs <= ba:
        raise PixelDataError(f"(0028,0101) Bits Stored {bs} must be between 1 and Bits Allocated {ba}")
    if not bs - 1 <= hb < ba:
        raise PixelDataError(
            f"(0028,0102) High Bit {hb} must be between Bits Stored - 1 ({bs - 1}) and {ba - 1}"
        )
    if pr not in (0, 1):
        raise PixelDataError(f"(0028,0103) Pixel Representation {pr} is not 0 or 1")
    if spp not in (1, 3, 4):
        raise PixelDataError(f"(0028,0002) Samples per Pixel {spp} is not 1, 3 or 4")
    if pc not in (0, 1):
        raise PixelDataError(f"(0028,0006) Planar Configuration {pc} is not 0 or 1")
    if nf < 0:
        raise PixelDataError(f"(0028,0008) Number of Frames {nf} is negative")
    if not pi:
        raise PixelDataError("(0028,0004) Photometric Interpretation is missing or empty")
    if pi not in PHOTOMETRIC:
        raise PixelDataError(f"(0028,0004) Photometric Interpretation {pi!r} is not a defined term")
    return PixelInfo(rows, columns, spp, ba, bs, hb, pr, pi, pc, nf, uid, little, tag)


# -- native --------------------------------------------------------------------------------


def _pixel_bytes(ds: Dataset, tag: int) -> Any:
    elem = ds[tag]
    data = elem.raw if elem.raw is not None else elem.value
    if data is None:
        data = b""
    if isinstance(data, tuple | list):
        raise PixelDataError("Pixel Data holds decoded numbers, not bytes")
    return data


def _correct_bits(arr: np.ndarray, info: PixelInfo, owned: bool = False) -> np.ndarray:
    """Clear (unsigned) or sign-fill (signed) the bits above High Bit; a view when already clean.

    ``owned``: ``arr`` is a decoder's fresh array that may be corrected in place.
    """
    if info.is_float or info.bits_allocated in (1,) or info.bits_stored == info.bits_allocated:
        return arr
    width = arr.dtype.itemsize * 8
    low = info.high_bit + 1 - info.bits_stored  # bits below the stored value (High Bit shifts)
    if arr.size and low == 0:
        # already clean (the usual case)? then the view is the answer; a sample first, so
        # data that needs the correction does not pay for a whole min/max pass as well
        if info.pixel_representation:
            lo, hi = -(1 << (info.bits_stored - 1)), 1 << (info.bits_stored - 1)
        else:
            lo, hi = 0, 1 << info.bits_stored
        flat = arr.reshape(-1)
        for part in (flat[:4096], flat):
            if not (lo <= int(part.min()) and int(part.max()) < hi):
                break
        else:
            return arr
    shift = width - info.bits_stored
    if owned and arr.flags.writeable and arr.dtype.isnative:
        out = arr  # a decoder's own fresh array: correct in place
        if low:
            np.right_shift(out, low, out=out)
        np.left_shift(out, shift, out=out)
    else:  # a view on the read bytes: the first shift makes the (native order) copy
        out = np.right_shift(arr, low) if low else arr
        out = np.left_shift(out, shift, out=out if out is not arr else None)
    np.right_shift(out, shift, out=out)
    return out


def _native_dtype(info: PixelInfo) -> np.dtype[Any]:
    dt = info.dtype
    if info.bits_allocated == 1 or dt.itemsize == 1:
        return dt
    return dt.newbyteorder("<" if info.little_endian else ">")


def _native_frames(data: Any, vr: str, info: PixelInfo, first: int, count: int) -> np.ndarray:
    """Frames ``first .. first+count-1`` of the native pixel bytes ``data``, shape (count, *frame_shape)."""
    fbits = info.frame_bits
    if info.bits_allocated == 1:
        start_bit = first * fbits
        nbits = count * fbits
        byte0 = start_bit // 8
        byte1 = -(-(start_bit + nbits) // 8)
        packed = np.frombuffer(data, dtype=np.uint8, count=byte1 - byte0, offset=byte0)
        bits = np.unpackbits(packed, bitorder="little")
        skip = start_bit - byte0 * 8
        flat = bits[skip : skip + nbits]
        if info.samples_per_pixel > 1 and info.planar_configuration == 1:
            return flat.reshape(count, info.samples_per_pixel, info.rows, info.columns).transpose(0, 2, 3, 1)
        return flat.reshape(count, *info.frame_shape)
    fbytes = fbits // 8
    start = first * fbytes
    size = count * fbytes
    dtype = _native_dtype(info)
    if not info.little_endian and info.bits_allocated == 8 and vr == "OW":
        # 8-bit data in OW words, big endian: bytes are swapped pairwise (padding displaced)
        lo = start - start % 2
        hi = start + size + (start + size) % 2
        chunk = bytes(data[lo:hi])
        if len(chunk) % 2:
            chunk += b"\x00"
        words = np.frombuffer(chunk, dtype=">u2").astype("<u2")
        flat = words.view(np.uint8)[start - lo : start - lo + size].view(dtype)
    else:
        flat = np.frombuffer(data, dtype=dtype, count=size // dtype.itemsize, offset=start)
    if info.photometric_interpretation == "YBR_FULL_422" and info.samples_per_pixel == 3:
        # PS3.3 C.7.6.3.1.2: Y1 Y2 Cb Cr for each pair of pixels
        quads = flat.reshape(-1, 4)
        out = np.empty((quads.shape[0], 2, 3), dtype=flat.dtype)
        out[:, 0, 0] = quads[:, 0]
        out[:, 1, 0] = quads[:, 1]
        out[:, :, 1] = quads[:, 2:3]
        out[:, :, 2] = quads[:, 3:4]
        return out.reshape(count, info.rows, info.columns, 3)
    spp = info.samples_per_pixel
    if spp > 1 and info.planar_configuration == 1:
        return flat.reshape(count, spp, info.rows, info.columns).transpose(0, 2, 3, 1)
    return flat.reshape(count, *info.frame_shape)


def _native_source(ds: Dataset, info: PixelInfo) -> tuple[Any, str]:
    return _pixel_bytes(ds, info.pixel_tag), str(ds[info.pixel_tag].VR)


def _native_available(ds: Dataset, info: PixelInfo) -> int:
    """How many complete native frames the buffer holds."""
    nbits = len(_pixel_bytes(ds, info.pixel_tag)) * 8
    return min(info.number_of_frames, nbits // info.frame_bits)


# -- encapsulated --------------------------------------------------------------------------

_Decoder = Callable[[Any, PixelInfo, bool], np.ndarray]


def _imagecodecs() -> Any:
    try:
        import imagecodecs
    except ImportError:
        raise UnsupportedTransferSyntaxError(
            "decoding JPEG, JPEG-LS, JPEG 2000 and HTJ2K pixel data needs imagecodecs: "
            "pip install 'dicomkit[codecs]'"
        ) from None
    return imagecodecs


def _codec_error(info: PixelInfo, exc: Exception) -> PixelDataError:
    name = transfer_syntax(info.transfer_syntax_uid)
    label = name.name if name is not None else info.transfer_syntax_uid
    return PixelDataError(f"{label} frame could not be decoded: {exc}")


def _jpeg_markers(frame: bytes | memoryview) -> tuple[bool, int | None, tuple[int, ...]]:
    """(JFIF APP0 present, Adobe APP14 transform flag or None, SOF component ids)."""
    jfif = False
    adobe: int | None = None
    ids: tuple[int, ...] = ()
    pos = 2
    n = len(frame)
    while pos + 4 <= n:
        if frame[pos] != 0xFF:
            break
        marker = frame[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(frame[pos + 2 : pos + 4], "big")
        body = bytes(frame[pos + 4 : pos + 2 + length])  # one segment (memoryview has no startswith)
        if marker == 0xE0 and body.startswith(b"JFIF"):
            jfif = True
        elif marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            adobe = body[11]
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(body) >= 6:
            count = body[5]
            ids = tuple(body[6 + 3 * k] for k in range(count) if 6 + 3 * k < len(body))
        elif marker == 0xDA:
            break
        pos += 2 + length
    return jfif, adobe, ids


def _jpeg_is_ycbcr(frame: bytes | memoryview, info: PixelInfo) -> bool:
    """Whether a 3-component JPEG codestream holds YCbCr (so the decoder should convert).

    Component ids "RGB"/"rgb" mean RGB; a JFIF marker means YCbCr; an Adobe APP14 marker's
    transform flag decides next; otherwise the Photometric Interpretation does (pydicom's
    rules, which the DICOM encoders follow).
    """
    jfif, adobe, ids = _jpeg_markers(frame)
    if ids in ((82, 71, 66), (114, 103, 98)):
        return False
    if jfif:
        return True
    if adobe is not None:
        return adobe != 0
    return info.photometric_interpretation.startswith("YBR")


def _decode_jpeg(frame: bytes | memoryview, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    ic = _imagecodecs()
    errors: list[str] = []
    kwargs: dict[str, Any] = {}
    if info.samples_per_pixel == 3:
        if not _jpeg_is_ycbcr(frame, info):
            kwargs = {"colorspace": "RGB", "outcolorspace": "RGB"}
        elif not as_rgb:
            kwargs = {"colorspace": "YCBCR", "outcolorspace": "YCBCR"}
        else:
            kwargs = {"colorspace": "YCBCR", "outcolorspace": "RGB"}
    for name in ("jpeg8_decode", "ljpeg_decode", "jpegsof3_decode"):
        fn = getattr(ic, name, None)
        if fn is None:
            continue
        try:
            return np.asarray(fn(frame, **kwargs) if name == "jpeg8_decode" else fn(frame))
        except Exception as exc:
            errors.append(f"{name}: {exc}")
    raise _codec_error(info, RuntimeError("; ".join(errors) or "no JPEG decoder in imagecodecs"))


def _decode_jpegls(frame: bytes | memoryview, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    ic = _imagecodecs()
    try:
        return np.asarray(ic.jpegls_decode(frame))
    except Exception as exc:
        raise _codec_error(info, exc) from None


def _j2k_codestream_sign(frame: bytes | memoryview) -> tuple[bool, int] | None:
    """(signed, precision) of the first component from the SIZ marker, if found."""
    pos = bytes(frame[:4096]).find(b"\xff\x4f\xff\x51")
    if pos < 0 or len(frame) < pos + 43:
        return None
    ssiz = frame[pos + 42]
    return bool(ssiz & 0x80), (ssiz & 0x7F) + 1


def _decode_j2k(frame: bytes | memoryview, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    ic = _imagecodecs()
    try:
        return np.asarray(ic.jpeg2k_decode(frame))
    except Exception as exc:
        raise _codec_error(info, exc) from None


def _decode_htj2k(frame: bytes | memoryview, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    ic = _imagecodecs()
    try:
        return np.asarray(ic.htj2k_decode(frame))
    except Exception as first:
        try:
            return np.asarray(ic.jpeg2k_decode(frame))
        except Exception:
            raise _codec_error(info, first) from None


def _decode_rle(frame: Any, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    return decode_rle_frame(frame, info.rows, info.columns, info.samples_per_pixel, info.bits_allocated)


def _unpacked_native(data: bytes, info: PixelInfo) -> np.ndarray:
    """One frame of native (little endian) bytes taken out of an encapsulated item."""
    fbytes = -(-info.frame_bits // 8)
    if len(data) < fbytes:
        raise PixelDataError(f"frame holds {len(data)} bytes, {fbytes} are needed")
    one = replace(info, number_of_frames=1, little_endian=True)
    frame: np.ndarray = _native_frames(data, "OB", one, 0, 1)[0]
    return frame


def _decode_deflated(frame: bytes, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    try:
        data = zlib.decompress(frame, -15)
    except zlib.error:
        try:
            data = zlib.decompress(frame)
        except zlib.error as exc:
            raise _codec_error(info, exc) from None
    return _unpacked_native(data, info)


def _decode_uncompressed(frame: bytes, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    return _unpacked_native(frame, info)


DECODERS: dict[str, _Decoder] = {
    RLE_LOSSLESS: _decode_rle,
    DEFLATED_IMAGE_FRAME: _decode_deflated,
    ENCAPSULATED_UNCOMPRESSED: _decode_uncompressed,
    JPEG_BASELINE: _decode_jpeg,
    JPEG_EXTENDED: _decode_jpeg,
    JPEG_LOSSLESS: _decode_jpeg,
    JPEG_LOSSLESS_SV1: _decode_jpeg,
    **dict.fromkeys(JPEG_LS_SYNTAXES, _decode_jpegls),
    **dict.fromkeys(JPEG_2000_SYNTAXES, _decode_j2k),
    **dict.fromkeys(HTJ2K_SYNTAXES, _decode_htj2k),
}
"""Decoder per encapsulated transfer syntax UID: ``(frame bytes, info, as_rgb) -> array``."""


def _decoder(info: PixelInfo) -> _Decoder:
    dec = DECODERS.get(info.transfer_syntax_uid)
    if dec is None:
        ts = transfer_syntax(info.transfer_syntax_uid)
        label = f"{ts.name} ({ts.uid})" if ts is not None else info.transfer_syntax_uid
        raise UnsupportedTransferSyntaxError(f"no pixel data decoder for transfer syntax {label}")
    return dec


def _conform(arr: np.ndarray, info: PixelInfo, frame: bytes | memoryview) -> np.ndarray:
    """Shape, dtype and sign of one decoded encapsulated frame, as pydicom returns it."""
    shape = info.frame_shape
    if arr.ndim == 3 and arr.shape[-1] == 1 and len(shape) == 2:
        arr = arr[..., 0]
    if arr.shape != shape:
        if arr.ndim == 3 and arr.shape[0] == info.samples_per_pixel and arr.shape[1:] == shape[:2]:
            arr = arr.transpose(1, 2, 0)
        else:
            raise PixelDataError(f"decoded frame has shape {arr.shape}, the pixel attributes say {shape}")
    want = info.dtype
    if arr.dtype != want:
        if arr.dtype.itemsize == want.itemsize and arr.dtype.kind in "iu":
            arr = arr.view(want.newbyteorder("=")) if arr.dtype.isnative else arr.astype(want)
        else:
            arr = arr.astype(want)
    uid = info.transfer_syntax_uid
    if uid in JPEG_2000_SYNTAXES or uid in HTJ2K_SYNTAXES:
        if info.photometric_interpretation in ("MONOCHROME1", "MONOCHROME2"):
            siz = _j2k_codestream_sign(frame)
            signed, precision = (
                siz if siz is not None else (bool(info.pixel_representation), info.bits_stored)
            )
            shift = arr.dtype.itemsize * 8 - precision
            if shift > 0 and signed != bool(info.pixel_representation):
                arr = np.right_shift(np.left_shift(arr, shift), shift)
        return arr
    if uid in JPEG_LS_SYNTAXES:
        if info.pixel_representation:
            shift = arr.dtype.itemsize * 8 - info.bits_stored
            if shift > 0:
                arr = np.right_shift(np.left_shift(arr, shift), shift)
        return arr
    return _correct_bits(arr, info, owned=info.transfer_syntax_uid != ENCAPSULATED_UNCOMPRESSED)


#: syntaxes whose decoders read the fragment's memoryview itself (the RLE decoder, imagecodecs'
#: JPEG-family decoders): no copy of the compressed frame. Other decoders get ``bytes``.
_TAKES_VIEW = frozenset(
    {RLE_LOSSLESS, JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1}
    | set(JPEG_LS_SYNTAXES)
    | set(JPEG_2000_SYNTAXES)
    | set(HTJ2K_SYNTAXES)
)


def _decode_encapsulated(info: PixelInfo, frame: bytes | memoryview, as_rgb: bool) -> np.ndarray:
    if info.transfer_syntax_uid not in _TAKES_VIEW:
        frame = bytes(frame)
    arr = _conform(_decoder(info)(frame, info, as_rgb), info, frame)
    if as_rgb and info.samples_per_pixel == 3 and _codec_keeps_ybr(info):
        arr = convert_color_space(arr, "YBR_FULL", "RGB")
    return arr


#: syntaxes whose decoders return YBR_FULL samples as stored (no colour transform of their own:
#: JPEG-LS and JPEG 2000 / HTJ2K only undo their own RCT/ICT, which is YBR_RCT/YBR_ICT)
_YBR_KEPT = frozenset(
    {RLE_LOSSLESS, DEFLATED_IMAGE_FRAME, ENCAPSULATED_UNCOMPRESSED}
    | set(JPEG_LS_SYNTAXES)
    | set(JPEG_2000_SYNTAXES)
    | set(HTJ2K_SYNTAXES)
)


def _codec_keeps_ybr(info: PixelInfo) -> bool:
    pi = info.photometric_interpretation
    if info.transfer_syntax_uid in (RLE_LOSSLESS, DEFLATED_IMAGE_FRAME, ENCAPSULATED_UNCOMPRESSED):
        return pi in _YBR_TO_RGB
    return pi == "YBR_FULL" and info.transfer_syntax_uid in _YBR_KEPT


def _frame_fragments(ds: Dataset, info: PixelInfo) -> list[list[memoryview]]:
    """Each frame's fragments (memoryviews on the element's bytes), via the offset tables."""
    elem = ds[PIXEL_DATA]
    value = elem.raw if elem.raw is not None else elem.value
    enc = encaps.parse_encapsulated(value)
    extended = None
    if 0x7FE00001 in ds and 0x7FE00002 in ds:
        extended = (_ov(ds[0x7FE00001]), _ov(ds[0x7FE00002]))
    return enc.frame_fragments(info.number_of_frames, extended)


def _ov(elem: Any) -> tuple[int, ...]:
    value = elem.raw if elem.raw is not None else elem.value
    if isinstance(value, int):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(int(v) for v in value)
    raw = bytes(value)
    return tuple(int(v) for v in np.frombuffer(raw[: len(raw) // 8 * 8], dtype="<u8"))


def _joined(fragments: list[memoryview]) -> Any:
    """One frame's bytes: the fragment itself when there is one (no copy)."""
    return fragments[0] if len(fragments) == 1 else b"".join(fragments)


def _is_encapsulated(ds: Dataset, info: PixelInfo) -> bool:
    return info.pixel_tag == PIXEL_DATA and ds[PIXEL_DATA].undefined_length


# -- public API ------------------------------------------------------------------------------


def _finish_native(arr: np.ndarray, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    arr = _correct_bits(arr, info)
    if as_rgb and info.photometric_interpretation in _YBR_TO_RGB and info.samples_per_pixel == 3:
        arr = convert_color_space(arr, "YBR_FULL", "RGB")
    return arr


def pixel_array(
    ds: Dataset | str | os.PathLike[str], frame: int | None = None, *, as_rgb: bool = True
) -> np.ndarray:
    """The pixels of ``ds`` (all frames, or frame number ``frame``, 0-based) as a numpy array.

    See the module docstring for shapes, dtypes and colour handling. Native data comes back as
    a read-only view on the bytes read where the layout allows (``.copy()`` to modify).

    ``ds`` may also be the path of a file: then only the bytes needed are read, native pixels
    straight into the array's own (writable) buffer — ``read_pixels(path, frame)[1]``. That is
    the fast way to get the pixels of files one after another: one buffer per file instead of
    the data set's copy of Pixel Data plus the array.
    """
    if not isinstance(ds, Dataset):
        if isinstance(ds, str | os.PathLike):
            return read_pixels(ds, frame, as_rgb=as_rgb)[1]
        raise TypeError(f"pixel_array() takes a Dataset or a path, not {type(ds).__name__}")
    info = pixel_info(ds)
    nf = info.number_of_frames
    if frame is not None:
        if not -nf <= frame < nf:
            raise PixelDataError(f"frame {frame} requested but there are {nf} frames")
        frame %= nf
    if _is_encapsulated(ds, info):
        fragments = _frame_fragments(ds, info)
        if frame is not None:
            return _decode_encapsulated(info, _joined(fragments[frame]), as_rgb)
        frames = [_decode_encapsulated(info, _joined(f), as_rgb) for f in fragments]
        return frames[0] if len(frames) == 1 and nf == 1 else np.stack(frames)
    if info.transfer_syntax_uid in DECODERS:
        raise PixelDataError(
            f"transfer syntax {info.transfer_syntax_uid} is encapsulated but Pixel Data has a defined length"
        )
    have = _native_available(ds, info)
    if frame is not None:
        if frame >= have:
            raise PixelDataError(
                f"frame {frame} is missing: the pixel data holds {have} complete frames of {nf} "
                f"({len(_pixel_bytes(ds, info.pixel_tag))} bytes, {nf * info.frame_bits // 8} expected)"
            )
        return _finish_native(_native_frames(*_native_source(ds, info), info, frame, 1)[0], info, as_rgb)
    if have == 0:
        size = len(_pixel_bytes(ds, info.pixel_tag))
        raise PixelDataError(
            f"the pixel data is {size} bytes, shorter than one frame ({info.frame_bits // 8} bytes; "
            f"{nf * info.frame_bits // 8} expected for {nf} frame{'s' if nf != 1 else ''})"
        )
    if have < nf:
        missing = tuple(range(have, nf))
        warnings.warn(
            TruncatedPixelDataWarning(
                f"pixel data is truncated: frames {have}..{nf - 1} of {nf} (0-based) are missing; "
                f"returning the {have} complete frames",
                missing,
            ),
            stacklevel=2,
        )
    arr = _native_frames(*_native_source(ds, info), info, 0, have)
    if nf == 1:
        arr = arr[0]
    return _finish_native(arr, info, as_rgb)


def iter_frames(ds: Dataset, *, as_rgb: bool = True) -> Iterator[np.ndarray]:
    """Each frame as an array of the frame shape, decoding one frame at a time."""
    info = pixel_info(ds)
    if _is_encapsulated(ds, info):
        for f in _frame_fragments(ds, info):
            yield _decode_encapsulated(info, _joined(f), as_rgb)
        return
    have = _native_available(ds, info)
    if have < info.number_of_frames:
        missing = tuple(range(have, info.number_of_frames))
        warnings.warn(
            TruncatedPixelDataWarning(
                f"pixel data is truncated: frames {have}..{info.number_of_frames - 1} (0-based) are missing",
                missing,
            ),
            stacklevel=2,
        )
    data, vr = _native_source(ds, info)
    for k in range(have):
        yield _finish_native(_native_frames(data, vr, info, k, 1)[0], info, as_rgb)


# -- reading a file and its pixels -----------------------------------------------------------

_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD


def read_pixels(
    path: str | os.PathLike[str], frame: int | None = None, *, as_rgb: bool = True
) -> tuple[Dataset, np.ndarray]:
    """Read the file at ``path`` and decode its pixels (all frames, or frame ``frame``).

    Returns the data set (read without (7FE0,0010) Pixel Data, as with
    ``read(path, stop_before_pixels=True)``) and the array, as :func:`pixel_array` returns
    it but writable and owned (no view on a read buffer). Only the bytes needed are read:
    native data straight into the array's buffer (one frame: only its bytes), encapsulated
    data the offset table and the frame's fragments. Files where the pixel data cannot be
    located that way are read whole (then the data set has its Pixel Data).
    """
    try:
        fh = open(path, "rb", buffering=0)  # noqa: SIM115 - one open: the header, then the pixels
    except IsADirectoryError:
        raise InvalidDicomError(f"{os.fspath(path)}: is a directory") from None
    with fh:
        ds = read(fh, stop_before_pixels=True)
        where = _pixel_location(ds)
        got = _read_located(ds, fh, where, frame, as_rgb) if where is not None else None
    if got is not None:
        return ds, got
    full = read(path)
    return full, pixel_array(full, frame, as_rgb=as_rgb)


def _pixel_location(ds: Dataset) -> int | None:
    """The file offset of the (7FE0,0010) header in the file ``ds`` was read from with
    ``stop_before_pixels``: where the reader's scan stopped (None: it did not stop at a tag)."""
    meta = ds.meta
    ctx = ds._source
    if meta is None or not isinstance(ctx, _Context) or ctx.parent is not None:
        return None
    ts = transfer_syntax(str(meta.get(0x00020010) or "").strip(" \x00"))
    if ts is None or ts.deflated:
        return None  # the data set is an inflated stream: no file offsets
    order = ds._order()  # completes a lazy scan
    if not order or FLOAT_PIXEL_DATA in ds._d or DOUBLE_FLOAT_PIXEL_DATA in ds._d:
        return None
    return ctx.stopped_at  # where the scan stopped: the next element's header (None: not there)


def _read_located(ds: Dataset, fh: Any, pos: int, frame: int | None, as_rgb: bool) -> np.ndarray | None:
    ctx = ds._source
    assert isinstance(ctx, _Context)
    little, implicit = ctx.little, ctx.implicit
    fh.seek(pos)
    head = fh.read(12)
    if len(head) < 8:
        return None
    order = "<" if little else ">"
    g, e = struct.unpack_from(order + "HH", head)
    if (g << 16 | e) != PIXEL_DATA:
        return None
    if implicit:
        vr = "OW"
        length = struct.unpack_from(order + "L", head, 4)[0]
        vpos = pos + 8
    else:
        vr = head[4:6].decode("latin-1")
        if vr not in ("OB", "OW", "UN") or len(head) < 12:
            return None
        length = struct.unpack_from(order + "L", head, 8)[0]
        vpos = pos + 12
    ds_info = _pixel_info(ds, PIXEL_DATA)
    nf = ds_info.number_of_frames
    if frame is not None:
        if not -nf <= frame < nf:
            raise PixelDataError(f"frame {frame} requested but there are {nf} frames")
        frame %= nf
    if length == 0xFFFFFFFF:
        return _read_encapsulated(ds, fh, vpos, ds_info, frame, as_rgb, little)
    if ds_info.transfer_syntax_uid in DECODERS:
        return None  # inconsistent: pixel_array says what is wrong
    fbits = ds_info.frame_bits
    if (
        frame is not None
        and fbits % 8 == 0
        and ds_info.bits_allocated != 1
        and not (not little and ds_info.bits_allocated == 8)
    ):
        start, size, first, count = frame * (fbits // 8), fbits // 8, 0, 1
    else:
        start, size, first, count = 0, -(-(nf * fbits) // 8), frame or 0, 1 if frame is not None else nf
    if length < start + size:
        return None  # truncated: pixel_array returns the complete frames and warns
    buf = np.empty(size, dtype=np.uint8)  # not zero-filled: the read is the first write to its pages
    fh.seek(vpos + start)
    if fh.readinto(buf.data) != size:
        return None
    arr = _native_frames(buf, vr, ds_info, first, count)
    if count == 1 and (frame is not None or nf == 1):
        arr = arr[0]
    arr = _correct_bits(arr, ds_info, owned=True)
    if as_rgb and ds_info.photometric_interpretation in _YBR_TO_RGB and ds_info.samples_per_pixel == 3:
        arr = convert_color_space(arr, "YBR_FULL", "RGB")
    return arr


def _read_encapsulated(
    ds: Dataset, fh: Any, vpos: int, info: PixelInfo, frame: int | None, as_rgb: bool, little: bool
) -> np.ndarray | None:
    """Encapsulated pixel data from the file at ``vpos`` (the Basic Offset Table item):
    read the offset table, then only the wanted frame's fragments (PS3.5 A.4)."""
    order = "<" if little else ">"
    fh.seek(vpos)
    head = fh.read(8)
    if len(head) < 8:
        return None
    g, e, n = struct.unpack(order + "HHL", head)
    if (g << 16 | e) != _ITEM or n % 4 or n == 0xFFFFFFFF:
        return None
    first_item = vpos + 8 + n
    nf = info.number_of_frames
    spans: list[tuple[int, int]] = []  # (file offset of the frame's first item, bytes of its items)
    if 0x7FE00001 in ds and 0x7FE00002 in ds:  # Extended Offset Table (PS3.3 C.7.6.3.1.8)
        offsets, lengths = _ov(ds[0x7FE00001]), _ov(ds[0x7FE00002])
        if len(offsets) != nf or len(lengths) != nf:
            return None
        spans = [(first_item + o, 8 + ln + (ln & 1)) for o, ln in zip(offsets, lengths, strict=True)]
    elif n:
        table = fh.read(n)
        offsets = struct.unpack(f"{order}{n // 4}L", table)
        if len(offsets) != nf:
            return None
        ends = [*offsets[1:], None]
        for o, end in zip(offsets, ends, strict=True):
            spans.append((first_item + o, -1 if end is None else end - o))
    else:
        return None  # no offset table: which fragments make a frame needs them all (pixel_array)
    wanted = range(nf) if frame is None else [frame]
    frames = []
    for k in wanted:
        at, size = spans[k]
        fragments = _read_items(fh, at, size, order)
        if fragments is None:
            return None
        frames.append(_decode_encapsulated(info, _joined(fragments), as_rgb))
    if frame is not None or (len(frames) == 1 and nf == 1):
        return frames[0]
    return np.stack(frames)


def _read_items(fh: Any, at: int, size: int, order: str) -> list[memoryview] | None:
    """The fragments of the items from file offset ``at``: ``size`` bytes of items, or (-1)
    up to the sequence delimiter."""
    out: list[memoryview] = []
    if size >= 0:
        fh.seek(at)
        data = fh.read(size)
        if len(data) != size:
            return None
        view = memoryview(data)
        p = 0
        while p + 8 <= size:
            g, e, n = struct.unpack_from(order + "HHL", data, p)
            if (g << 16 | e) != _ITEM or p + 8 + n > size:
                return None
            out.append(view[p + 8 : p + 8 + n])
            p += 8 + n
        return out if p == size and out else None
    pos = at
    while True:
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return None
        g, e, n = struct.unpack(order + "HHL", head)
        tag = g << 16 | e
        if tag == _SEQ_DELIM:
            return out or None
        if tag != _ITEM or n == 0xFFFFFFFF:
            return None
        data = fh.read(n)
        if len(data) != n:
            return None
        out.append(memoryview(data))
        pos += 8 + n
