"""``compress`` / ``decompress`` / ``transcode`` and the numpy RLE encoder.

Oracles: pydicom's own RLE encoder (the segment bytes must be identical), pydicom 3 with
pylibjpeg / pylibjpeg-libjpeg / pylibjpeg-openjpeg decoding our compressed files (must give the
original pixels, bit-exact, for every lossless syntax), and the original pixel array of
pydicom's test files. Lossy bounds are the ones the standard defines (JPEG-LS NEAR) or the
Lossy Image Compression rules of PS3.3 C.7.6.1.1.5.
"""

from __future__ import annotations

import importlib
import io
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit import Dataset
from dicomkit.errors import PixelDataError, UnsupportedTransferSyntaxError
from dicomkit.pixels import pixel_array
from dicomkit.pixels.compress import SYNTAX_ALIASES, compress, decompress, transcode
from dicomkit.pixels.encode import set_pixel_data
from dicomkit.pixels.rle_encode import encode_rle_frame, encode_segment

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("imagecodecs")

LOSSLESS = ["rle", "jpeg-ls", "j2k", "htj2k", "htj2k-rpcl", "jpeg-lossless"]
JPEG_FAMILY = ("1.2.840.10008.1.2.4.",)


def _pydicom_files() -> list[str]:
    """Every pydicom test file with pixel data that pydicom itself decodes (bundled files, plus
    pydicom-data's larger ones of the kinds the bundled set lacks)."""
    from pathlib import Path

    from pydicom.data.data_manager import DATA_ROOT

    paths = sorted(str(p) for p in (Path(DATA_ROOT) / "test_files").rglob("*.dcm"))
    for extra in (
        "SC_ybr_full_uncompressed.dcm",
        "SC_rgb_16bit_2frame.dcm",
        "emri_small.dcm",
        "color-pl.dcm",
    ):
        found = pydicom.data.get_testdata_file(extra, download=False)
        if found is not None:
            paths.append(str(found))
    keep = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=False)
                if "PixelData" in ds:
                    ds.pixel_array  # noqa: B018 - only files the oracle can decode
                    keep.append(path)
            except Exception:
                continue
    return keep


PYDICOM_FILES = _pydicom_files()


def _file(name: str) -> str:
    path = pydicom.data.get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)


def _bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    dicomkit.write(ds, buf)
    return buf.getvalue()


def _pydicom_pixels(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(pydicom.dcmread(io.BytesIO(data)).pixel_array)


# -- RLE --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 300),
    levels=st.integers(1, 256),
    seed=st.integers(0, 2**32 - 1),
)
def test_rle_segment_is_byte_identical_to_pydicoms_encoder(
    rows: int, cols: int, levels: int, seed: int
) -> None:
    from pydicom.pixels.encoders.native import _encode_segment

    plane = np.random.default_rng(seed).integers(0, levels, (rows, cols)).astype(np.uint8)
    assert encode_segment(plane) == bytes(_encode_segment(plane.tobytes(), cols))


class _Runner:
    """The three attributes pydicom's RLE frame encoder reads from its runner."""

    def __init__(self, bits_allocated: int, samples_per_pixel: int, columns: int) -> None:
        self.bits_allocated = bits_allocated
        self.samples_per_pixel = samples_per_pixel
        self.columns = columns

    def get_option(self, name: str, default: Any = None) -> Any:
        return default


@settings(max_examples=100, deadline=None)
@given(
    bits=st.sampled_from([8, 16, 32, 64]),
    samples=st.sampled_from([1, 3]),
    rows=st.integers(1, 6),
    cols=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_rle_frame_is_byte_identical_to_pydicoms_encoder(
    bits: int, samples: int, rows: int, cols: int, seed: int
) -> None:
    # header, segment order (sample by sample, most significant byte first), padding
    from pydicom.pixels.encoders.native import _encode_frame

    if bits == 64 and samples == 3:
        samples = 1  # 24 segments: more than RLE allows
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 4, (rows, cols, samples))
    frame = (levels * int(rng.integers(0, 2 ** (min(bits, 62) - 2)))).astype(f"<u{bits // 8}")
    ours = encode_rle_frame(frame if samples == 3 else frame[..., 0], bits)
    assert ours == bytes(_encode_frame(frame.tobytes(), _Runner(bits, samples, cols)))


def test_rle_segment_hand_computed() -> None:
    # PS3.5 G.3.1: replicate run n → 257-n then the byte; literal run n → n-1 then the bytes
    plane = np.array([[7, 7, 7, 1, 2, 9] + [5] * 130], dtype=np.uint8)
    expected = bytes([254, 7, 2, 1, 2, 9, 129, 5, 255, 5])  # 3×7, literal 1 2 9, 128×5, 2×5
    assert encode_segment(plane) == expected


def test_rle_frame_header_and_segment_order() -> None:
    frame = np.array([[0x0102, 0x0102]], dtype="<u2")
    out = encode_rle_frame(frame, 16)
    assert out[:4] == (2).to_bytes(4, "little")
    assert out[4:8] == (64).to_bytes(4, "little")
    # high bytes first (G.2): segment 1 is 0x01 0x01, segment 2 is 0x02 0x02
    assert out[64:66] == bytes([255, 1]) and out[66:68] == bytes([255, 2])


# -- lossless round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PYDICOM_FILES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_lossless_round_trip_on_pydicom_files(path: str) -> None:
    """Every lossless syntax on every pydicom test file: our decode of the compressed file gives
    the samples the source decodes to, and pydicom decodes our file as it decodes the source."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's deliberately odd files; the reader says so
        ds = dicomkit.read(path)
        len(ds)
    uid = str(ds.meta.TransferSyntaxUID)
    jpeg_source = uid.startswith(JPEG_FAMILY)
    # JPEG-family sources are transcoded from their RGB decode; others keep the stored samples
    expected = pixel_array(ds, as_rgb=jpeg_source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.asarray(pydicom.dcmread(path).pixel_array)
    for syntax in LOSSLESS[:-2] + LOSSLESS[-1:]:  # htj2k-rpcl: in the synthetic cases
        try:
            out = compress(ds, syntax)
        except PixelDataError as exc:
            # refusals are the documented limits: 1-bit and 32-bit data, YBR in lossless JPEG
            reason = str(exc)
            assert "cannot encode" in reason, reason
            assert ds.BitsAllocated in (1, 32) or "RGB only" in reason, reason
            continue
        data = _bytes(out)
        back = dicomkit.read(io.BytesIO(data))
        assert back.meta.TransferSyntaxUID == SYNTAX_ALIASES[syntax]
        assert back.SOPInstanceUID == ds.SOPInstanceUID
        assert back.get("LossyImageCompression") == ds.get("LossyImageCompression")
        assert np.array_equal(pixel_array(back, as_rgb=False), expected), syntax
        if not jpeg_source or uid == "1.2.840.10008.1.2.4.70":  # same decoder as the reference
            assert np.array_equal(_pydicom_pixels(data), reference), syntax


def _synthetic(bits: int, signed: bool, samples: int, frames: int) -> np.ndarray:
    rng = np.random.default_rng(bits * 100 + samples * 10 + frames + signed)
    shape: tuple[int, ...] = (frames, 23, 17) + ((3,) if samples == 3 else ())
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    smooth = np.linspace(lo, hi - 1, num=int(np.prod(shape))).reshape(shape)
    noise = rng.integers(-3, 4, shape)
    dtype = f"{'i' if signed else 'u'}{1 if bits <= 8 else 2}"
    return np.clip(smooth + noise, lo, hi - 1).astype(dtype)


@pytest.mark.parametrize("syntax", LOSSLESS)
@pytest.mark.parametrize(
    ("bits", "signed", "samples", "frames"),
    [(8, False, 1, 1), (8, True, 1, 2), (12, False, 1, 3), (12, True, 1, 1), (16, False, 1, 2),
     (16, True, 1, 1), (8, False, 3, 2), (16, False, 3, 1), (12, False, 3, 1)],
)  # fmt: skip
def test_lossless_round_trip_synthetic(
    syntax: str, bits: int, signed: bool, samples: int, frames: int
) -> None:
    arr = _synthetic(bits, signed, samples, frames)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    set_pixel_data(ds, arr, bits_stored=bits, photometric_interpretation="RGB" if samples == 3 else None)
    data = _bytes(compress(ds, syntax))
    expected = arr[0] if frames == 1 else arr
    assert np.array_equal(pixel_array(dicomkit.read(io.BytesIO(data))), expected)
    assert np.array_equal(_pydicom_pixels(data), expected)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "JPEG2000.dcm", "MR_small_jpeg_ls_lossless.dcm"])
def test_decompress_matches_pydicom(name: str) -> None:
    path = _file(name)
    ds = dicomkit.read(path)
    native = decompress(ds)
    data = _bytes(native)
    back = dicomkit.read(io.BytesIO(data))
    assert back.meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert not back["PixelData"].undefined_length
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.asarray(pydicom.dcmread(path).pixel_array)
    assert np.array_equal(pixel_array(back), reference)
    assert np.array_equal(_pydicom_pixels(data), reference)
    assert ds.meta.TransferSyntaxUID != "1.2.840.10008.1.2.1"  # the input is unchanged


def test_transcode_between_encapsulated_syntaxes_and_native_noop() -> None:
    ds = dicomkit.read(_file("MR_small_RLE.dcm"))
    out = transcode(ds, "j2k")
    assert out.meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.90"
    assert np.array_equal(pixel_array(out), pixel_array(ds))
    native = dicomkit.read(_file("CT_small.dcm"))
    assert transcode(native, "1.2.840.10008.1.2") is native


# -- lossy --------------------------------------------------------------------------------------


def test_jpeg_ls_near_lossless_error_is_bounded_by_near() -> None:
    ds = dicomkit.read(_file("CT_small.dcm"))
    out = compress(ds, "jpeg-ls-near", near=3)
    diff = np.abs(pixel_array(out).astype(int) - pixel_array(ds).astype(int))
    assert 0 < diff.max() <= 3
    assert (
        out.LossyImageCompressionMethod == ("ISO_14495_1",)
        or out.LossyImageCompressionMethod == "ISO_14495_1"
    )


@pytest.mark.parametrize(
    ("syntax", "options", "method", "photometric"),
    [
        ("jpeg-baseline", {"quality": 85}, "ISO_10918_1", "YBR_FULL_422"),
        ("jpeg-baseline", {"subsampling": "444"}, "ISO_10918_1", "YBR_FULL"),
        ("j2k-lossy", {"psnr": 40}, "ISO_15444_1", "YBR_ICT"),
        ("j2k-lossy", {"ratio": 10}, "ISO_15444_1", "YBR_ICT"),
        ("htj2k-lossy", {"qstep": 0.002}, "ISO_15444_15", "YBR_ICT"),
        ("htj2k-lossy", {"ratio": 5}, "ISO_15444_15", "YBR_ICT"),
    ],
)
def test_lossy_attributes(syntax: str, options: dict[str, Any], method: str, photometric: str) -> None:
    ds = dicomkit.read(_file("SC_rgb.dcm"))
    out = compress(ds, syntax, **options)
    data = _bytes(out)
    back = pydicom.dcmread(io.BytesIO(data))
    assert back.LossyImageCompression == "01"
    assert back.LossyImageCompressionMethod == method
    size = len(b"".join(pydicom.encaps.generate_frames(back.PixelData, number_of_frames=1)))
    ratio = float(back.LossyImageCompressionRatio)
    assert ratio == pytest.approx(100 * 100 * 3 / size, rel=0.02)
    if "ratio" in options:
        assert options["ratio"] * 0.7 <= ratio  # bisection aims at (not above) the target size
    assert back.PhotometricInterpretation == photometric
    assert back.SOPInstanceUID != ds.SOPInstanceUID
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    assert back.SourceImageSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
    assert out.meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID == back.SOPInstanceUID
    assert ds.meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID  # the input is unchanged
    ours = pixel_array(dicomkit.read(io.BytesIO(data))).astype(int)
    original = pixel_array(ds).astype(int)
    assert np.abs(ours - original).mean() < 10
    theirs = _pydicom_pixels(data).astype(int)
    assert np.abs(theirs - ours).max() <= 3  # another decoder of the same codestream


def test_lossy_history_is_appended() -> None:
    ds = dicomkit.read(_file("SC_rgb.dcm"))
    twice = compress(compress(ds, "jpeg-baseline"), "j2k-lossy")
    assert twice.LossyImageCompressionMethod == ("ISO_10918_1", "ISO_15444_1")
    assert len(twice.LossyImageCompressionRatio) == 2


@pytest.mark.parametrize(
    ("name", "syntax", "options", "message"),
    [
        ("CT_small.dcm", "jpeg-baseline", {}, "Bits Allocated 16"),
        ("OBXXXX1A.dcm", "jpeg-baseline", {}, "PALETTE COLOR"),
        ("rtdose.dcm", "j2k", {}, "Bits Allocated 32"),
        ("liver_1frame.dcm", "rle", {}, "Bits Allocated 1"),
        ("CT_small.dcm", "rle", {"quality": 3}, "does not take option"),
        ("CT_small.dcm", "jpeg-ls-near", {"near": 999}, "out of range"),
    ],
)
def test_refusals(name: str, syntax: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(PixelDataError, match=message):
        compress(dicomkit.read(_file(name)), syntax, **options)


def test_missing_codec_names_it_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    ds = dicomkit.read(_file("CT_small.dcm"))
    with pytest.raises(UnsupportedTransferSyntaxError, match=r"CharLS.*dicomkit\[codecs\]"):
        compress(ds, "jpeg-ls")
    assert compress(ds, "rle").meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # numpy only


def test_unknown_or_unsupported_syntax() -> None:
    ds = dicomkit.read(_file("CT_small.dcm"))
    with pytest.raises(UnsupportedTransferSyntaxError, match="no encoder"):
        compress(ds, "1.2.840.10008.1.2.4.100")
    with pytest.raises(UnsupportedTransferSyntaxError, match="unknown"):
        compress(ds, "zip")


@settings(max_examples=60, deadline=None)
@given(
    syntax=st.sampled_from(LOSSLESS),
    kind=st.sampled_from(["u1", "i1", "u2", "i2"]),
    samples=st.sampled_from([1, 3]),
    frames=st.integers(1, 3),
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    data=st.data(),
)
def test_lossless_round_trip_property(
    syntax: str, kind: str, samples: int, frames: int, rows: int, cols: int, data: Any
) -> None:
    dt = np.dtype(kind)
    bits = data.draw(st.integers(2, dt.itemsize * 8), label="bits_stored")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    shape: tuple[int, ...] = (frames, rows, cols) + ((3,) if samples == 3 else ())
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if dt.kind == "i" else (0, 1 << bits)
    arr = rng.integers(lo, hi, shape, dtype=np.int64).astype(dt)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    set_pixel_data(
        ds, arr, bits_stored=bits, photometric_interpretation="RGB" if samples == 3 else "MONOCHROME2"
    )
    data_bytes = _bytes(compress(ds, syntax))
    expected = arr[0] if frames == 1 else arr
    assert np.array_equal(pixel_array(dicomkit.read(io.BytesIO(data_bytes))), expected)


def test_extended_offset_table_past_the_basic_offset_table_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # frames beyond 4 GiB need the Extended Offset Table (PS3.3 C.7.6.3.1.8); the limit is
    # lowered here so a small file takes that path, and pydicom finds the frames through it
    module = importlib.import_module("dicomkit.pixels.compress")

    monkeypatch.setattr(module, "_BOT_LIMIT", 16)
    ds = dicomkit.read(_file("emri_small.dcm"))
    data = _bytes(compress(ds, "rle"))
    back = pydicom.dcmread(io.BytesIO(data))
    assert "ExtendedOffsetTable" in back and len(back.ExtendedOffsetTable) == 8 * 10
    frames = list(
        pydicom.encaps.generate_frames(
            back.PixelData,
            number_of_frames=10,
            extended_offsets=(back.ExtendedOffsetTable, back.ExtendedOffsetTableLengths),
        )
    )
    assert len(frames) == 10
    assert np.array_equal(pixel_array(dicomkit.read(io.BytesIO(data))), pixel_array(ds))
    assert np.array_equal(_pydicom_pixels(data), pixel_array(ds))


def test_decompress_to_big_endian_and_implicit() -> None:
    ds = dicomkit.read(_file("MR_small_RLE.dcm"))
    original = pixel_array(ds)
    for uid in ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2"):
        data = _bytes(decompress(ds, uid))
        assert pydicom.dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == uid
        assert np.array_equal(_pydicom_pixels(data), original)


def test_codec_options_need_a_compressed_syntax() -> None:
    ds = dicomkit.read(_file("CT_small.dcm"))
    with pytest.raises(PixelDataError, match="need a compressed syntax"):
        transcode(ds, "1.2.840.10008.1.2.1", quality=50)


def test_jpeg_extended_12_bit() -> None:
    # process 4: 12-bit precision (SOF1, P = 12); a 10-bit image is coded at 12 bits, so the
    # result says Bits Stored 12 (the decoded values may use them)
    arr = (np.add.outer(np.arange(48), np.arange(40)) * 10).astype(np.uint16)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    set_pixel_data(ds, arr, bits_stored=10)
    data = _bytes(compress(ds, "jpeg-extended", quality=95))
    back = pydicom.dcmread(io.BytesIO(data))
    frame = next(pydicom.encaps.generate_frames(back.PixelData, number_of_frames=1))
    sof1 = frame.find(b"\xff\xc1")
    assert sof1 > 0 and frame[sof1 + 4] == 12  # the SOF1 precision byte
    assert (back.BitsStored, back.HighBit, back.LossyImageCompressionMethod) == (12, 11, "ISO_10918_1")
    ours = pixel_array(dicomkit.read(io.BytesIO(data))).astype(int)
    assert np.abs(ours - arr).max() <= 8
    assert np.abs(_pydicom_pixels(data).astype(int) - ours).max() <= 1


@pytest.mark.parametrize("middle", ["j2k", "jpeg-ls", "htj2k"])
def test_ybr_full_survives_a_chain_of_lossless_transcodes(middle: str) -> None:
    # YBR_FULL samples stay as stored through a syntax without a colour transform; pydicom
    # (which converts YBR_FULL to RGB for display) sees the original image at the end
    path = _file("SC_ybr_full_uncompressed.dcm")
    ds = dicomkit.read(path)
    stored = pixel_array(ds, as_rgb=False)
    step = compress(ds, middle)
    assert step.PhotometricInterpretation == "YBR_FULL"
    final = compress(step, "rle")
    assert final.PhotometricInterpretation == "YBR_FULL"
    assert np.array_equal(pixel_array(final, as_rgb=False), stored)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.asarray(pydicom.dcmread(path).pixel_array)
    assert np.array_equal(_pydicom_pixels(_bytes(final)), reference)
    assert np.array_equal(_pydicom_pixels(_bytes(step)), reference)


def test_codec_missing_from_the_imagecodecs_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import imagecodecs

    monkeypatch.setattr(imagecodecs.HTJ2K, "available", False)
    if hasattr(imagecodecs, "JPH"):
        monkeypatch.setattr(imagecodecs.JPH, "available", False)
    with pytest.raises(UnsupportedTransferSyntaxError, match=r"OpenJPH.*HTJ2K\.available"):
        compress(dicomkit.read(_file("CT_small.dcm")), "htj2k")


def test_htj2k_rpcl_codestream_follows_ps35_10_18() -> None:
    # RPCL progression order, TLM marker segment present, and enough decomposition levels for
    # the lowest resolution to be <= 64 pixels (4100 columns: 7 levels, 4100 / 2**7 = 33)
    arr = (np.add.outer(np.arange(40), np.arange(4100)) % 251).astype(np.uint8)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    set_pixel_data(ds, arr)
    data = _bytes(compress(ds, "htj2k-rpcl"))
    back = pydicom.dcmread(io.BytesIO(data))
    frame = next(pydicom.encaps.generate_frames(back.PixelData, number_of_frames=1))
    header = frame[: frame.find(b"\xff\x90")]  # the main header ends at the first SOT
    cod = header.find(b"\xff\x52")
    assert frame[:4] == b"\xff\x4f\xff\x51" and cod > 0
    progression, levels = frame[cod + 5], frame[cod + 9]
    assert progression == 2  # RPCL (ISO/IEC 15444-1 Table A.16)
    assert -(-4100 // 2**levels) <= 64 and levels == 7
    assert b"\xff\x55" in header  # TLM
    assert np.array_equal(_pydicom_pixels(data), arr)


@pytest.mark.parametrize("alias", ["jpeg-ls", "j2k", "htj2k"])
def test_ybr_full_in_jpeg_ls_and_j2k_decodes_to_rgb_as_pydicom_does(alias: str) -> None:
    # these codecs keep YBR_FULL samples as stored (no colour transform of their own), so
    # pixel_array converts them to RGB, as pydicom (pylibjpeg) does for the same file
    source = dicomkit.read(_file("SC_ybr_full_uncompressed.dcm"))
    packed = compress(source, SYNTAX_ALIASES[alias])
    assert str(packed.PhotometricInterpretation) == "YBR_FULL"
    data = _bytes(packed)
    ours = pixel_array(dicomkit.read(data))
    theirs = _pydicom_pixels(data)
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)
    assert np.array_equal(pixel_array(dicomkit.read(data), as_rgb=False), pixel_array(source, as_rgb=False))
