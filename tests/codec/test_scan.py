"""The reader's element-header scan: the C accelerator (dicomkit.codec._scan) against the pure-Python
loops it replaces, on random bytes and on every pydicom test file."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit import dictionary
from dicomkit.codec import reader
from dicomkit.errors import DicomError

SQ_TAGS = dictionary.SQ_TAGS
SQ_RULES = dictionary.SQ_RULES


def _c_scanner() -> Any:
    from dicomkit.codec import _scan

    return _scan


def test_the_c_scanner_is_built_and_used() -> None:
    # `pip install -e .` (make run / make test) compiles it; a silent fallback would hide a build break
    scan = _c_scanner()
    assert reader.ACCELERATED
    assert reader._scan_explicit is scan.explicit
    assert reader._scan_implicit is scan.implicit


def test_the_sq_tables_agree_with_the_dictionary() -> None:
    for tag in list(SQ_TAGS)[:200]:
        assert dictionary.vr_of(tag) == "SQ"
    assert (0x50002600 & SQ_RULES[0][0]) == SQ_RULES[0][1]
    assert dictionary.vr_of(0x50102600) == "SQ"  # (50xx,2600): the one repeating-group sequence


# -- random element streams ---------------------------------------------------------------------

_VRS = [
    v.encode()
    for v in ("AE", "CS", "DS", "FD", "IS", "LO", "OB", "OW", "PN", "SH", "SQ", "UI", "UL", "UN", "UT")
]
_TAGS = [
    0x00080005, 0x00080016, 0x00080018, 0x00081140, 0x00100010, 0x00100020, 0x00091010, 0x00090010,
    0x00280010, 0x50002600, 0x50102600, 0x7FE00010, 0xFFFEE000, 0xFFFEE00D, 0x00000000, 0x00020010,
]  # fmt: skip


@st.composite
def _explicit_stream(draw: st.DrawFn) -> tuple[bytes, bool]:
    little = draw(st.booleans())
    e = "<" if little else ">"
    out = bytearray(draw(st.binary(max_size=3)))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        tag = draw(st.sampled_from(_TAGS)) if kind else draw(st.integers(0, 0xFFFFFFFF))
        vr = draw(st.sampled_from(_VRS)) if kind != 1 else draw(st.binary(min_size=2, max_size=2))
        value = draw(st.binary(max_size=12))
        out += struct.pack(e + "HH", tag >> 16, tag & 0xFFFF) + vr
        if vr in reader._LONG:
            ln = draw(st.sampled_from([len(value), 0xFFFFFFFF, len(value) + 1, 1 << 31]))
            out += b"\0\0" + struct.pack(e + "L", ln)
        else:
            ln = draw(st.sampled_from([len(value), len(value) + 3, 0xFFFF]))
            out += struct.pack(e + "H", ln)
        out += value
    out += draw(st.binary(max_size=6))
    return bytes(out), little


@st.composite
def _implicit_stream(draw: st.DrawFn) -> tuple[bytes, bool]:
    little = draw(st.booleans())
    e = "<" if little else ">"
    item = struct.pack(e + "HH", 0xFFFE, 0xE000)
    out = bytearray(draw(st.binary(max_size=3)))
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(st.sampled_from(_TAGS) | st.integers(0, 0xFFFFFFFF))
        value = draw(st.binary(max_size=12) | st.just(item + b"\0\0\0\0"))
        ln = draw(st.sampled_from([len(value), 0xFFFFFFFF, len(value) + 1]))
        out += struct.pack(e + "HHL", tag >> 16, tag & 0xFFFF, ln) + value
    out += draw(st.binary(max_size=6))
    return bytes(out), little


_positions = st.integers(-2, 60)
_limits = st.integers(-4, 400)
_stops = st.sampled_from([reader._NO_STOP, 0x00100000, 0x7FE00010, 0x00080006, 1 << 32, 0])
_lasts = st.sampled_from([-1, 0x00080005, 0x00100010, 0xFFFFFFFF])


@settings(max_examples=400, deadline=None)
@given(_explicit_stream(), _positions, _limits, _stops, _lasts, st.booleans())
def test_c_and_python_explicit_scans_agree(
    stream: tuple[bytes, bool], pos: int, lim: int, stop: int, last: int, lazy_sq: bool
) -> None:
    buf, little = stream
    d_py: dict[int, Any] = {}
    d_c: dict[int, Any] = {}
    got_py = reader._scan_explicit_py(buf, pos, lim, little, stop, last, lazy_sq, d_py)
    got_c = _c_scanner().explicit(buf, pos, lim, little, stop, last, lazy_sq, d_c)
    assert got_c == got_py
    assert list(d_c.items()) == list(d_py.items())


@settings(max_examples=400, deadline=None)
@given(_implicit_stream(), _positions, _limits, _stops, _lasts)
def test_c_and_python_implicit_scans_agree(
    stream: tuple[bytes, bool], pos: int, lim: int, stop: int, last: int
) -> None:
    buf, little = stream
    d_py: dict[int, Any] = {}
    d_c: dict[int, Any] = {}
    got_py = reader._scan_implicit_py(buf, pos, lim, little, stop, last, SQ_TAGS, SQ_RULES, d_py)
    got_c = _c_scanner().implicit(buf, pos, lim, little, stop, last, SQ_TAGS, SQ_RULES, d_c)
    assert got_c == got_py
    assert list(d_c.items()) == list(d_py.items())


def test_scans_enter_each_ordinary_element_and_stop_where_the_general_path_starts() -> None:
    # (0008,0016) UI, (0010,0010) PN, then a sequence of undefined length: the scan stops there
    elems = [
        struct.pack("<HH2sH", 0x0008, 0x0016, b"UI", 4) + b"1.2\0",
        struct.pack("<HH2sH", 0x0010, 0x0010, b"PN", 4) + b"DOE ",
        struct.pack("<HH2s2sL", 0x0040, 0x0275, b"SQ", b"\0\0", 0xFFFFFFFF),
    ]
    buf = b"".join(elems)
    for scan in (reader._scan_explicit_py, _c_scanner().explicit):
        d: dict[int, Any] = {}
        pos, last = scan(buf, 0, len(buf), True, reader._NO_STOP, -1, True, d)
        assert d == {0x00080016: 0, 0x00100010: 12}
        assert (pos, last) == (24, 0x00100010)


def test_a_limit_past_the_buffer_is_clamped() -> None:
    buf = struct.pack("<HH2sH", 0x0008, 0x0016, b"UI", 4) + b"1.2\0"
    for scan in (reader._scan_explicit_py, _c_scanner().explicit):
        d: dict[int, Any] = {}
        assert scan(buf[:10], 0, 10_000, True, reader._NO_STOP, -1, True, d) == (0, -1)
        assert d == {}


def test_c_scanner_rejects_wrong_argument_types() -> None:
    with pytest.raises(TypeError):
        _c_scanner().explicit("text", 0, 4, True, 0, -1, True, {})
    with pytest.raises(TypeError):
        _c_scanner().implicit(b"", 0, 4, True, 0, -1, set(), (), {})


# -- whole files: the reader with either scanner --------------------------------------------------


def _walk(ds: Any) -> list[Any]:
    out: list[Any] = []
    for elem in ds:
        if elem.VR == "SQ":
            out.append((int(elem.tag), "SQ", [_walk(item) for item in elem.value]))
        else:
            out.append((int(elem.tag), str(elem.VR), elem.raw if elem.raw is not None else repr(elem.value)))
    return out


def _read_all(path: Path) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = dicomkit.read(path)
            result: Any = (_walk(ds.meta) if ds.meta is not None else None, _walk(ds))
        except DicomError as exc:
            result = ("error", str(exc))
    return result, [str(w.message) for w in caught]


def test_every_pydicom_test_file_reads_the_same_with_either_scanner(
    pydicom_test_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_c = [_read_all(p) for p in pydicom_test_files]
    monkeypatch.setattr(reader, "_scan_explicit", reader._scan_explicit_py)
    monkeypatch.setattr(reader, "_scan_implicit", reader._scan_implicit_py)
    with_py = [_read_all(p) for p in pydicom_test_files]
    assert len(with_c) > 100
    for path, c, py in zip(pydicom_test_files, with_c, with_py, strict=True):
        assert c == py, path
