"""Hostile input: the reader never crashes, hangs or allocates without bound.

Every input ends in one of three ways, in bounded time and memory:

* tolerant (default) full read: a data set, possibly with :class:`DicomWarning` fix-ups,
  or :class:`DecodeError`/:class:`InvalidDicomError`;
* ``strict=True`` full read: a data set *without* warnings, or one of those two errors;
* never any other exception (``struct.error``, ``IndexError``, ``RecursionError``,
  ``zlib.error``, ``MemoryError`` ...), a hang or an allocation the input does not justify.

A *full read* is ``dicomkit.read(...)`` followed by decoding every value, recursing into
sequence items, and the values of ``ds.meta`` (values decode lazily).

Inputs: real files (pydicom's test data, read in place) truncated at every byte offset
and mutated at random (Hypothesis), and constructed pathological files: huge lengths,
10,000-deep nesting, undefined lengths that never end, corrupt deflate streams and a
deflate bomb.
"""

from __future__ import annotations

import functools
import io
import random
import signal
import struct
import sys
import threading
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit.codec import reader as reader_module
from dicomkit.dataset import Dataset, Sequence
from dicomkit.errors import DecodeError, DicomWarning, InvalidDicomError

pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR

UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_DELIM, SEQ_DELIM = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
MB = 1 << 20
MEMORY_BOUND = 64 * MB  # peak allocation allowed for any pathological file of a few KB
TIME_BOUND = 5.0  # seconds, generous: every case here takes milliseconds

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"

_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})


# ---------------------------------------------------------------------------------------
# no hangs: a test that runs away fails instead of blocking the suite


class _Hang(BaseException):
    """Raised by the alarm when a test runs far longer than it should."""


@pytest.fixture(autouse=True)
def _fail_on_hang() -> Iterator[None]:
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Hang("the reader hung (test ran for more than 120 s)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------
# the rule every input must obey


def _fingerprint(ds: Dataset) -> tuple[Any, ...]:
    """Decode every value (recursing into items) and return a comparable summary:
    raw bytes where there are some (NaN-safe), else the decoded value's repr."""
    out: list[Any] = []
    for elem in ds:
        value = elem.value
        if isinstance(value, Sequence):
            out.append((int(elem.tag), str(elem.VR), tuple(_fingerprint(item) for item in value)))
        else:
            out.append((int(elem.tag), str(elem.VR), elem.raw if elem.raw is not None else repr(value)))
    return tuple(out)


def _full_read(source: Any, **kwargs: Any) -> tuple[Any, ...]:
    ds = dicomkit.read(source, **kwargs)
    meta = _fingerprint(ds.meta) if ds.meta is not None else None
    return _fingerprint(ds), meta, ds.preamble


def _outcome(source: Any, *, strict: bool, **kwargs: Any) -> tuple[Any, ...]:
    """Full-read ``source`` and check the rule; returns a comparable outcome:
    ``("ok", data set, meta, preamble, warning texts)`` or ``(error type, tag, offset)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _full_read(source, strict=strict, **kwargs)
        except (DecodeError, InvalidDicomError) as exc:
            # every error says where: the tag and/or the byte offset (rule 4)
            assert exc.tag is not None or exc.offset is not None, f"error without location: {exc!r}"
            assert "tag (" in str(exc) or "offset " in str(exc), str(exc)
            return type(exc).__name__, exc.tag, exc.offset
        except Exception as exc:  # the point of this module: nothing else may escape
            raise AssertionError(
                f"{type(exc).__name__} escaped the reader (strict={strict}): {exc!r}"
            ) from exc
    others = [w for w in caught if not issubclass(w.category, DicomWarning)]
    assert not others, f"non-DicomWarning warnings: {[str(w.message) for w in others]}"
    texts = tuple(sorted(str(w.message) for w in caught))
    if strict:
        assert not texts, f"strict read succeeded with warnings: {texts[:5]}"
    return ("ok", *result, texts)


def _check_both(data: bytes) -> tuple[Any, ...]:
    """Tolerant and strict full reads of ``data``; a strict success is a clean tolerant one."""
    tolerant = _outcome(data, strict=False)
    strict = _outcome(data, strict=True)
    if strict[0] == "ok":
        assert tolerant == strict, "strict succeeded but the tolerant read differs"
    return tolerant


class _Unseekable(io.RawIOBase):
    """A pipe-like binary stream: readable, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._inner.readinto(buffer)


def _assert_sources_agree(data: bytes, path: Path) -> None:
    """bytes, BytesIO, a path and an unseekable stream give the same outcome."""
    path.write_bytes(data)
    for strict in (False, True):
        expected = _outcome(data, strict=strict)
        for source in (io.BytesIO(data), path, _Unseekable(data)):
            got = _outcome(source, strict=strict)
            assert got == expected, f"{type(source).__name__} disagrees with bytes (strict={strict})"


def _peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated by Python while ``fn`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _bounded(fn: Callable[[], Any], *, memory: int = MEMORY_BOUND, seconds: float = TIME_BOUND) -> None:
    start = time.perf_counter()
    peak = _peak_memory(fn)
    elapsed = time.perf_counter() - start
    assert peak < memory, f"peak allocation {peak / MB:.1f} MB (bound {memory / MB:.0f} MB)"
    assert elapsed < seconds, f"took {elapsed:.2f} s"


def _expect_error(data: bytes, error: type[Exception], **kwargs: Any) -> Any:
    """A full read of ``data`` raises ``error``; returns the exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        with pytest.raises(error) as info:
            _full_read(data, **kwargs)
    return info.value


def _tolerant(source: Any, **kwargs: Any) -> tuple[Dataset, list[str]]:
    """A tolerant read (values decoded) and the texts of its DicomWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = dicomkit.read(source, **kwargs)
        _fingerprint(ds)
    return ds, [str(w.message) for w in caught if issubclass(w.category, DicomWarning)]


# ---------------------------------------------------------------------------------------
# building files


def _el(
    tag: int,
    vr: str,
    value: bytes = b"",
    *,
    little: bool = True,
    implicit: bool = False,
    length: int | None = None,
) -> bytes:
    e = "<" if little else ">"
    ln = len(value) if length is None else length
    head = struct.pack(e + "HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return head + struct.pack(e + "L", ln) + value
    if vr in _LONG_VRS:
        return head + vr.encode() + b"\0\0" + struct.pack(e + "L", ln) + value
    return head + vr.encode() + struct.pack(e + "H", ln) + value


def _item(body: bytes = b"", *, little: bool = True, length: int | None = None) -> bytes:
    return (
        struct.pack("<HHL" if little else ">HHL", 0xFFFE, 0xE000, len(body) if length is None else length)
        + body
    )


def _delim(tag: int, little: bool = True) -> bytes:
    return struct.pack("<HHL" if little else ">HHL", 0xFFFE, tag & 0xFFFF, 0)


def _text(s: str) -> bytes:
    b = s.encode()
    return b + b"\0" * (len(b) & 1)


def _meta(ts: str, *, group_length: int | None = None) -> bytes:
    body = (
        _el(0x00020001, "OB", b"\0\1")
        + _el(0x00020002, "UI", _text("1.2.840.10008.5.1.4.1.1.7"))
        + _el(0x00020003, "UI", _text("1.2.3.4"))
        + _el(0x00020010, "UI", _text(ts))
    )
    gl = len(body) if group_length is None else group_length
    return _el(0x00020000, "UL", struct.pack("<L", gl)) + body


def _part10(ts: str, data_set: bytes, **meta: Any) -> bytes:
    return b"\0" * 128 + b"DICM" + _meta(ts, **meta) + data_set


HEADER = b"\0" * 128 + b"DICM"
DS_START = len(_part10(EXPLICIT_LE, b""))  # offset of the data set in the files built here
DEFLATED_START = len(_part10(DEFLATED, b""))
NAME = _el(0x00100010, "PN", b"Doe^Jane")


def _nested(
    depth: int,
    *,
    implicit: bool = False,
    undefined: bool = True,
    little: bool = True,
    inner: bytes | None = None,
) -> bytes:
    """Content Sequence nested ``depth`` levels deep, ``inner`` (a name) in the innermost item."""
    tag = 0x0040A730
    if inner is None:
        inner = _el(0x00100010, "PN", b"Deep^Name ", little=little, implicit=implicit)
    if undefined:
        opening = _el(tag, "SQ", little=little, implicit=implicit, length=UNDEFINED) + _item(
            little=little, length=UNDEFINED
        )
        closing = _delim(ITEM_DELIM, little) + _delim(SEQ_DELIM, little)
        return opening * depth + inner + closing * depth
    # defined lengths, built inside out without copying the growing body at every level
    headers, length = [], len(inner)
    for _ in range(depth):
        item = _item(little=little, length=length)
        length += len(item)
        sq = _el(tag, "SQ", little=little, implicit=implicit, length=length)
        length += len(sq)
        headers.append(sq + item)
    return b"".join(reversed(headers)) + inner


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def _deflate_bomb(size: int) -> bytes:
    """A raw deflate stream of ``size`` (a multiple of 1 MiB) zero bytes, about size/1000 long:
    one compressed MiB ending in a full flush is self-contained, so it can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = c.compress(bytes(MB)) + c.flush(zlib.Z_FULL_FLUSH)
    return chunk * (size // MB) + c.flush()


def _walk_depth(ds: Dataset) -> int:
    """Nesting depth of the deepest sequence (iteratively: never a RecursionError here)."""
    deepest, todo = 0, [(ds, 0)]
    while todo:
        current, depth = todo.pop()
        deepest = max(deepest, depth)
        for elem in current:
            if isinstance(elem.value, Sequence):
                todo.extend((item, depth + 1) for item in elem.value)
    return deepest


# ---------------------------------------------------------------------------------------
# real files


@functools.cache
def _file(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return Path(path).read_bytes()


# name: (little endian, implicit VR, deflated)
_ENCODING = {
    "CT_small.dcm": (True, False, False),
    "MR_small_implicit.dcm": (True, True, False),
    "MR_small_bigendian.dcm": (False, False, False),
    "image_dfl.dcm": (True, False, True),
    "SC_rgb_jpeg_dcmtk.dcm": (True, False, False),  # encapsulated JPEG
    "rtplan.dcm": (True, False, False),  # nested sequences
}
FILES = list(_ENCODING)
# the truncation test of a file runs as this many interleaved parts (parallel with xdist)
_PARTS = {"CT_small.dcm": 4, "image_dfl.dcm": 2, "SC_rgb_jpeg_dcmtk.dcm": 2, "rtplan.dcm": 2}
_FILE_PARTS = [(name, part, _PARTS.get(name, 1)) for name in FILES for part in range(_PARTS.get(name, 1))]


def _pixel_offset(name: str) -> int:
    """Offset of the Pixel Data header, or the file size when there is none."""
    data = _file(name)
    little = _ENCODING[name][0]
    pos = data.rfind(b"\xe0\x7f\x10\x00" if little else b"\x7f\xe0\x00\x10")
    return len(data) if pos < 0 else pos


def _truncation_offsets(name: str) -> list[int]:
    """Every offset of the header region (up to the first 256 bytes of pixel data; all of a
    file without pixel data), then a sample of the pixel data: evenly spread, around the
    reader's first chunk (file sources read in chunks) and the last bytes."""
    data = _file(name)
    dense = min(len(data), _pixel_offset(name) + 256)
    offsets = set(range(dense + 1))
    if dense < len(data):
        chunk = reader_module.FIRST_CHUNK
        offsets.update(range(dense, len(data), max(1, (len(data) - dense) // 40)))
        offsets.update(o for o in range(chunk - 12, chunk + 13) if o <= len(data))
        offsets.update(range(len(data) - 12, len(data) + 1))
    return sorted(offsets)


@pytest.mark.parametrize("name", FILES)
def test_real_file_reads_cleanly(name: str) -> None:
    """The untouched files are valid: strict full reads succeed without warnings."""
    outcome = _outcome(_file(name), strict=True)
    assert outcome[0] == "ok"


@pytest.mark.parametrize(("name", "part", "parts"), _FILE_PARTS, ids=[f"{n}-{p}" for n, p, _ in _FILE_PARTS])
def test_truncated_at_every_offset(name: str, part: int, parts: int) -> None:
    data = _file(name)
    outcomes = {_check_both(data[:n])[0] for n in _truncation_offsets(name)[part::parts]}
    assert "ok" in outcomes  # the tolerant reader does return partial data sets


@pytest.mark.parametrize("name", FILES)
def test_truncated_sources_agree(name: str, tmp_path: Path) -> None:
    """bytes, BytesIO, a path and a pipe-like stream read every truncation alike."""
    data = _file(name)
    offsets = _truncation_offsets(name)
    chunk = reader_module.FIRST_CHUNK
    near_chunk = {n for n in offsets if abs(n - chunk) <= 12}
    sample = sorted(set(offsets[::61]) | set(offsets[-6:]) | near_chunk | set(range(0, 200, 13)))
    for n in sample:
        _assert_sources_agree(data[:n], tmp_path / "cut.dcm")


# ---------------------------------------------------------------------------------------
# Hypothesis: random mutations of real files


def _length_fields(
    buf: bytes, pos: int, end: int, little: bool, implicit: bool, out: list[tuple[int, int]]
) -> int:
    """Collect (offset, size) of the length fields of the data set in buf[pos:end] (an
    independent scan of a *valid* file, used to aim mutations); returns the end position."""
    e = "<" if little else ">"
    while pos + 8 <= end:
        group, elem = struct.unpack_from(e + "HH", buf, pos)
        tag = group << 16 | elem
        if group == 0xFFFE:  # the item delimiter ending an undefined-length item
            out.append((pos + 4, 4))
            return pos + 8
        if implicit:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = "UN"
            lpos, size, vpos = pos + 4, 4, pos + 8
        else:
            vr = buf[pos + 4 : pos + 6].decode("latin-1")
            lpos, size, vpos = (pos + 8, 4, pos + 12) if vr in _LONG_VRS else (pos + 6, 2, pos + 8)
        length = struct.unpack_from(e + ("L" if size == 4 else "H"), buf, lpos)[0]
        out.append((lpos, size))
        if length == UNDEFINED or vr == "SQ":
            pos = _item_fields(buf, vpos, length, little, implicit, out, fragments=vr != "SQ")
        else:
            pos = vpos + length
    return pos


def _item_fields(
    buf: bytes,
    pos: int,
    length: int,
    little: bool,
    implicit: bool,
    out: list[tuple[int, int]],
    *,
    fragments: bool,
) -> int:
    end = len(buf) if length == UNDEFINED else pos + length
    while pos + 8 <= end:
        group, elem, n = struct.unpack_from("<HHL" if little else ">HHL", buf, pos)
        out.append((pos + 4, 4))
        if group << 16 | elem != ITEM:
            return pos + 8  # the sequence delimiter
        if fragments:
            pos += 8 + n
        elif n == UNDEFINED:
            pos = _length_fields(buf, pos + 8, len(buf), little, implicit, out)
        else:
            _length_fields(buf, pos + 8, pos + 8 + n, little, implicit, out)
            pos += 8 + n
    return end


@functools.cache
def _sample(name: str) -> tuple[bytes, bytes, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], int]:
    """(prefix, data set bytes (inflated), meta length fields, data set length fields, end of
    the dense mutation region within the data set) of a test file."""
    data = _file(name)
    little, implicit, deflated = _ENCODING[name]
    group_length = struct.unpack_from("<L", data, 140)[0]
    body_start = 144 + group_length
    meta_fields: list[tuple[int, int]] = []
    _length_fields(data, 132, body_start, True, False, meta_fields)
    body = zlib.decompress(data[body_start:], -zlib.MAX_WBITS) if deflated else data[body_start:]
    fields: list[tuple[int, int]] = []
    _length_fields(body, 0, len(body), little, implicit, fields)
    dense = min(len(body), _pixel_offset(name) - body_start + 64) if not deflated else len(body)
    return data[:body_start], body, tuple(meta_fields), tuple(fields), dense


_LENGTHS = (0, 1, 3, 7, 0x101, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFE, UNDEFINED)


def _overwrite(buf: bytearray, field: tuple[int, int], value: int, little: bool) -> None:
    offset, size = field
    if size == 2:
        value &= 0xFFFF
    buf[offset : offset + size] = value.to_bytes(size, "little" if little else "big")


@st.composite
def _mutated_files(draw: st.DrawFn, *, lengths_only: bool = False) -> bytes:
    name = draw(st.sampled_from(FILES))
    prefix, body, meta_fields, fields, dense = _sample(name)
    little, _, deflated = _ENCODING[name]
    head, data = bytearray(prefix), bytearray(body)
    kinds = ["length", "meta-length"] if lengths_only else ["flip", "insert", "delete", "length", "truncate"]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        if not data:
            break
        at = draw(st.integers(0, max(0, min(dense, len(data)) - 1)))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "length" and fields:
            # fields of the original file; earlier inserts/deletes may have moved them: fine
            field = draw(st.sampled_from(fields))
            if field[0] + field[1] <= len(data):
                _overwrite(data, field, draw(st.sampled_from(_LENGTHS)), little)
        elif kind == "meta-length":
            _overwrite(head, draw(st.sampled_from(meta_fields)), draw(st.sampled_from(_LENGTHS)), True)
    return bytes(head) + (_deflate(bytes(data)) if deflated else bytes(data))


_FUZZ = settings(
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(_FUZZ, max_examples=200)
@given(_mutated_files())
def test_random_mutations(data: bytes) -> None:
    tolerant = _check_both(data)
    assert _outcome(io.BytesIO(data), strict=False) == tolerant
    _outcome(data, strict=False, stop_before_pixels=True)


@settings(_FUZZ, max_examples=100)
@given(_mutated_files(lengths_only=True))
def test_length_field_overwrites(data: bytes) -> None:
    """0, 1, odd, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFF0, undefined ... in element, sequence, item,
    delimiter, pixel data and meta length fields."""
    tolerant = _check_both(data)
    assert _outcome(io.BytesIO(data), strict=False) == tolerant


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("value", [0xFFFFFFF0, 0x7FFFFFFF, UNDEFINED])
def test_every_length_field_overwritten_stays_bounded(name: str, value: int, tmp_path: Path) -> None:
    """Each length field in turn set to a huge value: the rule holds and (for a sample,
    under tracemalloc) the peak allocation stays small, from bytes and from a path."""
    prefix, body, meta_fields, fields, _ = _sample(name)
    little, _, deflated = _ENCODING[name]

    def build(field: tuple[int, int], in_meta: bool) -> bytes:
        head, data = bytearray(prefix), bytearray(body)
        if in_meta:
            _overwrite(head, field, value, True)
        else:
            _overwrite(data, field, value, little)
        return bytes(head) + (_deflate(bytes(data)) if deflated else bytes(data))

    cases = [build(f, True) for f in meta_fields] + [build(f, False) for f in fields]
    for data in cases:
        _check_both(data)
    path = tmp_path / "long.dcm"
    for data in cases[:: max(1, len(cases) // 6)]:
        path.write_bytes(data)
        for source in (data, path):
            _bounded(lambda source=source: _outcome(source, strict=False))


# ---------------------------------------------------------------------------------------
# constructed pathological inputs


@pytest.mark.parametrize("source_kind", ["bytes", "BytesIO", "path"])
def test_element_length_0xfffffff0(source_kind: str, tmp_path: Path) -> None:
    """An explicit-VR value declared 0xFFFFFFF0 bytes long in a small file: the tolerant read
    keeps the bytes there are, strict names the tag and offset; nothing big is allocated."""
    data = _part10(EXPLICIT_LE, NAME + _el(0x00291010, "OB", b"abcd", length=0xFFFFFFF0))
    source: Any = data
    if source_kind == "BytesIO":
        source = io.BytesIO(data)
    elif source_kind == "path":
        source = tmp_path / "f.dcm"
        source.write_bytes(data)
    _bounded(lambda: _outcome(source, strict=False))
    if source_kind == "BytesIO":
        source.seek(0)
    ds, texts = _tolerant(source)
    assert ds[0x00291010].value == b"abcd"
    assert any("runs past the end of data" in t for t in texts)
    if source_kind == "BytesIO":
        source.seek(0)
    with pytest.raises(DecodeError) as info:
        dicomkit.read(source, strict=True)
    assert info.value.tag == 0x00291010
    assert info.value.offset == DS_START + len(NAME)


def test_big_value_lengths_agree_across_sources(tmp_path: Path) -> None:
    """A value big enough to be read into its own buffer from a file (then the elements
    after it from a new one), with its length overwritten: all sources agree, and memory
    stays near the file size."""
    size = 4 * reader_module.BIG_VALUE
    value = bytes(range(256)) * (size // 256)
    after = _el(0x7FE10010, "OB", b"tail") + _el(0xFFFAFFFA, "SQ", _item(NAME))
    path = tmp_path / "big.dcm"
    for length in (
        size,
        size - 1,
        size + 2,
        size + len(after),
        size + len(after) + 2,
        0xFFFFFFF0,
        0x7FFFFFFF,
    ):
        data = _part10(EXPLICIT_LE, NAME + _el(PIXEL_DATA, "OW", value, length=length) + after)
        for n in (len(data), len(data) - 3, len(data) - len(after) + 6):
            _assert_sources_agree(data[:n], path)
        _bounded(lambda: _outcome(path, strict=False), memory=4 * len(data) + 4 * MB)


@pytest.mark.parametrize(
    "vr, implicit, little",
    [
        ("SQ", False, True),
        ("SQ", True, True),
        ("SQ", False, False),
        ("OB", False, True),
        ("UT", False, False),
    ],
)
def test_huge_lengths_in_constructed_files(vr: str, implicit: bool, little: bool) -> None:
    ts = IMPLICIT_LE if implicit else (EXPLICIT_LE if little else EXPLICIT_BE)
    tag = 0x0040A730 if vr == "SQ" else 0x00420011 if vr == "OB" else 0x0040A160
    for length in (0xFFFFFFF0, 0x7FFFFFFF, 0xFFFFFFFE):
        elem = _el(
            tag, vr, _item(NAME) if vr == "SQ" else b"xy", little=little, implicit=implicit, length=length
        )
        data = _part10(ts, _el(0x00080060, "CS", b"OT", little=little, implicit=implicit) + elem)
        _bounded(lambda data=data: _check_both(data))
        error = _expect_error(data, DecodeError, strict=True)
        assert error.offset is not None


def test_item_length_0xfffffff0() -> None:
    data = _part10(EXPLICIT_LE, _el(0x0040A730, "SQ", b"", length=UNDEFINED) + _item(NAME, length=0xFFFFFFF0))
    _bounded(lambda: _check_both(data))
    error = _expect_error(data, DecodeError, strict=True)
    assert error.offset == DS_START + 12  # the item header


@pytest.mark.parametrize(
    ("implicit", "little"), [(False, True), (True, True), (False, False)], ids=["explicit", "implicit", "big"]
)
@pytest.mark.parametrize("undefined", [True, False], ids=["undefined", "defined"])
def test_10000_deep_nesting_is_a_decode_error(implicit: bool, undefined: bool, little: bool) -> None:
    ts = IMPLICIT_LE if implicit else (EXPLICIT_LE if little else EXPLICIT_BE)
    data = _part10(ts, _nested(10_000, implicit=implicit, undefined=undefined, little=little))
    for strict in (False, True):
        start = time.perf_counter()
        error = _expect_error(data, DecodeError, strict=strict)
        assert time.perf_counter() - start < TIME_BOUND
        assert str(reader_module.MAX_DEPTH) in str(error)  # names the depth
        assert error.offset is not None and DS_START < error.offset < len(data)
    _bounded(lambda: _check_both(data))


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("undefined", [True, False], ids=["undefined", "defined"])
def test_nesting_up_to_the_limit_reads(implicit: bool, undefined: bool) -> None:
    """MAX_DEPTH levels read fine within the default recursion limit, even when the caller
    already uses 200 frames of stack."""
    depth = reader_module.MAX_DEPTH
    data = _part10(
        IMPLICIT_LE if implicit else EXPLICIT_LE, _nested(depth, implicit=implicit, undefined=undefined)
    )
    assert sys.getrecursionlimit() >= 1000

    def at_stack_depth(n: int) -> Dataset:
        return at_stack_depth(n - 1) if n else dicomkit.read(data, strict=True)

    ds = at_stack_depth(200)
    assert _walk_depth(ds) == depth
    _expect_error(
        _part10(EXPLICIT_LE, _nested(depth + 1, implicit=implicit, undefined=undefined)), DecodeError
    )


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_nested_sequences_are_not_copied_per_level(implicit: bool) -> None:
    """A valid file: 100 levels of defined-length sequences around a 2 MB value. Reading
    every level must not keep a copy of the enclosed bytes per level (that was 200 MB)."""
    big = _el(0x00420011, "OB", bytes(2 * MB), implicit=implicit)
    data = _part10(
        IMPLICIT_LE if implicit else EXPLICIT_LE, _nested(100, implicit=implicit, undefined=False, inner=big)
    )
    for strict in (False, True):
        _bounded(lambda strict=strict: _outcome(data, strict=strict), memory=16 * MB)


def test_10000_deep_nesting_inside_un_is_a_decode_error() -> None:
    """A sequence stored as UN (decoded lazily, as implicit VR LE) nesting 10,000 levels."""
    inner = _nested(10_000, implicit=True, undefined=True)
    data = _part10(EXPLICIT_LE, _el(0x0040A730, "UN", inner[8:], length=UNDEFINED))
    _expect_error(data, DecodeError)
    defined = _nested(10_000, implicit=True, undefined=False)
    data = _part10(EXPLICIT_LE, _el(0x0040A730, "UN", defined[8:]))
    error = _expect_error(data, DecodeError)
    assert str(reader_module.MAX_DEPTH) in str(error)


def test_rewinding_items_do_not_explode() -> None:
    """Items and sequences whose content (of undefined length) runs past their defined end:
    re-parsing those bytes took time exponential in their number (20 levels of 40 bytes:
    half a minute)."""
    sq = _el(0x0040A730, "SQ", length=UNDEFINED)
    sq8 = _el(0x0040A730, "SQ", length=8)  # holds just the header of an undefined-length item
    for levels in (20, 60, 120):
        # an item of 12 bytes: the header of an undefined-length sequence, read past the item
        data = _part10(EXPLICIT_LE, sq + (_item(length=12) + sq) * levels + _delim(SEQ_DELIM))
        _bounded(lambda data=data: _check_both(data), seconds=2.0)
        # a sequence of 8 bytes: the header of an undefined-length item, read past the sequence
        data = _part10(EXPLICIT_LE, (sq8 + _item(length=UNDEFINED)) * levels + NAME)
        _bounded(lambda data=data: _check_both(data), seconds=2.0)
        # the same as siblings (distinct tags): an item read past its sequence would hold all
        # the later sequences, each of those all the ones after it ... (2 ** levels items)
        siblings = b"".join(_el(0x00081110 + 16 * i, "SQ", _item(length=UNDEFINED)) for i in range(levels))
        data = _part10(EXPLICIT_LE, siblings + NAME)
        _bounded(lambda data=data: _check_both(data), seconds=2.0)


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_undefined_length_sequence_that_never_ends(implicit: bool) -> None:
    """The data stops inside an undefined-length item of an undefined-length sequence."""
    ts = IMPLICIT_LE if implicit else EXPLICIT_LE
    name = _el(0x00100010, "PN", b"Doe^Jane", implicit=implicit)
    opening = _el(0x0040A730, "SQ", implicit=implicit, length=UNDEFINED) + _item(length=UNDEFINED)
    data = _part10(ts, opening + name)
    ds, texts = _tolerant(data)
    assert ds.ContentSequence[0].PatientName == "Doe^Jane"
    assert any("data ended" in t for t in texts)
    error = _expect_error(data, DecodeError, strict=True)
    assert error.offset == len(data)
    # the sequence itself never ends: items and no delimiter
    data = _part10(ts, _el(0x0040A730, "SQ", implicit=implicit, length=UNDEFINED) + _item(name) * 3)
    ds, texts = _tolerant(data)
    assert len(ds.ContentSequence) == 3
    assert texts
    assert _expect_error(data, DecodeError, strict=True).offset == len(data)


def test_encapsulated_pixel_data_without_sequence_delimiter() -> None:
    offsets = _item()  # an empty Basic Offset Table
    fragments = _item(b"\xff\xd8\xff\xd9") * 3
    pixel = _el(PIXEL_DATA, "OB", length=UNDEFINED) + offsets + fragments
    data = _part10(JPEG_BASELINE, _el(0x00280010, "US", b"\1\0") + pixel)
    ds, texts = _tolerant(data)
    assert ds[PIXEL_DATA].raw == offsets + fragments
    assert any("sequence delimiter" in t for t in texts)
    error = _expect_error(data, DecodeError, strict=True)
    assert error.tag == PIXEL_DATA and error.offset == len(data)
    # a fragment that runs past the end, and one of undefined length
    for bad in (_item(b"\xff\xd8", length=0xFFFFFFF0), _item(b"", length=UNDEFINED)):
        data = _part10(JPEG_BASELINE, pixel + bad)
        _bounded(lambda data=data: _check_both(data))
        error = _expect_error(data, DecodeError, strict=True)
        assert error.tag == PIXEL_DATA and error.offset == len(data) - len(bad)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"D",
        b"DICM",
        b"\0" * 128,
        HEADER,
        HEADER + b"\2\0",
        HEADER + b"\2\0\1\0OB",
        b"\0" * 128 + b"DICX",
    ],
    ids=[
        "empty",
        "one-byte",
        "DICM",
        "preamble",
        "preamble+DICM",
        "one-tag-byte",
        "short-header",
        "bad-prefix",
    ],
)
def test_no_usable_content_is_invalid_dicom(data: bytes, tmp_path: Path) -> None:
    for strict in (False, True):
        error = _expect_error(data, InvalidDicomError, strict=strict)
        assert error.offset is not None
    _assert_sources_agree(data, tmp_path / "f.dcm")


@pytest.mark.parametrize("size", [1, 7, 8, 64, 131, 132, 133, 1000, 4096, 16383, 16384, 16385, 70_000])
def test_random_bytes_are_invalid_dicom(size: int) -> None:
    rng = random.Random(size)
    for _ in range(20 if size < 10_000 else 5):
        data = rng.randbytes(size)
        for strict in (False, True):
            _expect_error(data, InvalidDicomError, strict=strict)


@pytest.mark.parametrize("group_length", [0xFFFFFFF0, UNDEFINED, 0x7FFFFFFF, 0, 3])
def test_meta_group_length_out_of_range(group_length: int) -> None:
    data = _part10(EXPLICIT_LE, NAME, group_length=group_length)
    _bounded(lambda: _check_both(data))
    ds, texts = _tolerant(data)
    assert ds.PatientName == "Doe^Jane"  # the group ends where group 0002 ends
    assert any("group length" in t for t in texts)
    error = _expect_error(data, InvalidDicomError, strict=True)
    assert error.tag == 0x00020000 and error.offset == 132


@pytest.mark.parametrize(
    "garbage",
    [b"\x01\x02\x03\x04" * 50, b"\xff" * 200, b"\xfe\xff\x00\xe0" + b"\xff" * 4 + b"junk", bytes(range(256))],
    ids=["counting", "ones", "item-of-junk", "all-bytes"],
)
def test_un_of_undefined_length_holding_garbage(garbage: bytes) -> None:
    """UN of undefined length is read as an implicit VR LE sequence (CP-246)."""
    for tag in (0x00091010, 0x0040A730):  # private, and a standard SQ tag
        data = _part10(EXPLICIT_LE, NAME + _el(tag, "UN", garbage, length=UNDEFINED))
        _bounded(lambda data=data: _check_both(data))
        _expect_error(data, DecodeError, strict=True)


def test_corrupt_deflate_stream() -> None:
    stream = bytearray(_deflate(NAME * 20))
    stream[0] |= 0b110  # block type 11: reserved, an error
    data = _part10(DEFLATED, bytes(stream))
    for strict in (False, True):
        error = _expect_error(data, DecodeError, strict=strict)
        assert error.offset == DEFLATED_START
    with pytest.raises(DecodeError):
        dicomkit.read_dataset(bytes(stream), transfer_syntax_uid=DEFLATED)


def test_truncated_deflate_stream() -> None:
    stream = _deflate(NAME + _el(0x00100020, "LO", b"12345678") * 100)
    data = _part10(DEFLATED, stream[: len(stream) // 2])
    _check_both(data)
    error = _expect_error(data, DecodeError, strict=True)
    assert error.offset is not None
    # a stream that ends cleanly but early is caught by strict too
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    unfinished = c.compress(NAME) + c.flush(zlib.Z_SYNC_FLUSH)
    ds, texts = _tolerant(_part10(DEFLATED, unfinished))
    assert ds.PatientName == "Doe^Jane" and any("deflate stream" in t for t in texts)
    _expect_error(_part10(DEFLATED, unfinished), DecodeError, strict=True)


def test_deflate_bomb_is_refused() -> None:
    """About 1 MB inflating to 1 GiB: refused once the inflated size passes
    ``max_inflated_size``; memory stays near that bound, never near 1 GiB."""
    bomb = _deflate_bomb(1 << 30)
    assert len(bomb) < 2 * MB
    data = _part10(DEFLATED, bomb)
    error = _expect_error(data, DecodeError, max_inflated_size=8 * MB)
    assert "max_inflated_size" in str(error) and error.offset == DEFLATED_START
    _bounded(lambda: _expect_error(data, DecodeError, max_inflated_size=8 * MB))
    with pytest.raises(DecodeError, match="max_inflated_size"):
        dicomkit.read_dataset(bomb, transfer_syntax_uid=DEFLATED, max_inflated_size=8 * MB)
    # the default bound applies without asking
    default = reader_module.MAX_INFLATED_SIZE
    assert default < 1 << 30
    start = time.perf_counter()
    _expect_error(data, DecodeError)
    assert time.perf_counter() - start < 20


def test_max_inflated_size_is_exact() -> None:
    body = NAME + _el(0x00100020, "LO", b"12345678")
    data = _part10(DEFLATED, _deflate(body))
    assert dicomkit.read(data, strict=True, max_inflated_size=len(body)).PatientID == "12345678"
    _expect_error(data, DecodeError, max_inflated_size=len(body) - 1)
    with pytest.raises(ValueError):
        dicomkit.read(data, max_inflated_size=-1)


def test_fix_up_warnings_are_bounded() -> None:
    """Garbage that needs a fix-up every 8 bytes reports a bounded number of warnings (each
    distinct warning text also stays in the warnings registry)."""
    duplicate = _el(0x00100010, "PN", b"", implicit=True)  # (0010,0010), length 0
    data = _part10(IMPLICIT_LE, duplicate * 50_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        len(dicomkit.read(data))  # len() scans the whole (lazily read) data set
        elapsed = time.perf_counter() - start
    assert len(caught) <= reader_module.MAX_WARNINGS + 10
    assert any("not reported" in str(w.message) for w in caught)
    assert elapsed < TIME_BOUND
    _expect_error(data, DecodeError, strict=True)
    # past the bound, data loss (here: a value cut short at the end) is still reported
    cut = _el(0x00100020, "LO", b"12345678", implicit=True)[:-4]
    _, texts = _tolerant(data + cut)
    assert len(texts) <= reader_module.MAX_WARNINGS + 10
    assert any("runs past the end of data" in t for t in texts)
