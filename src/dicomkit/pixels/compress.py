"""Compressing and decompressing pixel data: ``compress``, ``decompress`` and ``transcode``.

Owns the encoders of the encapsulated transfer syntaxes (PS3.5 section 8.2, Annex A.4) and
the attributes a change of encoding must update (PS3.3 C.7.6.3 Image Pixel module,
C.7.6.1.1.5 Lossy Image Compression; PS3.5 8.2 for the photometric interpretations):

============================  ==========================  ==================================
syntax (CLI name)             encoder                     samples / bits / options
============================  ==========================  ==================================
RLE Lossless (``rle``)        numpy, :mod:`.rle_encode`   1 or 3; Bits Allocated 8/16/32/64
JPEG-LS Lossless (jpeg-ls)    imagecodecs (CharLS)        1 or 3; Bits Stored 2-16
JPEG-LS Near-Lossless         imagecodecs (CharLS)        ``near`` (default 2)
JPEG 2000 Lossless (j2k)      imagecodecs (OpenJPEG)      1 or 3; Bits Stored 1-16, signed ok
JPEG 2000 (j2k-lossy)         imagecodecs (OpenJPEG)      ``psnr`` dB (default 50) or ``ratio``
HTJ2K Lossless / RPCL         imagecodecs (OpenJPH)       1 or 3; Bits Allocated 8/16
HTJ2K (htj2k-lossy)           imagecodecs (OpenJPH)       ``qstep`` (default 0.002) or ``ratio``
JPEG Lossless SV1             imagecodecs (libjpeg-turbo) 1 or 3 (RGB); Bits Stored 2-16
  (jpeg-lossless; .57 too)                                ``predictor`` 1-7 for .57
JPEG Baseline (jpeg-baseline) imagecodecs (libjpeg-turbo) 8-bit unsigned; ``quality`` (90),
                                                          ``subsampling`` "422" (or "444")
JPEG Extended (jpeg-extended) imagecodecs (libjpeg-turbo) 8-bit, or 12-bit precision for
                                                          Bits Allocated 16 (Bits Stored 8-12)
============================  ==========================  ==================================

Signed samples are coded as their two's complement pattern where the codec has no signed
mode (lossless JPEG: Bits Stored bits; JPEG-LS: the 8 or 16 bits CharLS codes; PS3.5 8.2.1/
8.2.3), as signed components in JPEG 2000 and HTJ2K; lossy JPEG refuses them. Photometric interpretation (PS3.5 8.2): RGB becomes YBR_FULL_422 (4:2:2) or
YBR_FULL (4:4:4) in JPEG Baseline, YBR_RCT (reversible) or YBR_ICT (irreversible) in JPEG 2000
and HTJ2K (the codec's multiple-component transform); other syntaxes keep it.

Lossy encodings set Lossy Image Compression (0028,2110) "01" and append the measured ratio
(uncompressed / compressed bytes) and the method (ISO_10918_1, ISO_14495_1, ISO_15444_1,
ISO_15444_15) to (0028,2112)/(0028,2114) (C.7.6.1.1.5.1). They make a new image, so, as
PS3.3 C.7.6.1.1.5 and the PS3.4 UID rules ask for changed pixel values, the result gets a
new SOP Instance UID, Image Type value 1 DERIVED, a Derivation Description and a Source
Image Sequence item that references the original instance. Lossless encodings keep the SOP
Instance UID (the pixel values are unchanged).

Decoding uses :mod:`dicomkit.pixels.decode`; native results are written by
:func:`dicomkit.pixels.encode.set_pixel_data`. The encapsulated result is one fragment per
frame (:func:`dicomkit.codec.encaps.encapsulate`) with a Basic Offset Table, or with an
Extended Offset Table (7FE0,0001)/(7FE0,0002) when the frames pass 4 GiB, so it decodes in
memory and :func:`dicomkit.write` writes it as it is. A missing codec raises
:class:`~dicomkit.errors.UnsupportedTransferSyntaxError` naming it and the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicomkit.codec import encaps
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.errors import PixelDataError, UnsupportedTransferSyntaxError
from dicomkit.pixels.color import convert_color_space
from dicomkit.pixels.decode import (
    HTJ2K,
    HTJ2K_LOSSLESS,
    HTJ2K_RPCL_LOSSLESS,
    JPEG_2000,
    JPEG_2000_LOSSLESS,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    RLE_LOSSLESS,
    PixelInfo,
    iter_frames,
    pixel_info,
)
from dicomkit.pixels.encode import drop, put, set_pixel_data
from dicomkit.pixels.rle_encode import encode_rle_frame
from dicomkit.uid import EXPLICIT_VR_LITTLE_ENDIAN, TransferSyntax, generate_uid, transfer_syntax
from dicomkit.vr import VR

__all__ = ["ENCODERS", "SYNTAX_ALIASES", "Encoder", "compress", "decompress", "transcode"]

PIXEL_DATA = 0x7FE00010
TRANSFER_SYNTAX_UID = 0x00020010

#: Short names (as ``dicomkit convert --transfer-syntax`` takes them) → transfer syntax UID.
SYNTAX_ALIASES: dict[str, str] = {
    "rle": RLE_LOSSLESS,
    "jpeg-ls": JPEG_LS_LOSSLESS,
    "jpeg-ls-near": JPEG_LS_NEAR_LOSSLESS,
    "j2k": JPEG_2000_LOSSLESS,
    "j2k-lossy": JPEG_2000,
    "htj2k": HTJ2K_LOSSLESS,
    "htj2k-rpcl": HTJ2K_RPCL_LOSSLESS,
    "htj2k-lossy": HTJ2K,
    "jpeg-lossless": JPEG_LOSSLESS_SV1,
    "jpeg-baseline": JPEG_BASELINE,
    "jpeg-extended": JPEG_EXTENDED,
}

# what pixel_array returns for each stored interpretation, per source kind
_SOURCE_AS_STORED = frozenset({"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.8.1", "1.2.840.10008.1.2.1.98"})


@dataclass(frozen=True, slots=True)
class Frames:
    """The frames to encode and how to read them."""

    bits_allocated: int
    bits_stored: int
    signed: bool
    samples: int
    photometric: str
    rows: int
    columns: int


_Encode = Callable[[np.ndarray, Frames, Mapping[str, Any]], bytes]
_Photometric = Callable[[Frames, Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class Encoder:
    """One encapsulated transfer syntax's encoder."""

    uid: str
    codec: str  #: the library that does the work, for error messages
    needs: str | None  #: imagecodecs class that must be available (None: numpy only)
    lossy: bool
    method: str | None  #: Lossy Image Compression Method (0028,2114) when lossy
    options: tuple[str, ...]
    check: Callable[[Frames], str | None]  #: a reason the data cannot be encoded, or None
    photometric: _Photometric
    encode: _Encode


# -- helpers ---------------------------------------------------------------------------------


def _imagecodecs(enc: Encoder) -> Any:
    try:
        import imagecodecs
    except ImportError:
        raise UnsupportedTransferSyntaxError(
            f"encoding {_name(enc.uid)} needs imagecodecs ({enc.codec}): pip install 'dicomkit[codecs]'"
        ) from None
    if enc.needs is not None and not _available(imagecodecs, enc.needs):
        raise UnsupportedTransferSyntaxError(
            f"encoding {_name(enc.uid)} needs {enc.codec}, which this imagecodecs build lacks "
            f"(imagecodecs.{enc.needs}.available is false): pip install --upgrade 'dicomkit[codecs]'"
        )
    return imagecodecs


def _available(imagecodecs: Any, needs: str) -> bool:
    """Is imagecodecs' codec ``needs`` built in (and its encoder there)? Some builds name the
    OpenJPH codec ``JPH`` rather than ``HTJ2K``."""
    names = ("HTJ2K", "JPH") if needs == "HTJ2K" else (needs,)
    found = any(getattr(getattr(imagecodecs, n, None), "available", False) for n in names)
    return found and hasattr(imagecodecs, f"{needs.lower()}_encode")


def _name(uid: str) -> str:
    ts = transfer_syntax(uid)
    return ts.name if ts is not None else uid


def _unsigned(arr: np.ndarray, f: Frames) -> np.ndarray:
    """The samples as unsigned integers of their Bits Stored bits (two's complement for signed)."""
    nbytes = 1 if f.bits_allocated <= 8 else 2
    u = arr.astype(arr.dtype.newbyteorder("="), copy=False).view(f"u{arr.dtype.itemsize}")
    if f.signed and f.bits_stored < arr.dtype.itemsize * 8:
        u = u & np.array((1 << f.bits_stored) - 1, dtype=u.dtype)
    return np.ascontiguousarray(u.astype(f"u{nbytes}", copy=False))


def _keep(f: Frames, options: Mapping[str, Any]) -> str:
    return f.photometric


def _limits(
    *,
    bits: tuple[int, ...],
    stored: tuple[int, int],
    signed_ok: bool = True,
    samples: tuple[int, ...] = (1, 3),
) -> Callable[[Frames], str | None]:
    def check(f: Frames) -> str | None:
        if f.samples not in samples:
            return f"Samples per Pixel {f.samples} (supported: {', '.join(map(str, samples))})"
        if f.bits_allocated not in bits:
            return f"Bits Allocated {f.bits_allocated} (supported: {', '.join(map(str, bits))})"
        if not stored[0] <= f.bits_stored <= stored[1]:
            return f"Bits Stored {f.bits_stored} (supported: {stored[0]}-{stored[1]})"
        if f.signed and not signed_ok:
            return "signed samples (Pixel Representation 1)"
        return None

    return check


def _option(options: Mapping[str, Any], name: str, default: Any, kind: type, lo: float, hi: float) -> Any:
    value = options.get(name)
    if value is None:
        return default
    try:
        v = kind(value)
    except (TypeError, ValueError):
        raise PixelDataError(f"option {name}={value!r} is not a {kind.__name__}") from None
    if not lo <= v <= hi:
        raise PixelDataError(f"option {name}={v} is out of range ({lo}-{hi})")
    return v


def _fit_ratio(encode: Callable[[float], bytes], target_size: float, lo: float, hi: float) -> float:
    """The parameter in [lo, hi] (encoded size grows with it) whose size is closest to and not
    above ``target_size``, by bisection on a log scale (12 steps)."""
    import math

    a, b = math.log(lo), math.log(hi)
    best = lo
    for _ in range(12):
        mid = (a + b) / 2
        if len(encode(math.exp(mid))) > target_size:
            b = mid
        else:
            best, a = math.exp(mid), mid
    return best


# -- encoders --------------------------------------------------------------------------------


def _rle(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
    return encode_rle_frame(arr, f.bits_allocated)


def _jpegls(near_default: int) -> _Encode:
    def encode(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
        ic = _imagecodecs(ENCODERS[JPEG_LS_NEAR_LOSSLESS if near_default else JPEG_LS_LOSSLESS])
        near = _option(options, "near", near_default, int, 0, 255) if near_default else 0
        # CharLS codes 8 or 16 bits (the dtype's width), so signed samples go in as their full
        # two's complement pattern: decoders that follow the codestream precision (pydicom) and
        # those that sign-extend from Bits Stored (DCMTK, dicomkit) then agree
        data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("="), copy=False))
        data = data.view(f"u{data.dtype.itemsize}")
        # CharLS refuses to grow incompressible data without a large enough buffer
        return bytes(ic.jpegls_encode(data, near or None, out=data.nbytes * 2 + 4096))

    return encode


def _j2k_photometric(lossy: bool) -> _Photometric:
    def photometric(f: Frames, options: Mapping[str, Any]) -> str:
        if f.samples == 3 and f.photometric == "RGB":
            return "YBR_ICT" if lossy else "YBR_RCT"
        return f.photometric

    return photometric


def _j2k_input(arr: np.ndarray, f: Frames) -> np.ndarray:
    kind = "i" if f.signed else "u"
    return np.ascontiguousarray(arr.astype(f"{kind}{1 if f.bits_allocated <= 8 else 2}", copy=False))


def _j2k(lossy: bool) -> _Encode:
    def encode(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
        ic = _imagecodecs(ENCODERS[JPEG_2000 if lossy else JPEG_2000_LOSSLESS])
        data = _j2k_input(arr, f)
        mct = f.samples == 3 and f.photometric == "RGB"
        kwargs: dict[str, Any] = {
            "codecformat": "J2K",
            "bitspersample": f.bits_stored,
            "reversible": not lossy,
            "mct": mct,
        }

        def run(psnr: float) -> bytes:
            return bytes(ic.jpeg2k_encode(data, psnr, **kwargs))

        if not lossy:
            return bytes(ic.jpeg2k_encode(data, 0, **kwargs))
        ratio = _option(options, "ratio", None, float, 1.0, 10000.0)
        if ratio is not None:
            return run(_fit_ratio(run, arr.nbytes / ratio, 5.0, 120.0))
        return run(_option(options, "psnr", 50.0, float, 1.0, 200.0))

    return encode


def _htj2k(uid: str) -> _Encode:
    lossy = uid == HTJ2K

    def encode(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
        ic = _imagecodecs(ENCODERS[uid])
        data = _j2k_input(arr, f)
        kwargs: dict[str, Any] = {"reversible": not lossy, "rgb": f.samples == 3 and f.photometric == "RGB"}
        if uid == HTJ2K_RPCL_LOSSLESS:
            # PS3.5 10.18: RPCL progression (OpenJPH's default), TLM markers, and enough
            # decompositions for the lowest resolution to be at most 64 wide and high
            levels = 5
            while -(-max(f.rows, f.columns) // (1 << levels)) > 64:
                levels += 1
            kwargs.update(tlm=True, tilepart=int(ic.HTJ2K.TILEPART.RESOLUTIONS), resolutions=levels)
        if not lossy:
            return bytes(ic.htj2k_encode(data, None, **kwargs))

        def run(inverse_qstep: float) -> bytes:
            return bytes(ic.htj2k_encode(data, 1.0 / inverse_qstep, **kwargs))

        ratio = _option(options, "ratio", None, float, 1.0, 10000.0)
        if ratio is not None:
            return run(_fit_ratio(run, arr.nbytes / ratio, 1.0, 1e5))
        return bytes(ic.htj2k_encode(data, _option(options, "qstep", 0.002, float, 1e-6, 1.0), **kwargs))

    return encode


def _jpeg_lossless(uid: str) -> _Encode:
    def encode(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
        ic = _imagecodecs(ENCODERS[uid])
        predictor = 1 if uid == JPEG_LOSSLESS_SV1 else _option(options, "predictor", 1, int, 1, 7)
        # RGB samples as they are: no colour transform (component ids R, G, B; Adobe marker)
        kwargs: dict[str, Any] = {"colorspace": "RGB", "outcolorspace": "RGB"} if f.samples == 3 else {}
        data = _unsigned(arr, f)
        if f.bits_stored <= 8:  # libjpeg-turbo takes 2-8 bit precision from 8-bit samples only
            data = data.astype(np.uint8)
        return bytes(
            ic.jpeg8_encode(data, lossless=True, predictor=predictor, bitspersample=f.bits_stored, **kwargs)
        )

    return encode


def _baseline_photometric(f: Frames, options: Mapping[str, Any]) -> str:
    if f.samples == 1:
        return f.photometric
    return "YBR_FULL" if _subsampling(options) == "444" else "YBR_FULL_422"


def _subsampling(options: Mapping[str, Any]) -> str:
    value = str(options.get("subsampling") or "422").replace(":", "")
    if value not in ("422", "444"):
        raise PixelDataError(f"option subsampling={value!r}: use 422 or 444")
    return value


def _jpeg_lossy(uid: str) -> _Encode:
    def encode(arr: np.ndarray, f: Frames, options: Mapping[str, Any]) -> bytes:
        ic = _imagecodecs(ENCODERS[uid])
        quality = _option(options, "quality", 90, int, 1, 100)
        precision = 8 if f.bits_allocated == 8 else 12  # process 1: 8 bits; process 4: 12 bits
        data = np.ascontiguousarray(arr.astype(np.uint8 if precision == 8 else np.uint16, copy=False))
        if f.samples == 1:
            return bytes(ic.jpeg8_encode(data, quality, bitspersample=precision))
        if f.photometric in ("YBR_FULL", "YBR_FULL_422"):
            data = convert_color_space(data, "YBR_FULL", "RGB")
        return bytes(
            ic.jpeg8_encode(
                data,
                quality,
                colorspace="RGB",
                outcolorspace="YCBCR",
                subsampling=_subsampling(options),
                bitspersample=precision,
            )
        )

    return encode


def _jpeg_lossy_check(bits: tuple[int, ...], stored: tuple[int, int]) -> Callable[[Frames], str | None]:
    limits = _limits(bits=bits, stored=stored, signed_ok=False)

    def check(f: Frames) -> str | None:
        reason = limits(f)
        if reason is None and f.bits_allocated == 8 and f.bits_stored != 8:
            return f"Bits Stored {f.bits_stored} with Bits Allocated 8 (8 needed)"
        if reason is None and f.samples == 3 and f.photometric not in ("RGB", "YBR_FULL", "YBR_FULL_422"):
            return f"Photometric Interpretation {f.photometric}"
        return reason

    return check


_LS = _limits(bits=(8, 16), stored=(2, 16))
_J2K = _limits(bits=(8, 16), stored=(1, 16))
_HT = _limits(bits=(8, 16), stored=(1, 16))
_LJ_LIMITS = _limits(bits=(8, 16), stored=(2, 16))


def _ljpeg_check(f: Frames) -> str | None:
    reason = _LJ_LIMITS(f)
    if reason is None and f.samples == 3 and f.photometric != "RGB":
        # libjpeg-turbo's lossless mode has no YCbCr-in, YCbCr-out path
        return f"Photometric Interpretation {f.photometric} with 3 samples (RGB only)"
    return reason


ENCODERS: dict[str, Encoder] = {
    e.uid: e
    for e in (
        Encoder(
            RLE_LOSSLESS, "numpy", None, False, None, (),
            _limits(bits=(8, 16, 32, 64), stored=(1, 64)), _keep, _rle,
        ),
        Encoder(JPEG_LS_LOSSLESS, "CharLS", "JPEGLS", False, None, (), _LS, _keep, _jpegls(0)),
        Encoder(
            JPEG_LS_NEAR_LOSSLESS, "CharLS", "JPEGLS", True, "ISO_14495_1", ("near",), _LS, _keep, _jpegls(2)
        ),
        Encoder(JPEG_2000_LOSSLESS, "OpenJPEG", "JPEG2K", False, None, (), _J2K, _j2k_photometric(False), _j2k(False)),
        Encoder(
            JPEG_2000, "OpenJPEG", "JPEG2K", True, "ISO_15444_1", ("psnr", "ratio"),
            _J2K, _j2k_photometric(True), _j2k(True),
        ),
        Encoder(HTJ2K_LOSSLESS, "OpenJPH", "HTJ2K", False, None, (), _HT, _j2k_photometric(False), _htj2k(HTJ2K_LOSSLESS)),
        Encoder(
            HTJ2K_RPCL_LOSSLESS, "OpenJPH", "HTJ2K", False, None, (),
            _HT, _j2k_photometric(False), _htj2k(HTJ2K_RPCL_LOSSLESS),
        ),
        Encoder(
            HTJ2K, "OpenJPH", "HTJ2K", True, "ISO_15444_15", ("qstep", "ratio"),
            _HT, _j2k_photometric(True), _htj2k(HTJ2K),
        ),
        Encoder(JPEG_LOSSLESS_SV1, "libjpeg-turbo", "JPEG8", False, None, (), _ljpeg_check, _keep, _jpeg_lossless(JPEG_LOSSLESS_SV1)),
        Encoder(JPEG_LOSSLESS, "libjpeg-turbo", "JPEG8", False, None, ("predictor",), _ljpeg_check, _keep, _jpeg_lossless(JPEG_LOSSLESS)),
        Encoder(
            JPEG_BASELINE, "libjpeg-turbo", "JPEG8", True, "ISO_10918_1", ("quality", "subsampling"),
            _jpeg_lossy_check((8,), (8, 8)), _baseline_photometric, _jpeg_lossy(JPEG_BASELINE),
        ),
        Encoder(
            JPEG_EXTENDED, "libjpeg-turbo", "JPEG8", True, "ISO_10918_1", ("quality", "subsampling"),
            _jpeg_lossy_check((8, 16), (8, 12)), _baseline_photometric, _jpeg_lossy(JPEG_EXTENDED),
        ),
    )
}  # fmt: skip
"""Encoder per encapsulated transfer syntax UID."""


# -- decoding side ---------------------------------------------------------------------------


_JPEG_PROCESSES = frozenset(
    {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
)


def _decoded(ds: Dataset) -> tuple[PixelInfo, bool, str]:
    """(pixel info, as_rgb for decoding, photometric interpretation of the decoded samples)."""
    info = pixel_info(ds)
    pi = info.photometric_interpretation
    uid = info.transfer_syntax_uid
    ts = transfer_syntax(uid)
    full = "YBR_FULL" if pi == "YBR_FULL_422" else pi  # 4:2:2 comes back at full resolution
    if ts is None or not ts.encapsulated or uid in _SOURCE_AS_STORED or info.samples_per_pixel != 3:
        return info, False, full  # the samples as stored
    if uid in _JPEG_PROCESSES:
        # libjpeg-turbo converts YCbCr to RGB (as the codestream's markers or the
        # interpretation say: see dicomkit.pixels.decode)
        return info, True, "RGB" if pi.startswith("YBR") else pi
    if pi in ("YBR_RCT", "YBR_ICT"):
        return info, False, "RGB"  # the JPEG 2000 decoder inverts its component transform
    return info, False, full  # JPEG-LS, JPEG 2000 without a transform: as stored


def _frames(ds: Dataset) -> tuple[PixelInfo, str, Iterator[np.ndarray]]:
    """The pixel description, the interpretation of the decoded samples, and the frames (decoded
    one at a time)."""
    info, as_rgb, pi = _decoded(ds)
    return info, pi, iter_frames(ds, as_rgb=as_rgb)


# -- public API ------------------------------------------------------------------------------


def _resolve(ts: str | TransferSyntax) -> TransferSyntax:
    if isinstance(ts, TransferSyntax):
        return ts
    text = str(ts).strip()
    uid = SYNTAX_ALIASES.get(text.lower(), text)
    found = transfer_syntax(uid)
    if found is None:
        raise UnsupportedTransferSyntaxError(f"unknown transfer syntax {ts!r}")
    return found


def _with_syntax(ds: Dataset, uid: str) -> Dataset:
    """A shallow copy of ``ds`` whose file meta (copied too) names transfer syntax ``uid``."""
    new = ds.copy()
    meta = ds.meta.copy() if isinstance(ds.meta, Dataset) else Dataset()
    meta[TRANSFER_SYNTAX_UID] = DataElement(TRANSFER_SYNTAX_UID, VR.UI, uid)
    new.meta = meta
    new.preamble = ds.preamble
    return new


def _is_encapsulated(ds: Dataset) -> bool:
    elem = ds.element(PIXEL_DATA) if PIXEL_DATA in ds else None
    return elem is not None and elem.undefined_length


def decompress(ds: Dataset, transfer_syntax: str | TransferSyntax = EXPLICIT_VR_LITTLE_ENDIAN) -> Dataset:
    """A copy of ``ds`` with its encapsulated pixel data decoded to native pixel data in the
    native ``transfer_syntax`` (Explicit VR Little Endian by default). ``ds`` is unchanged.

    Colour comes back as the decoder returns it: RGB for JPEG (YCbCr converted) and JPEG 2000
    (component transform inverted), the stored samples otherwise (YBR_FULL_422 upsampled to
    YBR_FULL). Lossy Image Compression attributes are kept.
    """
    ts = _resolve(transfer_syntax)
    if ts.encapsulated:
        raise UnsupportedTransferSyntaxError(f"decompress writes a native transfer syntax, not {ts.name}")
    info, pi, frames = _frames(ds)
    decoded = list(frames)
    arr = np.stack(decoded) if info.number_of_frames > 1 else decoded[0]
    new = _with_syntax(ds, ts.uid)
    set_pixel_data(
        new,
        arr,
        photometric_interpretation=pi,
        bits_stored=info.bits_stored if not info.is_float else None,
        bits_allocated=1 if info.bits_allocated == 1 else None,
    )
    return new


def compress(ds: Dataset, transfer_syntax: str | TransferSyntax, **options: Any) -> Dataset:
    """A copy of ``ds`` with its pixel data encoded in the encapsulated ``transfer_syntax``
    (a UID, a :class:`~dicomkit.uid.TransferSyntax` or a short name of :data:`SYNTAX_ALIASES`).
    ``ds`` itself is unchanged. Encapsulated input is decoded first.

    ``options`` per syntax: ``near`` (JPEG-LS near-lossless), ``psnr`` or ``ratio`` (JPEG 2000),
    ``qstep`` or ``ratio`` (HTJ2K lossy), ``predictor`` (JPEG Lossless process 14),
    ``quality`` and ``subsampling`` (JPEG Baseline); see the module docstring.
    """
    ts = _resolve(transfer_syntax)
    enc = ENCODERS.get(ts.uid)
    if enc is None:
        raise UnsupportedTransferSyntaxError(f"dicomkit has no encoder for {ts.name} ({ts.uid})")
    unknown = sorted(set(k for k, v in options.items() if v is not None) - set(enc.options))
    if unknown:
        allowed = ", ".join(enc.options) or "none"
        raise PixelDataError(f"{ts.name} does not take option(s) {', '.join(unknown)} (takes: {allowed})")
    if enc.needs is not None:
        _imagecodecs(enc)
    info, pi, frames = _frames(ds)
    if info.is_float:
        raise PixelDataError(f"{ts.name} cannot hold Float or Double Float Pixel Data")
    f = Frames(
        info.bits_allocated,
        info.bits_stored,
        bool(info.pixel_representation),
        info.samples_per_pixel,
        pi,
        info.rows,
        info.columns,
    )
    reason = enc.check(f)
    if reason is None and enc.lossy and f.photometric == "PALETTE COLOR":
        reason = "PALETTE COLOR indices must not be compressed lossily"
    if reason is not None:
        raise PixelDataError(f"{ts.name} cannot encode this pixel data: {reason}")
    try:
        encoded = [enc.encode(frame, f, options) for frame in frames]
    except (PixelDataError, UnsupportedTransferSyntaxError):
        raise
    except Exception as exc:  # the codec's own error, translated at the layer boundary
        raise PixelDataError(f"{enc.codec} could not encode the pixel data as {ts.name}: {exc}") from None

    new = _with_syntax(ds, ts.uid)
    drop(new, 0x7FE00001, 0x7FE00002, 0x7FE00008, 0x7FE00009)
    _store(new, encoded)
    put(new, "PhotometricInterpretation", enc.photometric(f, options))
    if f.samples > 1:
        put(new, "PlanarConfiguration", 0)
    if enc.uid == JPEG_EXTENDED and f.bits_allocated == 16 and f.bits_stored != 12:
        # the codestream's precision is 12 and the decoded values may use all 12 bits
        put(new, "BitsStored", 12)
        put(new, "HighBit", 11)
    if enc.lossy:
        _mark_lossy(new, ds, enc, info, sum(len(e) for e in encoded), options)
    return new


#: the largest offset a Basic Offset Table can hold (PS3.5 A.4); beyond it, an Extended Offset Table
_BOT_LIMIT = 0xFFFFFFFF


def _store(ds: Dataset, frames: list[bytes]) -> None:
    """The encapsulated Pixel Data value (PS3.5 A.4), one fragment per frame, with a Basic Offset
    Table, or an Extended Offset Table (PS3.3 C.7.6.3.1.8) when the frames pass 4 GiB."""
    last = sum(8 + len(f) + (len(f) & 1) for f in frames[:-1])
    extended = last > _BOT_LIMIT
    if extended:
        eot, lengths = encaps.extended_offsets(frames)
        ds[0x7FE00001] = DataElement(0x7FE00001, VR.OV, eot)
        ds[0x7FE00002] = DataElement(0x7FE00002, VR.OV, lengths)
    value = encaps.encapsulate(frames, extended=extended)
    ds[PIXEL_DATA] = DataElement(PIXEL_DATA, VR.OB, value, undefined_length=True)


def _mark_lossy(
    new: Dataset, old: Dataset, enc: Encoder, info: PixelInfo, size: int, options: Mapping[str, Any]
) -> None:
    """Lossy Image Compression attributes (PS3.3 C.7.6.1.1.5) and a new identity."""
    frames = max(info.number_of_frames, 1)
    original = info.rows * info.columns * info.samples_per_pixel * info.bits_allocated * frames / 8
    ratio = original / max(size, 1)
    ratio_text = f"{ratio:.4f}".rstrip("0").rstrip(".")[:16]
    was_lossy = str(old.get("LossyImageCompression") or "").strip() == "01"
    ratios = tuple(old.get("LossyImageCompressionRatio") or ()) if was_lossy else ()
    methods = tuple(old.get("LossyImageCompressionMethod") or ()) if was_lossy else ()
    if isinstance(ratios, str | float | int):
        ratios = (ratios,)
    if isinstance(methods, str):
        methods = (methods,)
    put(new, "LossyImageCompression", "01")
    put(new, "LossyImageCompressionRatio", (*(str(r) for r in ratios), ratio_text))
    put(new, "LossyImageCompressionMethod", (*methods, enc.method))
    drop(new, 0x00280106, 0x00280107, 0x00280108, 0x00280109)  # the values changed
    # a new image: new SOP Instance UID, DERIVED, and where it came from
    old_uid = str(old.get("SOPInstanceUID") or "")
    sop_class = str(old.get("SOPClassUID") or "")
    uid = str(generate_uid())
    put(new, "SOPInstanceUID", uid)
    if isinstance(new.meta, Dataset) and 0x00020003 in new.meta:  # the copy made by _with_syntax
        new.meta[0x00020003] = DataElement(0x00020003, VR.UI, uid)
    image_type = old.get("ImageType")
    if image_type:
        values = list(image_type) if isinstance(image_type, tuple) else [image_type]
        values[0] = "DERIVED"
        put(new, "ImageType", tuple(values))
    settings = ", ".join(f"{k} {v}" for k, v in sorted(options.items()) if v is not None)
    described = f"{_name(enc.uid)} ({settings})" if settings else _name(enc.uid)
    text = f"Lossy compression: {described}, achieved ratio {ratio_text}"
    previous = str(old.get("DerivationDescription") or "").strip()
    put(new, "DerivationDescription", (previous + "; " + text if previous else text)[:1024])
    if old_uid and sop_class:
        item = Dataset()
        put(item, "ReferencedSOPClassUID", sop_class)
        put(item, "ReferencedSOPInstanceUID", old_uid)
        items = list(old.get("SourceImageSequence") or ())
        new[0x00082112] = DataElement(0x00082112, VR.SQ, Sequence([*items, item]))


def transcode(ds: Dataset, transfer_syntax: str | TransferSyntax, **options: Any) -> Dataset:
    """``ds`` ready to be written in ``transfer_syntax``: compressed, decompressed, both (from
    one encapsulated syntax to another) or, between native syntaxes or to its own syntax,
    ``ds`` itself (the writer re-encodes native data)."""
    ts = _resolve(transfer_syntax)
    if PIXEL_DATA not in ds:
        return ds
    meta = ds.meta if isinstance(ds.meta, Dataset) else None
    current = str(meta.get(TRANSFER_SYNTAX_UID) or "").strip("\x00 ") if meta is not None else ""
    encapsulated = _is_encapsulated(ds)
    if options and not ts.encapsulated:
        raise PixelDataError(
            f"codec options ({', '.join(sorted(options))}) need a compressed syntax, not {ts.name}"
        )
    if current == ts.uid and not options:
        return ds
    if not ts.encapsulated:
        return decompress(ds, ts) if encapsulated else ds
    return compress(ds, ts, **options)
