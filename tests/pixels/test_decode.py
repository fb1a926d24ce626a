"""Native decoding on synthetic data sets: every layout the pixel module allows, and the errors."""

from __future__ import annotations

import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from dicomkit.dataset import DataElement, Dataset  # noqa: E402
from dicomkit.errors import PixelDataError, UnsupportedTransferSyntaxError  # noqa: E402
from dicomkit.pixels import (  # noqa: E402
    TruncatedPixelDataWarning,
    convert_color_space,
    iter_frames,
    pixel_array,
    pixel_info,
)
from dicomkit.pixels.rle import decode_rle_frame, decode_segment  # noqa: E402

LE = "1.2.840.10008.1.2.1"
BE = "1.2.840.10008.1.2.2"


def make(
    data: bytes,
    *,
    rows: int = 2,
    cols: int = 3,
    spp: int = 1,
    ba: int = 8,
    bs: int | None = None,
    hb: int | None = None,
    pr: int = 0,
    pi: str | None = None,
    pc: int | None = None,
    frames: int | None = None,
    ts: str = LE,
    tag: int = 0x7FE00010,
    vr: str = "OB",
    encapsulated: bool = False,
) -> Dataset:
    ds = Dataset()
    ds.Rows = rows
    ds.Columns = cols
    ds.SamplesPerPixel = spp
    ds.BitsAllocated = ba
    if tag == 0x7FE00010:
        ds.BitsStored = ba if bs is None else bs
        ds.HighBit = (ba if bs is None else bs) - 1 if hb is None else hb
        ds.PixelRepresentation = pr
    ds.PhotometricInterpretation = pi or ("MONOCHROME2" if spp == 1 else "RGB")
    if pc is not None:
        ds.PlanarConfiguration = pc
    if frames is not None:
        ds.NumberOfFrames = str(frames)
    ds[tag] = DataElement(tag, vr, data, undefined_length=encapsulated)
    meta = Dataset()
    meta.TransferSyntaxUID = ts
    ds.meta = meta
    return ds


def test_8bit_is_a_view_with_pydicom_shape() -> None:
    data = bytes(range(6))
    arr = pixel_array(make(data))
    assert arr.shape == (2, 3) and arr.dtype == np.uint8
    assert arr.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert not arr.flags.writeable and np.shares_memory(arr, np.frombuffer(data, np.uint8))


def test_16bit_signed_little_and_big_endian() -> None:
    values = np.array([[-3, 0, 7], [32767, -32768, 1]], dtype=np.int16)
    le = pixel_array(make(values.astype("<i2").tobytes(), ba=16, pr=1))
    be = pixel_array(make(values.astype(">i2").tobytes(), ba=16, pr=1, ts=BE, vr="OW"))
    assert le.dtype == np.dtype("<i2") and be.dtype == np.dtype(">i2")
    assert np.array_equal(le, values) and np.array_equal(be, values)


@pytest.mark.parametrize("ba", [32, 64])
def test_wide_integers(ba: int) -> None:
    values = np.arange(6, dtype=f"u{ba // 8}").reshape(2, 3) * 1000003
    assert np.array_equal(pixel_array(make(values.tobytes(), ba=ba)), values)


def test_bits_stored_masking_and_sign_extension() -> None:
    raw = np.array([0xF7FF, 0x0800, 0xF001, 0x0002, 0x0FFF, 0x1000], dtype="<u2")
    unsigned = pixel_array(make(raw.tobytes(), ba=16, bs=12))
    assert unsigned.ravel().tolist() == [0x7FF, 0x800, 0x001, 0x002, 0xFFF, 0x000]
    signed = pixel_array(make(raw.tobytes(), ba=16, bs=12, pr=1))
    assert signed.ravel().tolist() == [2047, -2048, 1, 2, -1, 0]
    clean = np.array([1, 2, 3, 4, 5, 4095], dtype="<u2").tobytes()
    view = pixel_array(make(clean, ba=16, bs=12))
    assert not view.flags.writeable  # already clean: still a view, no copy


def test_high_bit_above_bits_stored_shifts_down() -> None:
    raw = np.array([0x0FF0, 0x0010, 0, 0, 0, 0x8000], dtype="<u2")  # 8 bits stored at bits 4..11
    arr = pixel_array(make(raw.tobytes(), ba=16, bs=8, hb=11))
    assert arr.ravel().tolist() == [0xFF, 0x01, 0, 0, 0, 0]


def test_one_bit_frames_not_byte_aligned() -> None:
    bits = np.random.default_rng(1).integers(0, 2, size=(3, 3, 5), dtype=np.uint8)  # 15 bits a frame
    data = np.packbits(bits.ravel(), bitorder="little").tobytes()
    ds = make(data, rows=3, cols=5, ba=1, frames=3)
    assert np.array_equal(pixel_array(ds), bits)
    for i in range(3):
        assert np.array_equal(pixel_array(ds, i), bits[i])


def test_rgb_planar_configurations() -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    by_pixel = pixel_array(make(rgb.tobytes(), spp=3, pc=0))
    by_plane = pixel_array(make(rgb.transpose(2, 0, 1).tobytes(), spp=3, pc=1))
    assert np.array_equal(by_pixel, rgb) and np.array_equal(by_plane, rgb)
    assert not by_plane.flags.writeable  # a transposed view


def test_multiframe_and_odd_padding() -> None:
    frames = np.arange(3 * 3 * 3, dtype=np.uint8).reshape(3, 3, 3)
    ds = make(frames.tobytes() + b"\x00", rows=3, cols=3, frames=3)  # 27 bytes + pad
    assert np.array_equal(pixel_array(ds), frames)
    assert np.array_equal(pixel_array(ds, 1), frames[1])
    assert [f.tolist() for f in iter_frames(ds)] == frames.tolist()


def test_big_endian_8bit_in_ow_words_is_swapped() -> None:
    pixels = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9])  # 3x3, stored as OW words in big endian: pairs swapped
    stored = b"".join(bytes(reversed(pixels[i : i + 2].ljust(2, b"\0"))) for i in range(0, 9, 2))
    arr = pixel_array(make(stored, rows=3, cols=3, ts=BE, vr="OW"))
    assert arr.ravel().tolist() == list(pixels)
    ds = make(stored + stored[:0], rows=3, cols=1, frames=3, ts=BE, vr="OW")
    assert [pixel_array(ds, i).ravel().tolist() for i in range(3)] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


@pytest.mark.parametrize(("tag", "ba", "dtype"), [(0x7FE00008, 32, "<f4"), (0x7FE00009, 64, "<f8")])
def test_float_pixel_data(tag: int, ba: int, dtype: str) -> None:
    values = np.array([[0.5, -1.25, np.inf], [1e-3, 2.0, -0.0]], dtype=dtype)
    vr = "OF" if ba == 32 else "OD"
    arr = pixel_array(make(values.tobytes(), ba=ba, tag=tag, vr=vr))
    assert arr.dtype == np.dtype(dtype) and np.array_equal(arr, values)
    be = pixel_array(make(values.astype(dtype.replace("<", ">")).tobytes(), ba=ba, tag=tag, vr=vr, ts=BE))
    assert np.array_equal(be, values)


def test_native_ybr_full_422_is_expanded_and_converted() -> None:
    # two pixels: Y1 Y2 Cb Cr
    data = bytes([100, 150, 128, 128, 30, 60, 90, 200])
    ds = make(data, rows=2, cols=2, spp=3, pi="YBR_FULL_422")
    raw = pixel_array(ds, as_rgb=False)
    assert raw.tolist() == [[[100, 128, 128], [150, 128, 128]], [[30, 90, 200], [60, 90, 200]]]
    rgb = pixel_array(ds)
    assert np.array_equal(rgb, convert_color_space(raw, "YBR_FULL", "RGB"))
    assert rgb[0, 0].tolist() == [100, 100, 100]


def test_color_round_trip_within_one() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    back = convert_color_space(ybr, "YBR_FULL_422", "RGB")
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 2
    assert convert_color_space(rgb, "YBR_RCT", "RGB") is rgb


def test_truncated_returns_complete_frames_and_names_the_missing() -> None:
    data = bytes(range(6)) * 2 + b"\x01\x02"  # 2 full frames of 6 bytes, the third cut
    ds = make(data, frames=4)
    with pytest.warns(TruncatedPixelDataWarning) as record:
        arr = pixel_array(ds)
    assert arr.shape == (2, 2, 3)
    warning = record[0].message
    assert isinstance(warning, TruncatedPixelDataWarning)
    assert warning.missing_frames == (2, 3) and warning.data_loss
    assert pixel_array(ds, 1).shape == (2, 3)
    with pytest.raises(PixelDataError, match="frame 2 is missing"):
        pixel_array(ds, 2)
    with pytest.raises(PixelDataError, match="shorter than one frame"):
        pixel_array(make(b"\x00" * 5))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ba": 12}, "Bits Allocated 12"),
        ({"bs": 9}, "Bits Stored 9"),
        ({"pi": "FANCY"}, "'FANCY' is not a defined term"),
        ({"pr": 2}, "Pixel Representation 2"),
        ({"spp": 2}, "Samples per Pixel 2"),
        ({"hb": 8, "bs": 4}, "High Bit 8"),
    ],
)
def test_inconsistent_attributes(change: dict[str, object], message: str) -> None:
    with pytest.raises(PixelDataError, match=message):
        pixel_array(make(bytes(64), **change))  # type: ignore[arg-type]


def test_missing_attributes_and_pixel_data() -> None:
    ds = make(bytes(6))
    del ds.Rows
    with pytest.raises(PixelDataError, match=r"\(0028,0010\) Rows is missing"):
        pixel_array(ds)
    ds = make(bytes(6))
    del ds[0x7FE00010]
    with pytest.raises(PixelDataError, match="no Pixel Data"):
        pixel_info(ds)
    with pytest.raises(PixelDataError, match="frame 5 requested but there are 1"):
        pixel_array(make(bytes(6)), 5)


def _encapsulate(frames: list[bytes]) -> bytes:
    out = bytearray(b"\xfe\xff\x00\xe0" + (0).to_bytes(4, "little"))
    for f in frames:
        f = f + b"\x00" * (len(f) % 2)
        out += b"\xfe\xff\x00\xe0" + len(f).to_bytes(4, "little") + f
    return bytes(out)


def _packbits(data: bytes) -> bytes:
    """A simple (literal-only and run) PackBits encoder for tests."""
    out = bytearray()
    i = 0
    while i < len(data):
        run = 1
        while i + run < len(data) and run < 128 and data[i + run] == data[i]:
            run += 1
        if run > 1:
            out += bytes([257 - run, data[i]])
            i += run
        else:
            j = i
            while j < len(data) and j - i < 128 and not (j + 1 < len(data) and data[j + 1] == data[j]):
                j += 1
            j = max(j, i + 1)
            out += bytes([j - i - 1]) + data[i:j]
            i = j
    return bytes(out)


def _rle_frame(arr: np.ndarray) -> bytes:
    """RLE Lossless frame of a (rows, cols[, samples]) unsigned array: MSB segments first."""
    samples = arr.reshape(arr.shape[0], arr.shape[1], -1)
    nbytes = arr.dtype.itemsize
    segments = []
    for s in range(samples.shape[2]):
        plane = samples[:, :, s].astype(f">u{nbytes}").tobytes()
        for b in range(nbytes):
            segments.append(_packbits(plane[b::nbytes]) + b"\x80")  # with a no-op header
    header = [len(segments)]
    pos = 64
    for seg in segments:
        header.append(pos)
        pos += len(seg)
    return b"".join(x.to_bytes(4, "little") for x in header + [0] * (16 - len(header))) + b"".join(segments)


def test_packbits_segment() -> None:
    data = bytes([5] * 200 + list(range(50)) + [9, 9, 1])
    assert decode_segment(_packbits(data), len(data)).tobytes() == data
    with pytest.raises(PixelDataError, match="decodes to"):
        decode_segment(_packbits(data), len(data) + 1)


@pytest.mark.parametrize(("ba", "spp", "pr"), [(8, 1, 0), (16, 1, 1), (16, 3, 0), (32, 1, 0), (8, 3, 0)])
def test_rle_frames(ba: int, spp: int, pr: int) -> None:
    rng = np.random.default_rng(ba + spp)
    shape = (2, 7, 5) + ((spp,) if spp > 1 else ())
    frames = rng.integers(0, 2 ** min(ba, 16), size=shape).astype(f"u{ba // 8}")
    frames[:, 1:4] = 3  # some runs
    ds = make(
        _encapsulate([_rle_frame(f) for f in frames]),
        rows=7, cols=5, spp=spp, ba=ba, pr=pr, frames=2, ts="1.2.840.10008.1.2.5", encapsulated=True,
        pc=0 if spp > 1 else None,
    )  # fmt: skip
    expected = frames.view(f"i{ba // 8}") if pr else frames
    assert np.array_equal(pixel_array(ds), expected)
    assert np.array_equal(pixel_array(ds, 1), expected[1])
    assert decode_rle_frame(_rle_frame(frames[0]), 7, 5, spp, ba).shape == shape[1:]


def test_rle_bad_segment_count() -> None:
    frame = _rle_frame(np.zeros((2, 3), np.uint8))
    ds = make(_encapsulate([frame]), ba=16, ts="1.2.840.10008.1.2.5", encapsulated=True)
    with pytest.raises(PixelDataError, match="has 1 segments"):
        pixel_array(ds)


def test_deflated_image_frames() -> None:
    frames = np.arange(2 * 2 * 3, dtype="<u2").reshape(2, 2, 3) * 300
    comp = [zlib.compressobj(9, zlib.DEFLATED, -15) for _ in frames]
    data = [c.compress(f.tobytes()) + c.flush() for c, f in zip(comp, frames, strict=True)]
    ds = make(_encapsulate(data), ba=16, frames=2, ts="1.2.840.10008.1.2.8.1", encapsulated=True)
    assert np.array_equal(pixel_array(ds), frames)


def test_unsupported_transfer_syntax() -> None:
    ds = make(_encapsulate([b"xx"]), ts="1.2.840.10008.1.2.4.100", encapsulated=True)
    with pytest.raises(UnsupportedTransferSyntaxError, match="MPEG2"):
        pixel_array(ds)


def test_jpeg_family_round_trips_through_imagecodecs() -> None:
    ic = pytest.importorskip("imagecodecs")
    img = (np.arange(64 * 48, dtype=np.uint16).reshape(64, 48) * 7 % 4096).astype(np.uint16)
    cases = [
        ("1.2.840.10008.1.2.4.80", ic.jpegls_encode(img)),
        ("1.2.840.10008.1.2.4.90", ic.jpeg2k_encode(img, level=0)),
        ("1.2.840.10008.1.2.4.201", ic.htj2k_encode(img) if hasattr(ic, "htj2k_encode") else None),
        (
            "1.2.840.10008.1.2.4.70",
            ic.ljpeg_encode(img, bitspersample=12) if hasattr(ic, "ljpeg_encode") else None,
        ),
    ]
    for uid, encoded in cases:
        if encoded is None:
            continue
        ds = make(_encapsulate([bytes(encoded)]), rows=64, cols=48, ba=16, bs=12, ts=uid, encapsulated=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.array_equal(pixel_array(ds), img), uid


def test_one_frame_decodes_only_that_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomkit.pixels import decode

    frames = np.arange(4 * 7 * 5, dtype=np.uint8).reshape(4, 7, 5)
    ds = make(
        _encapsulate([_rle_frame(f) for f in frames]),
        rows=7, cols=5, frames=4, ts="1.2.840.10008.1.2.5", encapsulated=True,
    )  # fmt: skip
    calls: list[bytes] = []
    real = decode.DECODERS["1.2.840.10008.1.2.5"]

    def spy(frame: bytes, info: decode.PixelInfo, as_rgb: bool) -> np.ndarray:
        calls.append(bytes(frame))
        return real(frame, info, as_rgb)

    monkeypatch.setitem(decode.DECODERS, "1.2.840.10008.1.2.5", spy)
    assert np.array_equal(pixel_array(ds, 2), frames[2])
    assert len(calls) == 1 and calls[0].startswith(_rle_frame(frames[2]))  # (+ even-length pad)
    assert np.array_equal(next(iter_frames(ds)), frames[0]) and len(calls) == 2


def test_numpy_and_accelerated_packbits_agree() -> None:
    rng = np.random.default_rng(5)
    data = bytes(rng.integers(0, 4, 5000, dtype=np.uint8).repeat(rng.integers(1, 9, 5000))[:20000])
    enc = _packbits(data)
    fast = decode_segment(enc, len(data))
    slow = decode_segment(enc, len(data), accelerate=False)
    assert fast.tobytes() == slow.tobytes() == data


@pytest.mark.parametrize("replicate_runs", [0, 1, 40, 5000], ids=lambda n: f"{n}-runs")
def test_numpy_packbits_with_few_and_many_replicate_runs(replicate_runs: int) -> None:
    # noise with a chosen number of repeated stretches: the slices-and-fills path (few runs)
    # and the np.repeat path (many) against the data encoded (and, when installed, imagecodecs)
    rng = np.random.default_rng(replicate_runs)
    noise = rng.permutation(np.arange(256, dtype=np.uint8).repeat(200))  # no two equal neighbours...
    noise = noise[np.concatenate(([True], noise[1:] != noise[:-1]))]  # ...at all
    parts = np.array_split(noise, replicate_runs + 1)
    pieces = [parts[0].tobytes()]
    for k, part in enumerate(parts[1:]):
        pieces.append(bytes([int(part[0]) if part.size else 7]) * (2 + k % 150) + part.tobytes())
    data = b"".join(pieces)
    enc = _packbits(data) + b"\x80"  # ends with a no-op header (PS3.5 G.3.1)
    slow = decode_segment(enc, len(data), accelerate=False)
    assert slow.tobytes() == data
    assert decode_segment(enc, len(data)).tobytes() == data


def test_segmented_lut_discrete_linear_and_indirect_segments() -> None:
    # PS3.3 C.7.9.2: discrete (0) 10,20,30; linear (1) two steps to 50; indirect (2) re-runs the
    # two segments at word offset 0 (offset split into low and high 16-bit words).
    from dicomkit.errors import PixelDataError
    from dicomkit.pixels.color import _expand_segmented

    words = np.array([0, 3, 10, 20, 30, 1, 2, 50, 2, 2, 0, 0], dtype=np.uint16)
    assert _expand_segmented(words, 10).tolist() == [10, 20, 30, 40, 50, 10, 20, 30, 40, 50]
    assert _expand_segmented(words, 12).tolist()[-2:] == [50, 50]  # padded with the last value
    with pytest.raises(PixelDataError, match="linear segment"):
        _expand_segmented(np.array([1, 2, 50], dtype=np.uint16), 2)
    with pytest.raises(PixelDataError, match="nested indirect"):
        _expand_segmented(np.array([2, 1, 0, 0], dtype=np.uint16), 2)  # points at itself
    with pytest.raises(PixelDataError, match="unknown segment type"):
        _expand_segmented(np.array([5, 1, 0], dtype=np.uint16), 1)


# -- read_pixels: a file and its pixels, reading only the bytes needed -----------------------

_PYDICOM_FILES = [
    "CT_small.dcm",  # 16-bit signed, explicit LE
    "MR_small_bigendian.dcm",  # explicit BE
    "SC_rgb.dcm",
    "SC_rgb_2frame.dcm",
    "SC_rgb_expb_2frame.dcm",  # big endian, 2 frames
    "SC_rgb_16bit_2frame.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
    "emri_small.dcm",  # 10 frames
    "OBXXXX1A.dcm",
    "emri_small_RLE.dcm",  # encapsulated: offset table and one frame's fragments
    "SC_rgb_rle_2frame.dcm",
    "MR_small_RLE.dcm",
    "liver.dcm",  # deflated? no: read whole when the pixel data cannot be located
]


def _pydicom_pixels(name: str) -> tuple[str, Any, Any]:
    """(path, pydicom data set, pydicom's pixel_array) of a pydicom test file."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    assert isinstance(path, str)
    theirs = pydicom.dcmread(path)
    theirs.pixel_array_options(decoding_plugin="pydicom" if "RLE" in name.upper() else "")
    return path, theirs, theirs.pixel_array


@pytest.mark.parametrize("name", _PYDICOM_FILES)
def test_read_pixels_equals_pydicom(name: str) -> None:
    from dicomkit.pixels.decode import read_pixels

    path, theirs, expected = _pydicom_pixels(name)
    ds, arr = read_pixels(path)
    assert arr.dtype == expected.dtype and arr.shape == expected.shape
    assert np.array_equal(arr, expected)
    assert ds.SOPInstanceUID == theirs.SOPInstanceUID
    frames = int(theirs.get("NumberOfFrames") or 1)
    for k in {0, frames - 1}:
        _, one = read_pixels(path, k)
        assert np.array_equal(one, expected[k] if frames > 1 else expected)


@pytest.mark.parametrize("name", _PYDICOM_FILES)
def test_pixel_array_of_a_path_equals_pydicom(name: str) -> None:
    path, theirs, expected = _pydicom_pixels(name)
    for given in (path, Path(path)):
        arr = pixel_array(given)
        assert arr.dtype == expected.dtype and arr.shape == expected.shape
        assert np.array_equal(arr, expected)
        assert arr.flags.writeable  # its own buffer, not a view on a data set's bytes
    frames = int(theirs.get("NumberOfFrames") or 1)
    last = pixel_array(path, frames - 1)
    assert np.array_equal(last, expected[frames - 1] if frames > 1 else expected)


def test_pixel_array_takes_a_dataset_or_a_path_only() -> None:
    with pytest.raises(TypeError, match="Dataset or a path"):
        pixel_array(b"DICM")  # type: ignore[arg-type]


class _Counting:
    """A file opened through it counts the bytes read."""

    total = 0

    def __init__(self, fh: object) -> None:
        self.fh = fh

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)  # type: ignore[attr-defined]
        _Counting.total += len(data)
        return data  # type: ignore[no-any-return]

    def readinto(self, buf: bytearray) -> int:
        n = self.fh.readinto(buf)  # type: ignore[attr-defined]
        _Counting.total += n
        return n  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.fh, name)

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()  # type: ignore[attr-defined]


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from dicomkit.codec import reader
    from dicomkit.pixels import decode

    real_open = builtins.open
    _Counting.total = 0

    def counting_open(*args: object, **kwargs: object) -> _Counting:
        return _Counting(real_open(*args, **kwargs))  # type: ignore[call-overload]

    monkeypatch.setattr(reader, "open", counting_open, raising=False)
    monkeypatch.setattr(decode, "open", counting_open, raising=False)


@pytest.mark.parametrize("encapsulated", [False, True], ids=["native", "rle"])
def test_one_frame_of_2000_reads_only_that_frame(
    encapsulated: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dicomkit
    from dicomkit.pixels.decode import read_pixels

    n, rows, cols = 2000, 32, 32
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 4096, size=(n, rows, cols), dtype=np.uint16)
    ds = make(b"", rows=rows, cols=cols, ba=16, bs=12, frames=n, vr="OW")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"
    ds.SOPInstanceUID = "1.2.3.2000"
    if encapsulated:
        ds[0x7FE00010] = DataElement(0x7FE00010, "OB", [_rle_frame(f) for f in frames], undefined_length=True)
        ts = "1.2.840.10008.1.2.5"
    else:
        ds[0x7FE00010] = DataElement(0x7FE00010, "OW", frames.astype("<u2").tobytes())
        ts = LE
    ds.meta = None  # made here: the writer builds the meta for ``ts``
    path = tmp_path / "many.dcm"
    dicomkit.write(ds, path, transfer_syntax=ts)
    size = path.stat().st_size
    _count_reads(monkeypatch)
    _, one = read_pixels(path, 1234)
    assert np.array_equal(one, frames[1234])
    frame_bytes = rows * cols * 2
    # the header chunk the reader reads first, the offset table (4 bytes a frame), one frame
    assert _Counting.total < 16384 + 4 * n + 2 * frame_bytes + 1024 < size // 10


def test_pixel_array_of_a_directory_or_a_non_dicom_file_is_a_clear_error(tmp_path: Path) -> None:
    from dicomkit.errors import InvalidDicomError

    with pytest.raises(InvalidDicomError, match="is a directory"):
        pixel_array(tmp_path)
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"not a DICOM file at all" * 10)
    with pytest.raises(InvalidDicomError, match="not a DICOM file"):
        pixel_array(junk)


@pytest.mark.parametrize("last", ["undefined-length-sequence", "defined-length-sequence", "big-value"])
def test_read_pixels_locates_the_pixels_after_any_last_element(
    last: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the reader says where its scan stopped: the Pixel Data header, whatever came before it
    import dicomkit
    from dicomkit.dataset import Sequence
    from dicomkit.pixels.decode import read_pixels

    rows, cols = 512, 256  # 256 KiB of pixels: more than the reader's first 16 KiB chunk
    values = np.random.default_rng(7).integers(0, 4096, size=(rows, cols), dtype=np.uint16)
    ds = make(values.astype("<u2").tobytes(), rows=rows, cols=cols, ba=16, bs=12, vr="OW")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    if last == "big-value":  # read into its own buffer by the reader
        ds[0x00091010] = DataElement(0x00091010, "OB", b"\x01" * 100_000)
        ds[0x00090010] = DataElement(0x00090010, "LO", "DICOMKIT TEST")
    else:
        item = dicomkit.Dataset()
        item.ScheduledProcedureStepID = "SPS1"
        ds[0x00400275] = DataElement(
            0x00400275, "SQ", Sequence([item]), undefined_length=last.startswith("undefined")
        )
    ds.meta = None
    path = tmp_path / "f.dcm"
    dicomkit.write(ds, path, transfer_syntax=LE)
    _count_reads(monkeypatch)
    got_ds, arr = read_pixels(path)
    assert np.array_equal(arr, values) and arr.flags.writeable  # its own buffer, not a whole read
    assert "PixelData" not in got_ds
    # the file read once (a 16 KiB chunk, and one after a big value, overlap the pixels), not a
    # header read plus a whole read (that is twice the size)
    assert _Counting.total < path.stat().st_size + 2 * 16384


def test_pixel_array_of_a_file_without_pixel_data_says_so(tmp_path: Path) -> None:
    import dicomkit

    ds = dicomkit.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.6"
    ds.PatientName = "NO^PIXELS"
    path = tmp_path / "header-only.dcm"
    dicomkit.write(ds, path, transfer_syntax=LE)
    with pytest.raises(PixelDataError, match="no Pixel Data"):
        pixel_array(path)
