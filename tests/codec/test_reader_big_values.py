"""Large values read from a file straight into their own buffer (defined-length values and
encapsulated pixel data): the same data set and the same fix-ups as reading the bytes in memory."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from dicomkit.codec import reader
from dicomkit.codec.encaps import parse_encapsulated
from tests.codec.test_reader import delimiter, elem, item, part10, text

JPEG_LS = "1.2.840.10008.1.2.4.80"
UNDEFINED = 0xFFFFFFFF


def _header() -> bytes:
    return (
        elem(0x00080016, "UI", text("1.2.840.10008.5.1.4.1.1.7", "UI"))
        + elem(0x00080018, "UI", text("1.2.3.4", "UI"))
        + elem(0x00280010, "US", struct.pack("<H", 256))
        + elem(0x00280011, "US", struct.pack("<H", 256))
    )


def _encapsulated(fragments: list[bytes], *, table: bytes = b"", end: bytes | None = None) -> bytes:
    body = item(table) + b"".join(item(f) for f in fragments)
    return elem(0x7FE00010, "OB", b"", length=UNDEFINED) + body + (delimiter(0xE0DD) if end is None else end)


def _padding(n: int) -> bytes:
    return elem(0xFFFCFFFC, "OB", b"\0" * n)


def _summary(ds: Any) -> list[Any]:
    out = []
    for e in ds:
        v = e.value
        if e.tag == 0x7FE00010 and e.undefined_length:
            items = parse_encapsulated(e.raw)
            v = (items.offsets, [bytes(f) for f in items.fragments])
        out.append((int(e.tag), str(e.VR), e.raw, repr(v)))
    return out


def _read_both(data: bytes, tmp_path: Path) -> tuple[tuple[Any, list[str]], tuple[Any, list[str]]]:
    path = tmp_path / "f.dcm"
    path.write_bytes(data)
    results = []
    for source in (path, data, io.BytesIO(data)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = dicomkit.read(source)  # type: ignore[arg-type]
            got = _summary(ds)
        results.append((got, sorted(str(w.message) for w in caught)))
    assert results[2] == results[0]
    return results[0], results[1]


BIG = 200_000  # > reader.BIG_VALUE: read into its own buffer from a file


@pytest.mark.parametrize(
    "layout",
    [
        "alone",  # the pixel data ends the file
        "padding",  # Data Set Trailing Padding after it
        "many-fragments",  # more items than are probed: read chunk by chunk
        "table",  # a Basic Offset Table
    ],
)
def test_big_encapsulated_pixel_data_reads_as_from_memory(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    probe = reader._Parser._big_encapsulated

    def spy(self: Any, *args: Any) -> Any:
        done = probe(self, *args)
        taken.append(done is not None)
        return done

    monkeypatch.setattr(reader._Parser, "_big_encapsulated", spy)
    if layout == "many-fragments":
        frags = [bytes([k % 251]) * 4000 for k in range(reader._MAX_PROBED_ITEMS + 10)]
    else:
        frags = [b"\x11" * BIG, b"\x22" * 1000]
    table = struct.pack("<2L", 0, BIG + 8) if layout == "table" else b""
    data = part10(_header() + _encapsulated(frags, table=table), JPEG_LS)
    if layout == "padding":
        data += _padding(138)
    from_file, from_bytes = _read_both(data, tmp_path)
    assert from_file == from_bytes
    assert from_file[1] == []
    pixel = next(e for e in from_file[0] if e[0] == 0x7FE00010)
    offsets = (0, BIG + 8) if layout == "table" else ()
    assert pixel[3] == repr((offsets, frags))
    if layout == "padding":
        assert from_file[0][-1][0] == 0xFFFCFFFC
    # the file reads (path and file object) take the one-buffer path unless there are many items
    assert taken == [layout != "many-fragments"] * 2


@pytest.mark.parametrize(
    "damage",
    [
        "no-delimiter",  # the file ends after the last item
        "cut-fragment",  # the last item runs past the end of the file
        "stray-element",  # an element where an item should be
        "undefined-item",  # an item of undefined length
    ],
)
def test_damaged_big_encapsulated_pixel_data_gives_the_same_fix_ups(damage: str, tmp_path: Path) -> None:
    frags = [b"\x11" * BIG]
    if damage == "no-delimiter":
        data = part10(_header() + _encapsulated(frags, end=b""), JPEG_LS)
    elif damage == "cut-fragment":
        data = part10(_header() + _encapsulated(frags, end=b""), JPEG_LS)[:-5000]
    elif damage == "stray-element":
        data = part10(_header() + _encapsulated(frags, end=elem(0x00100010, "PN", b"DOE ")), JPEG_LS)
    else:
        bad = struct.pack("<HHL", 0xFFFE, 0xE000, UNDEFINED) + b"\x11" * BIG
        data = part10(_header() + elem(0x7FE00010, "OB", b"", length=UNDEFINED) + item(b"") + bad, JPEG_LS)
    path = tmp_path / "f.dcm"
    path.write_bytes(data)
    outcomes = []
    for source in (path, data):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcomes.append(
                    ("ok", _summary(dicomkit.read(source)), sorted(str(w.message) for w in caught))
                )
            except dicomkit.DecodeError as exc:
                outcomes.append(("error", str(exc), []))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "error" or outcomes[0][2]  # never silently accepted


def test_big_defined_length_value_followed_by_elements(tmp_path: Path) -> None:
    data = part10(
        _header() + elem(0x7FE00010, "OW", b"\x01\x02" * (BIG // 2)) + _padding(20) + _padding(0)[:0],
    )
    from_file, from_bytes = _read_both(data, tmp_path)
    assert from_file == from_bytes and from_file[1] == []


def test_a_non_seekable_stream_reads_the_same(tmp_path: Path) -> None:
    data = part10(_header() + _encapsulated([b"\x11" * BIG]) + _padding(10), JPEG_LS)

    class Pipe(io.RawIOBase):
        def __init__(self, raw: bytes) -> None:
            self._b = io.BytesIO(raw)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            chunk = self._b.read(min(len(b), 7000))
            b[: len(chunk)] = chunk
            return len(chunk)

    a = _summary(dicomkit.read(io.BufferedReader(Pipe(data))))
    assert a == _summary(dicomkit.read(data))
