"""dicomkit's numpy-only PackBits / RLE Lossless decoder against independent decoders.

Oracles: pydicom's pure-Python RLE segment decoder (``_rle_decode_segment``: it keeps the bytes
of a run cut off by the end of the segment, as dicomkit does) and imagecodecs' C
``packbits_decode`` where it accepts the stream (it rejects cut-off runs). Every expected value
comes from those decoders, never from dicomkit.

Every test runs on both numpy paths (the run table and, for small frames, per-segment
``np.repeat``). The streams aim at every path of the decoder: each run length of both run kinds (each row
width class and the byte-by-byte path, with many runs of a class and with too few to get rows),
the sixteen-runs-a-turn walk and its tail, the guessed stretches of 128-byte literal runs
(including stretches longer than one 256-header scan, broken by other runs or no-op headers,
and cut off by the end of the segment), runs cut off at the end, -128 no-op headers, segments
decoding to fewer or far more bytes than needed, empty segments and whole frames whose
segments are decoded together.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pydicom")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pydicom.pixels.decoders.rle import _rle_decode_segment  # noqa: E402

from dicomkit.errors import PixelDataError  # noqa: E402
from dicomkit.pixels import rle  # noqa: E402

_imagecodecs_decode: Any
try:
    from imagecodecs import packbits_decode as _imagecodecs_decode
except ImportError:  # imagecodecs is optional: pydicom alone is the oracle then
    _imagecodecs_decode = None

NOOP = b"\x80"


@pytest.fixture(autouse=True, params=["run-table", "small-frames"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both numpy paths: the run table (``_expand``) and the per-segment
    ``np.repeat`` one for small frames (``_expand_small``)."""
    monkeypatch.setattr(rle, "_SMALL", -1 if request.param == "run-table" else 1 << 40)
    return str(request.param)


def lit(data: bytes) -> bytes:
    """A literal run (1-128 bytes)."""
    assert 1 <= len(data) <= 128
    return bytes([len(data) - 1]) + data


def rep(value: int, count: int) -> bytes:
    """A replicate run (2-128 copies)."""
    assert 2 <= count <= 128
    return bytes([257 - count, value])


def noise(rng: random.Random, n: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(n))


def numpy_decode(segment: bytes | memoryview, length: int) -> bytes:
    return bytes(rle.decode_segment(segment, length, accelerate=False).tobytes())


def oracle(segment: bytes) -> bytes:
    want = bytes(_rle_decode_segment(segment))
    if _imagecodecs_decode is not None:
        try:
            other = bytes(_imagecodecs_decode(segment))
        except Exception:  # imagecodecs rejects runs cut off by the end: pydicom alone then
            other = None
        if other is not None:
            assert other == want, "the two oracles disagree"
    return want


def check(segment: bytes) -> bytes:
    """The numpy decoder gives the oracle's bytes for every wanted length up to what the segment
    holds (also through a memoryview), and a PixelDataError for one byte more."""
    want = oracle(segment)
    for length in sorted({len(want), len(want) - 1, len(want) // 2, 1} - {0}):
        if 0 < length <= len(want):
            assert numpy_decode(segment, length) == want[:length], length
    assert numpy_decode(memoryview(b"xx" + segment)[2:], len(want) or 1) == want if want else True
    with pytest.raises(PixelDataError, match=f"decodes to {len(want)} bytes but {len(want) + 1} are"):
        numpy_decode(segment, len(want) + 1)
    return want


@pytest.mark.parametrize("many", [3, 40], ids=["few-runs", "many-runs"])
def test_every_literal_length(many: int) -> None:
    rng = random.Random(many)
    for n in range(1, 129):
        segment = b"".join(lit(noise(rng, n)) for _ in range(many))
        assert len(check(segment)) == n * many


@pytest.mark.parametrize("many", [3, 40], ids=["few-runs", "many-runs"])
def test_every_replicate_length(many: int) -> None:
    rng = random.Random(many)
    for n in range(2, 129):
        segment = b"".join(rep(rng.randrange(256), n) + lit(noise(rng, 1 + k % 5)) for k in range(many))
        check(segment)


def test_mixed_run_kinds_in_one_segment() -> None:
    rng = random.Random(7)
    parts = []
    for _ in range(3000):
        r = rng.random()
        if r < 0.3:
            parts.append(lit(noise(rng, 128)))
        elif r < 0.6:
            parts.append(lit(noise(rng, rng.randrange(1, 128))))
        elif r < 0.95:
            parts.append(rep(rng.randrange(256), rng.randrange(2, 129)))
        else:
            parts.append(NOOP)
    check(b"".join(parts))


@pytest.mark.parametrize("before", [0, 1, 5, 15, 16, 17])
@pytest.mark.parametrize("count", [15, 16, 17, 31, 32, 33, 271, 272, 273, 300, 600])
def test_stretches_of_full_literal_runs(before: int, count: int) -> None:
    # the walk guesses more 128-byte literal runs after sixteen in a row and checks up to 256
    # guessed headers per C scan: stretches start at any phase of the walk's sixteen-run turn
    rng = random.Random(count * 100 + before)
    head = b"".join(lit(noise(rng, 3)) for _ in range(before))
    body = b"".join(lit(noise(rng, 128)) for _ in range(count))
    tail = lit(noise(rng, 40)) + rep(9, 5)
    check(head + body + tail)
    check(head + body)  # the stretch runs to the end of the segment
    check(head + body + body[:200])  # ... and its last run is cut off by the end


def test_stretches_broken_by_other_runs_and_noop_headers() -> None:
    rng = random.Random(3)
    full = [lit(noise(rng, 128)) for _ in range(400)]
    for at in (16, 17, 40, 200, 271, 272, 399):
        for breaker in (NOOP, NOOP * 3, rep(5, 2), lit(b"\x7f"), lit(noise(rng, 127))):
            check(b"".join(full[:at]) + breaker + b"".join(full[at:]))
    # a data byte 127 where a guessed header would be: the guess must not take it as one
    tricky = [lit(bytes([127]) * 128) for _ in range(40)]
    check(b"".join(tricky) + lit(b"\x7f" * 5) + b"".join(tricky))


def test_noop_headers() -> None:
    rng = random.Random(4)
    assert check(NOOP + lit(b"abc") + NOOP + NOOP + rep(7, 4) + NOOP) == b"abc\x07\x07\x07\x07"
    check(NOOP * 100 + b"".join(lit(noise(rng, 128)) for _ in range(50)) + NOOP * 3)
    check(b"".join(NOOP + rep(k, 3) + NOOP + lit(noise(rng, 2)) for k in range(256)))
    with pytest.raises(PixelDataError, match="decodes to 0 bytes but 1 are"):
        numpy_decode(NOOP * 5000, 1)


@pytest.mark.parametrize("prefix_runs", [0, 3, 40, 700])
def test_runs_cut_off_by_the_end(prefix_runs: int) -> None:
    rng = random.Random(prefix_runs)
    prefix = b"".join(lit(noise(rng, rng.randrange(1, 129))) for _ in range(prefix_runs))
    for have in (0, 1, 2, 64, 126, 127):  # a literal run of 128 with only ``have`` data bytes
        check(prefix + b"\x7f" + noise(rng, have) if prefix or have else lit(b"z") + b"\x7f")
    for header in (0x01, 0x40, 0x7E):  # other literal runs cut off
        check(prefix + bytes([header]) + b"q")
    check(prefix + lit(b"ab") + b"\xfe")  # a replicate header with no byte to repeat
    check(prefix + lit(b"ab") + b"\x81")


def test_segments_decoding_to_more_than_needed() -> None:
    rng = random.Random(5)
    body = b"".join(lit(noise(rng, rng.randrange(1, 129))) + rep(rng.randrange(256), 60) for _ in range(300))
    want = oracle(body)
    for length in (1, 100, 5000, len(want) - 5000, len(want)):
        assert numpy_decode(body, length) == want[:length]
    stretch = b"".join(lit(noise(rng, 128)) for _ in range(300))
    assert numpy_decode(stretch + body, 1000) == oracle(stretch + body)[:1000]


def test_empty_segment() -> None:
    with pytest.raises(PixelDataError, match="RLE segment 0 is empty but 10 bytes are expected"):
        numpy_decode(b"", 10)


# -- random streams (Hypothesis) -----------------------------------------------------------


@st.composite
def run_streams(draw: Any) -> bytes:
    """PackBits streams made of runs, with a bias to long stretches of 128-byte literal runs."""
    parts = []
    for kind, n, value in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["lit", "full", "stretch", "rep", "noop"]),
                st.integers(1, 128),
                st.integers(0, 255),
            ),
            min_size=1,
            max_size=60,
        )
    ):
        if kind == "lit":
            parts.append(lit(bytes([value]) * n))
        elif kind == "full":
            parts.append(lit(bytes((value + i) % 256 for i in range(128))))
        elif kind == "stretch":
            parts.append(b"".join(lit(bytes([value, 127]) * 64) for _ in range(n % 40 + 14)))
        elif kind == "rep":
            parts.append(rep(value, max(n, 2)))
        else:
            parts.append(NOOP)
    stream = b"".join(parts)
    cut = draw(st.integers(0, 3))
    return stream[: len(stream) - cut] if cut < len(stream) else stream  # maybe cut off at the end


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(run_streams())
def test_random_run_streams(segment: bytes) -> None:
    if oracle(segment):
        check(segment)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=3000))
def test_random_bytes_as_packbits(segment: bytes) -> None:
    want = oracle(segment)
    if want:
        check(segment)
    else:
        with pytest.raises(PixelDataError, match="decodes to 0 bytes"):
            numpy_decode(segment, 1)


# -- frames: all segments decoded together -----------------------------------------------------


def frame_of(segments: list[bytes]) -> bytes:
    offsets, pos = [], 64
    for seg in segments:
        offsets.append(pos)
        pos += len(seg)
    header = struct.pack("<16L", len(segments), *offsets, *[0] * (15 - len(segments)))
    return header + b"".join(segments)


def expected_frame(segments: list[bytes], rows: int, cols: int, samples: int, nbytes: int) -> Any:
    """From pydicom's segment decodes: segment k is byte ``k % nbytes`` (most significant first)
    of sample ``k // nbytes``."""
    npx = rows * cols
    planes = [np.frombuffer(bytes(_rle_decode_segment(s))[:npx], dtype=np.uint8) for s in segments]
    values = np.zeros((npx, samples), dtype=np.uint64)
    for k, plane in enumerate(planes):
        sample, byte = divmod(k, nbytes)
        values[:, sample] |= plane.astype(np.uint64) << np.uint64(8 * (nbytes - 1 - byte))
    arr = values.astype(f"u{nbytes}").reshape(rows, cols, samples)
    return arr[..., 0] if samples == 1 else arr


def plane_segment(rng: random.Random, npx: int, smooth: bool) -> bytes:
    parts, have = [], 0
    while have < npx:
        if smooth and rng.random() < 0.5:
            n = min(rng.randrange(2, 129), max(npx - have, 2))
            parts.append(rep(rng.randrange(256), n))
        else:
            n = min(rng.choice([128, 128, rng.randrange(1, 129)]), npx - have)
            parts.append(lit(noise(rng, n)))
        have += n
    return b"".join(parts)


@pytest.mark.parametrize(("samples", "bits"), [(1, 8), (1, 16), (3, 8), (3, 16), (1, 32), (1, 64)])
@pytest.mark.parametrize("smooth", [False, True], ids=["noise", "smooth"])
def test_frames_numpy_path(monkeypatch: pytest.MonkeyPatch, samples: int, bits: int, smooth: bool) -> None:
    rng = random.Random(samples * 100 + bits + smooth)
    rows, cols, nbytes = 37, 111, bits // 8
    segments = [plane_segment(rng, rows * cols, smooth) + NOOP for _ in range(samples * nbytes)]
    frame = frame_of(segments)
    want = expected_frame(segments, rows, cols, samples, nbytes)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    got = rle.decode_rle_frame(memoryview(b"pad" + frame + b"tail")[3:-4], rows, cols, samples, bits)
    assert got.dtype == np.dtype(f"<u{nbytes}") and np.array_equal(got, want)
    assert np.array_equal(rle.decode_rle_frame(frame, rows, cols, samples, bits), want)


def test_frame_whose_segment_runs_into_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    # segment 0's last literal run claims more bytes than the segment has: they belong to
    # segment 1, which still starts at its own offset
    rng = random.Random(11)
    npx = 64 * 64
    first = plane_segment(rng, npx, False) + b"\x7f" + b"abc"  # cut off: 3 of 128 bytes
    second = plane_segment(rng, npx, True)
    frame = frame_of([first, second])
    want = expected_frame([first, second], 64, 64, 1, 2)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    assert np.array_equal(rle.decode_rle_frame(frame, 64, 64, 1, 16), want)


def test_frame_errors_name_the_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(12)
    good = plane_segment(rng, 100, False)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    with pytest.raises(PixelDataError, match="RLE segment 1 is empty but 100 bytes are expected"):
        rle.decode_rle_frame(frame_of([good, b"", good]), 10, 10, 3, 8)
    with pytest.raises(PixelDataError, match="RLE segment 2 decodes to 99 bytes but 100 are expected"):
        rle.decode_rle_frame(frame_of([good, good, lit(noise(rng, 99))]), 10, 10, 3, 8)


def test_numpy_frames_match_the_accelerated_path(monkeypatch: pytest.MonkeyPatch) -> None:
    if rle._PACKBITS is None:
        pytest.skip("imagecodecs is not installed")
    rng = random.Random(13)
    segments = [plane_segment(rng, 200 * 300, smooth) for smooth in (False, True)]
    frame = frame_of(segments)
    fast = rle.decode_rle_frame(frame, 200, 300, 1, 16)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    assert np.array_equal(rle.decode_rle_frame(frame, 200, 300, 1, 16), fast)


def test_frames_in_other_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    # a memoryview on a bytearray, a strided (non-contiguous) view and a cast view: the same
    # values as from the frame's bytes (the decoder walks a bytes object in place when it can)
    rng = random.Random(14)
    segments = [plane_segment(rng, 20 * 30, smooth) for smooth in (False, True)]
    frame = frame_of(segments)
    want = expected_frame(segments, 20, 30, 1, 2)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    doubled = bytes(b for byte in frame for b in (byte, 0))
    for view in (
        memoryview(bytearray(b"ab" + frame))[2:],
        memoryview(doubled)[::2],
        memoryview(frame + b"\0" * (-len(frame) % 4)).cast("I"),
    ):
        got = rle.decode_rle_frame(view, 20, 30, 1, 16)
        assert np.array_equal(got, want)


@pytest.mark.parametrize(("samples", "bits"), [(1, 8), (1, 16), (3, 8), (2, 32)])
def test_frames_do_not_share_memory(monkeypatch: pytest.MonkeyPatch, samples: int, bits: int) -> None:
    # the numpy path expands into a buffer reused from frame to frame: results must be copies
    rng = random.Random(samples + bits)
    monkeypatch.setattr(rle, "_PACKBITS", None)
    nseg = samples * bits // 8
    one = [plane_segment(rng, 30 * 40, False) for _ in range(nseg)]
    two = [plane_segment(rng, 30 * 40, True) for _ in range(nseg)]
    first = rle.decode_rle_frame(frame_of(one), 30, 40, samples, bits)
    kept = first.copy()
    second = rle.decode_rle_frame(frame_of(two), 30, 40, samples, bits)
    assert np.array_equal(first, kept) and np.array_equal(
        first, expected_frame(one, 30, 40, samples, bits // 8)
    )
    assert np.array_equal(second, expected_frame(two, 30, 40, samples, bits // 8))
    assert not np.shares_memory(first, second)


@pytest.mark.parametrize("case", ["exact", "padded", "longer", "into-next", "short"])
def test_accelerated_frames_decode_in_place_and_fall_back(case: str) -> None:
    # imagecodecs decodes each segment into the frame's scratch buffer; a segment longer than a
    # plane (padding), one running into the next, or a short one goes the general way
    if rle._PACKBITS is None:
        pytest.skip("imagecodecs is not installed")
    rng = random.Random(15)
    npx = 48 * 52
    first = plane_segment(rng, npx, False)
    second = plane_segment(rng, npx, True)
    if case == "padded":
        second += lit(noise(rng, 3))  # decodes to npx + 3 bytes: the first npx count
    elif case == "longer":
        second += lit(noise(rng, 100)) + lit(noise(rng, 100))  # npx + 200: the numpy decoder
    elif case == "into-next":
        first += b"\x7f" + b"abc"  # a literal run cut off by the end of the segment
    elif case == "short":
        second = lit(noise(rng, 10))
    frame = frame_of([first, second])
    if case == "short":
        with pytest.raises(PixelDataError, match="RLE segment 1 decodes to 10 bytes but 2496 are expected"):
            rle.decode_rle_frame(frame, 48, 52, 1, 16)
        return
    want = expected_frame([first, second], 48, 52, 1, 2)
    got = rle.decode_rle_frame(frame, 48, 52, 1, 16)
    assert np.array_equal(got, want)
    again = rle.decode_rle_frame(frame, 48, 52, 1, 16)  # the scratch buffer reused: own result
    assert not np.shares_memory(got, again) and np.array_equal(again, want)
