"""Lazy scanning: tolerant reads of bytes, and of file headers (``stop_before_pixels``), scan
the top-level data set only as far as the elements used so far. The result must be the same
data set an eager (strict) read gives, whatever is accessed first."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

import dicomkit
from dicomkit.errors import DecodeError, DicomWarning
from tests.codec.test_reader import elem, item, part10, sequence, text

BIG_PRIVATE = 40_000  # larger than the reader's first chunk, so later scans must read more


def _sample(*, charset_late: bool = False) -> bytes:
    parts = [
        elem(0x00080016, "UI", text("1.2.840.10008.5.1.4.1.1.7", "UI")),
        elem(0x00080018, "UI", text("1.2.3.4.5", "UI")),
        elem(0x00080060, "CS", text("OT", "CS")),
        elem(0x00100010, "PN", text("Müller^Jürgen", "PN", "latin-1")),
        elem(0x00100020, "LO", text("ID42")),
        elem(0x00191010, "OB", b"\x01" * BIG_PRIVATE),
        elem(0x0020000D, "UI", text("1.2.3", "UI")),
        sequence(0x00081115, item(elem(0x0020000E, "UI", text("1.2.3.4", "UI")))),
        elem(0x7FE00010, "OW", b"\x00\x01" * 64),
    ]
    charset = elem(0x00080005, "CS", text("ISO_IR 100", "CS"))
    if charset_late:
        parts.insert(3, charset)  # out of order: after (0008,0060)
    else:
        parts.insert(0, charset)
    return part10(b"".join(parts))


def _values(ds: dicomkit.Dataset) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    for e in ds:
        if e.VR == "SQ":
            out.append((e.tag, [_values(i) for i in e.value]))
        else:
            out.append((e.tag, e.value))
    return out


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    path = tmp_path / "lazy.dcm"
    path.write_bytes(_sample())
    return path


@pytest.mark.parametrize(
    "first", ["PatientID", "StudyInstanceUID", "SOPInstanceUID", "len", "iter", "contains"]
)
def test_any_access_order_gives_the_eager_result(sample_file: Path, first: str) -> None:
    eager = dicomkit.read(sample_file, stop_before_pixels=True, strict=True)
    lazy = dicomkit.read(sample_file, stop_before_pixels=True)
    if first == "len":
        assert len(lazy) == len(eager)
    elif first == "iter":
        assert [e.tag for e in lazy] == [e.tag for e in eager]
    elif first == "contains":
        assert "StudyInstanceUID" in lazy
        assert "PixelData" not in lazy
    else:
        assert getattr(lazy, first) == getattr(eager, first)
    assert _values(lazy) == _values(eager)
    assert lazy == eager
    assert lazy.PatientName == "Müller^Jürgen"  # ISO_IR 100 applied
    assert lazy.ReferencedSeriesSequence[0].SeriesInstanceUID == "1.2.3.4"
    assert 0x7FE00010 not in lazy


def test_later_scans_read_the_rest_of_the_header(sample_file: Path) -> None:
    # The first chunk ends inside the big private value: its bytes come from reopening the file.
    ds = dicomkit.read(sample_file, stop_before_pixels=True)
    assert ds[0x00191010].value == b"\x01" * BIG_PRIVATE
    assert ds.StudyInstanceUID == "1.2.3"


def test_a_file_changed_after_read_is_an_error(sample_file: Path) -> None:
    ds = dicomkit.read(sample_file, stop_before_pixels=True)
    assert ds.SOPInstanceUID == "1.2.3.4.5"  # within the first chunk
    data = bytearray(sample_file.read_bytes())
    data[-10] ^= 0xFF
    sample_file.write_bytes(bytes(data) + b"\x00\x00")
    with pytest.raises(DecodeError, match="changed after it was read"):
        _ = ds.StudyInstanceUID


def test_a_file_removed_after_read_is_an_error(sample_file: Path) -> None:
    ds = dicomkit.read(sample_file, stop_before_pixels=True)
    os.unlink(sample_file)
    with pytest.raises(DecodeError, match="cannot read the rest"):
        len(ds)


def test_setting_and_deleting_before_the_scan_completes() -> None:
    ds = dicomkit.read(_sample())
    ds.PatientID = "NEW"
    del ds.StudyInstanceUID
    tags = [e.tag for e in ds]
    assert tags == sorted(tags)
    assert ds.PatientID == "NEW"
    assert "StudyInstanceUID" not in ds
    assert 0x00191010 in ds and 0x7FE00010 in ds


def test_out_of_order_charset_still_applies() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        ds = dicomkit.read(_sample(charset_late=True))
        assert ds.PatientName == "Müller^Jürgen"
        assert [e.tag for e in ds] == sorted(e.tag for e in ds)


def test_problems_in_the_unscanned_part_are_reported_when_scanned() -> None:
    bad = part10(elem(0x00100010, "PN", text("A^B", "PN")) + elem(0x00200010, "SH", b"odd", length=3))
    ds = dicomkit.read(bad)
    with pytest.warns(DicomWarning, match="odd value length"):
        _ = ds.get("StudyID")
    with pytest.raises(DecodeError):
        dicomkit.read(bad, strict=True)
