"""The writer (PS3.10 7.1, PS3.5 7.1-7.5, A.1-A.5): golden bytes from the standard's layouts,
File Meta Information, sequences, transcoding, encapsulation and atomic writes.

Expected bytes are built by hand from the element layouts of PS3.5 7.1.2 (explicit VR),
7.1.3 (implicit VR), 7.5 (sequences and items) and A.4 (encapsulation); pydicom and DCMTK
are the oracles where a whole file is checked.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit.codec.encaps import encapsulate, extended_offsets, parse_encapsulated
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.errors import EncodeError, UnsupportedTransferSyntaxError
from dicomkit.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
BIG = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
SC = "1.2.840.10008.5.1.4.1.1.7"


def _small() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = SC
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PatientName = "Doe^Jane"
    ds.Rows = 2
    return ds


def _explicit(tag: int, vr: bytes, value: bytes, *, little: bool = True) -> bytes:
    o = "<" if little else ">"
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"OF", b"OD", b"OL", b"OV", b"UC", b"UR", b"SV", b"UV"):
        return struct.pack(o + "HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return struct.pack(o + "HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def _implicit(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


# ---------------------------------------------------------------------------------------
# golden bytes


def test_explicit_little_endian_golden() -> None:
    expected = (
        _explicit(0x00080016, b"UI", SC.encode() + b"\0")
        + _explicit(0x00080018, b"UI", b"1.2.3.4\0")
        + _explicit(0x00100010, b"PN", b"Doe^Jane")
        + _explicit(0x00280010, b"US", b"\x02\x00")
    )
    assert dicomkit.write_dataset(_small(), EXPLICIT) == expected


def test_implicit_and_big_endian_golden() -> None:
    expected = (
        _implicit(0x00080016, SC.encode() + b"\0")
        + _implicit(0x00080018, b"1.2.3.4\0")
        + _implicit(0x00100010, b"Doe^Jane")
        + _implicit(0x00280010, b"\x02\x00")
    )
    assert dicomkit.write_dataset(_small(), IMPLICIT) == expected
    expected_be = (
        _explicit(0x00080016, b"UI", SC.encode() + b"\0", little=False)
        + _explicit(0x00080018, b"UI", b"1.2.3.4\0", little=False)
        + _explicit(0x00100010, b"PN", b"Doe^Jane", little=False)
        + _explicit(0x00280010, b"US", b"\x00\x02", little=False)
    )
    assert dicomkit.write_dataset(_small(), BIG) == expected_be


def test_deflated_is_a_raw_deflate_stream_of_explicit_le() -> None:
    data = dicomkit.write_dataset(_small(), DEFLATED)
    inflated = zlib.decompressobj(-15).decompress(data)
    assert inflated == dicomkit.write_dataset(_small(), EXPLICIT)
    assert len(data) % 2 == 0


def _with_sequence() -> Dataset:
    ds = _small()
    item = Dataset()
    item.CodeValue = "T-A0100"
    ds.AnatomicRegionSequence = [item]
    return ds


def test_sequence_lengths_defined_and_undefined() -> None:
    item_body = _explicit(0x00080100, b"SH", b"T-A0100 ")
    defined_item = b"\xfe\xff\x00\xe0" + struct.pack("<L", len(item_body)) + item_body
    defined = _explicit(0x00082218, b"SQ", defined_item)
    undefined = (
        struct.pack("<HH2sHL", 0x0008, 0x2218, b"SQ", 0, 0xFFFFFFFF)
        + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
        + item_body
        + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
        + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    )
    head = _explicit(0x00080016, b"UI", SC.encode() + b"\0") + _explicit(0x00080018, b"UI", b"1.2.3.4\0")
    ds = _with_sequence()
    assert dicomkit.write_dataset(ds, EXPLICIT, sequence_length="defined").startswith(head + defined)
    assert dicomkit.write_dataset(ds, EXPLICIT, sequence_length="undefined").startswith(head + undefined)
    # preserve: a sequence made in memory has defined length
    assert dicomkit.write_dataset(ds, EXPLICIT).startswith(head + defined)
    with pytest.raises(ValueError, match="sequence_length"):
        dicomkit.write_dataset(ds, EXPLICIT, sequence_length="other")  # type: ignore[arg-type]


def test_sequence_lengths_preserved_per_item_on_round_trip() -> None:
    ds = _with_sequence()
    ds.AnatomicRegionSequence = [ds.AnatomicRegionSequence[0], Dataset()]
    mixed = dicomkit.write_dataset(ds, EXPLICIT, sequence_length="undefined")
    back = dicomkit.read_dataset(mixed)
    assert dicomkit.write_dataset(back, EXPLICIT) == mixed
    back.AnatomicRegionSequence[0].CodeValue = "T-D0050"  # a change inside: re-encoded, lengths kept
    out = dicomkit.write_dataset(back, EXPLICIT)
    assert out == mixed.replace(b"T-A0100 ", b"T-D0050 ")


def test_group_length_recomputed() -> None:
    ds = _small()
    ds[0x00100000] = DataElement(0x00100000, "UL", 999)
    data = dicomkit.write_dataset(ds, EXPLICIT)
    name = _explicit(0x00100010, b"PN", b"Doe^Jane")
    assert _explicit(0x00100000, b"UL", struct.pack("<L", len(name))) + name in data


def test_long_value_of_short_vr_is_written_as_un() -> None:
    # implicit VR: Image Comments (LT) longer than a 16-bit length can say (PS3.5 6.2.2 note)
    raw = _implicit(0x00204000, b"x" * 70000)
    ds = dicomkit.read_dataset(raw, transfer_syntax_uid=IMPLICIT)
    data = dicomkit.write_dataset(ds, EXPLICIT)
    assert data == struct.pack("<HH2sHL", 0x0020, 0x4000, b"UN", 0, 70000) + b"x" * 70000


# ---------------------------------------------------------------------------------------
# File Meta Information


def test_file_meta_generated(tmp_path: Path) -> None:
    ds = _small()
    dest = tmp_path / "a.dcm"
    dicomkit.write(ds, dest)
    data = dest.read_bytes()
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    pd = pydicom.dcmread(dest)
    fm = pd.file_meta
    assert fm.FileMetaInformationVersion == b"\x00\x01"
    assert fm.MediaStorageSOPClassUID == SC
    assert fm.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert fm.TransferSyntaxUID == EXPLICIT
    assert fm.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert fm.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    # the group length counts every meta byte after it (PS3.10 7.1)
    group_len = struct.unpack_from("<L", data, 140)[0]
    assert data[144 + group_len : 144 + group_len + 2] == b"\x08\x00"
    assert pd.PatientName == "Doe^Jane" and pd.Rows == 2


def test_file_meta_completed_keeps_user_elements(tmp_path: Path) -> None:
    ds = _small()
    meta = Dataset()
    meta[0x00020016] = DataElement(0x00020016, "AE", "MY_AE")
    meta[0x00020010] = DataElement(0x00020010, "UI", BIG)
    meta[0x00020003] = DataElement(0x00020003, "UI", "9.9.9")  # stale: corrected from the data set
    ds.meta = meta
    dest = tmp_path / "b.dcm"
    dicomkit.write(ds, dest)  # the transfer syntax comes from ds.meta
    pd = pydicom.dcmread(dest)
    assert pd.file_meta.SourceApplicationEntityTitle == "MY_AE"
    assert pd.file_meta.TransferSyntaxUID == BIG
    assert pd.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert pd.original_encoding == (False, False)
    dicomkit.write(ds, dest, transfer_syntax=IMPLICIT)  # the argument wins
    assert pydicom.dcmread(dest).file_meta.TransferSyntaxUID == IMPLICIT


def test_group_0002_in_data_set_is_an_error(tmp_path: Path) -> None:
    ds = _small()
    ds[0x00020010] = DataElement(0x00020010, "UI", EXPLICIT)
    with pytest.raises(EncodeError, match="0002,0010"):
        dicomkit.write(ds, tmp_path / "c.dcm")
    assert not (tmp_path / "c.dcm").exists()


def test_missing_sop_uids_is_an_error() -> None:
    ds = Dataset()
    ds.PatientName = "X"
    with pytest.raises(EncodeError, match="SOP Class UID"):
        dicomkit.write(ds, io.BytesIO())


def test_preamble(tmp_path: Path) -> None:
    ds = _small()
    out = io.BytesIO()
    dicomkit.write(ds, out, preamble=b"P" * 128)
    assert out.getvalue()[:132] == b"P" * 128 + b"DICM"
    with pytest.raises(ValueError, match="128"):
        dicomkit.write(ds, io.BytesIO(), preamble=b"short")


# ---------------------------------------------------------------------------------------
# read, modify, write; transcoding


def _testdata(name: str) -> str:
    path = pydicom.data.get_testdata_file(name)
    assert isinstance(path, str)
    return path


def test_modified_file_rewritten(tmp_path: Path) -> None:
    path = _testdata("CT_small.dcm")
    ds = dicomkit.read(path)
    ds.PatientName = "Changed^Name"
    del ds.PatientID
    dest = tmp_path / "m.dcm"
    dicomkit.write(ds, dest)
    a, b = pydicom.dcmread(path), pydicom.dcmread(dest)
    assert b.PatientName == "Changed^Name" and "PatientID" not in b
    assert b.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    for elem in a:
        if elem.keyword not in ("PatientName", "PatientID"):
            assert b[elem.tag].value == elem.value, elem.tag
    assert b.pixel_array.tolist() == a.pixel_array.tolist()


def test_unchanged_file_is_identical_and_keeps_its_meta() -> None:
    path = _testdata("CT_small.dcm")
    out = io.BytesIO()
    dicomkit.write(dicomkit.read(path), out)
    assert out.getvalue() == Path(path).read_bytes()


def test_fixed_up_input_is_written_in_standard_form() -> None:
    odd = struct.pack("<HH2sH", 0x0010, 0x0020, b"LO", 3) + b"ABC"  # odd length (PS3.5 7.1.1: even)
    dup = _explicit(0x00100030, b"DA", b"19700101")
    junk = b"\x01\x02\x03"
    with pytest.warns(dicomkit.DicomWarning):
        ds = dicomkit.read_dataset(odd + dup + dup + junk)
    assert dicomkit.write_dataset(ds, EXPLICIT) == _explicit(0x00100020, b"LO", b"ABC ") + dup


def test_big_endian_values_swapped_per_vr() -> None:
    ds = _small()
    ds[0x00280106] = DataElement(0x00280106, "US", 0x0102)  # Smallest Image Pixel Value
    ds[0x00189219] = DataElement(0x00189219, "FD", 1.5)
    ds[0x00209165] = DataElement(0x00209165, "AT", (0x00100010,))
    le = dicomkit.write_dataset(ds, EXPLICIT)
    back = dicomkit.read_dataset(le)  # raw values in little endian, swapped on the way out
    be = dicomkit.write_dataset(back, BIG)
    assert _explicit(0x00280106, b"US", b"\x01\x02", little=False) in be
    assert _explicit(0x00189219, b"FD", struct.pack(">d", 1.5), little=False) in be
    assert _explicit(0x00209165, b"AT", b"\x00\x10\x00\x10", little=False) in be
    again = dicomkit.read_dataset(be, transfer_syntax_uid=BIG)
    assert again == back
    assert dicomkit.write_dataset(again, EXPLICIT) == le


def test_ow_swapped_ob_not() -> None:
    ds = _small()
    ds[0x7FE00010] = DataElement(0x7FE00010, "OW", b"\x01\x02\x03\x04")
    ds[0x00091010] = DataElement(0x00091010, "OB", b"\x01\x02\x03\x04")
    back = dicomkit.read_dataset(dicomkit.write_dataset(ds, EXPLICIT))
    be = dicomkit.write_dataset(back, BIG)
    assert _explicit(0x7FE00010, b"OW", b"\x02\x01\x04\x03", little=False) in be
    assert _explicit(0x00091010, b"OB", b"\x01\x02\x03\x04", little=False) in be


def test_implicit_to_explicit_takes_vrs_from_the_dictionary() -> None:
    raw = _implicit(0x00100010, b"Doe^Jane") + _implicit(0x00280010, b"\x02\x00")
    ds = dicomkit.read_dataset(raw, transfer_syntax_uid=IMPLICIT)
    assert dicomkit.write_dataset(ds, EXPLICIT) == _explicit(0x00100010, b"PN", b"Doe^Jane") + _explicit(
        0x00280010, b"US", b"\x02\x00"
    )


def test_encoding_error_names_the_element() -> None:
    ds = _small()
    ds.Rows = 70000  # US holds 0..65535
    with pytest.raises(EncodeError) as info:
        dicomkit.write_dataset(ds, EXPLICIT)
    assert info.value.tag == 0x00280010


# ---------------------------------------------------------------------------------------
# encapsulated pixel data


def test_encapsulate_basic_offset_table() -> None:
    frames = [b"\x01\x02\x03", b"\x04\x05"]
    value = encapsulate(frames)
    expected = (
        b"\xfe\xff\x00\xe0" + struct.pack("<L", 8) + struct.pack("<LL", 0, 12)
        + b"\xfe\xff\x00\xe0" + struct.pack("<L", 4) + b"\x01\x02\x03\x00"
        + b"\xfe\xff\x00\xe0" + struct.pack("<L", 2) + b"\x04\x05"
    )  # fmt: skip
    assert value == expected
    # pydicom agrees on the frames
    from pydicom.encaps import generate_frames

    assert [f.rstrip(b"\0") for f in generate_frames(value, number_of_frames=2)] == [
        b"\x01\x02\x03",
        b"\x04\x05",
    ]
    empty_bot = encapsulate(frames, extended=True)
    assert empty_bot[:8] == b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
    eot, lengths = extended_offsets(frames)
    assert struct.unpack("<2Q", eot) == (0, 12) and struct.unpack("<2Q", lengths) == (3, 2)
    assert len(parse_encapsulated(empty_bot).fragments) == 2


def test_encapsulated_written_with_frames(tmp_path: Path) -> None:
    ds = _small()
    ds.meta = None
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB", [b"\xff\xd8abc", b"\xff\xd8de"], undefined_length=True)
    dest = tmp_path / "e.dcm"
    dicomkit.write(ds, dest, transfer_syntax="1.2.840.10008.1.2.4.50")
    pd = pydicom.dcmread(dest)
    from pydicom.encaps import generate_frames

    frames = list(generate_frames(pd.PixelData, number_of_frames=2))
    assert [f.rstrip(b"\0") for f in frames] == [b"\xff\xd8abc", b"\xff\xd8de"]
    again = io.BytesIO()
    dicomkit.write(dicomkit.read(dest), again)
    assert again.getvalue() == dest.read_bytes()
    with pytest.raises(UnsupportedTransferSyntaxError):
        dicomkit.write(dicomkit.read(dest), io.BytesIO(), transfer_syntax=EXPLICIT)


def test_extended_offset_table_for_big_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomkit.codec import writer

    monkeypatch.setattr(writer, "BOT_LIMIT", 8)  # stands for 4 GiB: offsets past it need the EOT
    ds = _small()
    frames = [b"\xff\xd8abc", b"\xff\xd8de", b"\xff\xd8f"]
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB", frames, undefined_length=True)
    out = io.BytesIO()
    dicomkit.write(ds, out, transfer_syntax="1.2.840.10008.1.2.4.50")
    pd = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert struct.unpack("<3Q", pd.ExtendedOffsetTable) == (0, 14, 26)
    assert struct.unpack("<3Q", pd.ExtendedOffsetTableLengths) == (5, 4, 3)
    assert pd.PixelData[:8] == b"\xfe\xff\x00\xe0\x00\x00\x00\x00"  # empty Basic Offset Table
    from pydicom.encaps import generate_frames

    got = generate_frames(
        pd.PixelData,
        number_of_frames=3,
        extended_offsets=(pd.ExtendedOffsetTable, pd.ExtendedOffsetTableLengths),
    )
    assert list(got) == frames
    assert 0x7FE00001 not in ds  # the caller's data set is not changed


# ---------------------------------------------------------------------------------------
# atomic writes


def test_failed_encoding_leaves_destination_untouched(tmp_path: Path) -> None:
    dest = tmp_path / "f.dcm"
    dicomkit.write(_small(), dest)
    before = dest.read_bytes()
    ds = _small()
    ds.Rows = 70000  # fails after the elements before it were encoded
    with pytest.raises(EncodeError):
        dicomkit.write(ds, dest)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.dcm"]


def test_written_file_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    dest = tmp_path / "mode.dcm"
    dicomkit.write(_small(), dest)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask
    dest.chmod(0o600)
    dicomkit.write(_small(), dest)  # replacing keeps the file's mode
    assert dest.stat().st_mode & 0o777 == 0o600


def test_failed_write_removes_the_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "g.dcm"

    def boom(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk on fire"):
        dicomkit.write(_small(), dest)
    assert list(tmp_path.iterdir()) == []


_KILL_CHILD = textwrap.dedent(
    """
    import sys
    import dicomkit
    from dicomkit.dataset import DataElement
    dest = sys.argv[1]
    n = 0
    while True:
        ds = dicomkit.Dataset()
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.SOPInstanceUID = "1.2.3." + str(n)
        ds[0x7FE00010] = DataElement(0x7FE00010, "OB", bytes([n % 256]) * (8 << 20))
        dicomkit.write(ds, dest)
        n += 1
        print(n, flush=True)
    """
)


def test_sigkill_never_leaves_a_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "k.dcm"
    for round_ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", _KILL_CHILD, str(dest)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None
            child.stdout.readline()  # at least one complete write
            time.sleep(0.05 + 0.07 * round_)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        ds = pydicom.dcmread(dest)  # always a complete file
        assert len(ds.PixelData) == 8 << 20
        assert ds.PixelData[:1] * 16 == ds.PixelData[-16:]
        assert str(ds.SOPInstanceUID).startswith("1.2.3.")


def test_write_to_binary_file_object() -> None:
    out = io.BytesIO()
    dicomkit.write(_small(), out, transfer_syntax=IMPLICIT)
    back = dicomkit.read(out.getvalue())
    assert back.PatientName == "Doe^Jane"
    assert str(back.meta.get(0x00020010)) == IMPLICIT


def test_unknown_transfer_syntax() -> None:
    with pytest.raises(UnsupportedTransferSyntaxError):
        dicomkit.write_dataset(_small(), "1.2.3.4.5")


def test_sequence_items_must_be_datasets() -> None:
    ds = _small()
    ds[0x00082218] = DataElement(0x00082218, "SQ", Sequence())
    ds[0x00082218]._value = ["not a data set"]
    with pytest.raises(EncodeError):
        dicomkit.write_dataset(ds, EXPLICIT)


# ---------------------------------------------------------------------------------------
# in-place rewrite and a property: read(write(ds)) == ds in every transfer syntax


def test_rewrite_in_place_of_a_lazily_read_file(tmp_path: Path) -> None:
    dest = tmp_path / "ct.dcm"
    dest.write_bytes(Path(_testdata("CT_small.dcm")).read_bytes())
    ds = dicomkit.read(dest)  # scanned lazily: the rest is read from the file on demand
    ds.PatientName = "In^Place"
    dicomkit.write(ds, dest)
    pd = pydicom.dcmread(dest)
    assert pd.PatientName == "In^Place"
    assert pd.pixel_array.tolist() == pydicom.dcmread(_testdata("CT_small.dcm")).pixel_array.tolist()


_LEAF = st.sampled_from(
    [
        (0x00100010, "PN", st.sampled_from(["Doe^Jane", "Yamada^Tarou", "A^B^C^D^E", ""])),
        (0x00100020, "LO", st.text("ABCxyz019 -", max_size=64).map(str.strip)),
        (0x00280010, "US", st.integers(0, 0xFFFF)),
        (0x00189087, "FD", st.floats(allow_nan=False, allow_infinity=False)),
        (0x00209165, "AT", st.integers(0, 0xFFFFFFFF)),
        (0x00181063, "DS", st.sampled_from([1.5, -20.0, 325.0])),
        (0x00200013, "IS", st.integers(-(2**31), 2**31 - 1)),
        (0x00189219, "SS", st.integers(-0x8000, 0x7FFF)),
        (0x00186020, "SL", st.integers(-(2**31), 2**31 - 1)),
        (0x00660040, "OL", st.binary(max_size=16).map(lambda b: b[: len(b) // 4 * 4])),
        (0x7FE00010, "OW", st.binary(max_size=32).map(lambda b: b[: len(b) // 2 * 2])),
        (0x00091010, "OB", st.binary(max_size=10).map(lambda b: b[: len(b) // 2 * 2])),
    ]
)


@st.composite
def _datasets(draw: st.DrawFn, depth: int = 0) -> Dataset:
    ds = Dataset()
    for tag, vr, values in draw(st.lists(_LEAF, max_size=6)):
        ds[tag] = DataElement(tag, vr, draw(values))
    if depth < 2 and draw(st.booleans()):
        items = draw(st.lists(_datasets(depth + 1), max_size=2))
        ds[0x00082218] = DataElement(0x00082218, "SQ", Sequence(items))
    return ds


@settings(max_examples=60, deadline=None)
@given(
    ds=_datasets(),
    ts=st.sampled_from([IMPLICIT, EXPLICIT, BIG, DEFLATED]),
    mode=st.sampled_from(["preserve", "defined", "undefined"]),
)
def test_write_read_round_trip(ds: Dataset, ts: str, mode: str) -> None:
    data = dicomkit.write_dataset(ds, ts, sequence_length=mode)  # type: ignore[arg-type]
    back = dicomkit.read_dataset(data, transfer_syntax_uid=ts)
    # bytes set in memory for OW/OL are taken to be in the target byte order (encode_value)
    assert _plain(back) == _plain(ds)  # in-memory bytes: the data set's order (no meta: little)
    # written again from what was read: the same bytes
    assert dicomkit.write_dataset(back, ts, sequence_length=mode) == data  # type: ignore[arg-type]


def _plain(ds: Dataset, little: bool = True) -> dict[int, object]:
    """Values to compare: OW/OL values as numbers (bytes made in memory are in ``little``
    order; bytes read keep their file's), empty values as None."""
    out: dict[int, object] = {}
    for elem in ds:
        v = elem.value
        if elem.VR == "SQ":
            out[elem.tag] = [_plain(item, little) for item in v]
            continue
        if isinstance(v, bytes) and elem.VR in ("OW", "OL"):
            order = getattr(elem._source, "little", True) if elem.raw is not None else little
            fmt, size = ("H", 2) if elem.VR == "OW" else ("L", 4)
            v = struct.unpack(f"{'<' if order else '>'}{len(v) // size}{fmt}", v)
        if isinstance(v, str):
            v = v.rstrip(" ")
        if v in ("", (), b""):
            v = None
        out[elem.tag] = v if not isinstance(v, float) else float(v)
    return out


def test_a_malformed_sop_instance_uid_is_copied_into_the_meta_verbatim(tmp_path: Path) -> None:
    # A file whose SOP Instance UID breaks PS3.5 9.1 (read from elsewhere, kept as raw bytes)
    # is still written: the meta carries the same text, as DCMTK's dcmdump then shows.
    ds = dicomkit.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds[0x00080018] = dicomkit.DataElement(0x00080018, "UI", raw=b"1.2.03.abc\x00")
    out = tmp_path / "bad_uid.dcm"
    dicomkit.write(ds, out)
    back = pydicom.dcmread(out)
    assert back.file_meta.MediaStorageSOPInstanceUID == "1.2.03.abc"
    assert back.SOPInstanceUID == "1.2.03.abc"


# ---------------------------------------------------------------------------------------
# deflate level and compressor; deletions count as changes; encoded_length; validate=False


@pytest.mark.parametrize("backend", ["default", "stdlib"])
@pytest.mark.parametrize("level", [-1, 0, 1, 4, 6, 9])
def test_deflate_levels_give_standard_raw_deflate(
    backend: str, level: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomkit.codec import writer

    if backend == "stdlib":
        monkeypatch.setattr(writer, "_isal_zlib", None)
    ds = _with_sequence()
    ds.ImageComments = "compressible " * 200
    data = dicomkit.write_dataset(ds, DEFLATED, deflate_level=level)
    # the oracle is stdlib zlib's inflater (what every reader, pydicom's included, uses)
    d = zlib.decompressobj(-15)
    assert d.decompress(data) == dicomkit.write_dataset(ds, EXPLICIT)
    assert d.eof and len(data) % 2 == 0
    plain = len(dicomkit.write_dataset(ds, EXPLICIT))
    assert len(data) > plain if level == 0 else len(data) < plain / 4  # stored vs compressed


def test_deflate_level_out_of_range() -> None:
    with pytest.raises(ValueError, match="deflate_level"):
        dicomkit.write_dataset(_small(), DEFLATED, deflate_level=10)


def test_deflated_file_reads_in_pydicom_with_either_compressor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomkit.codec import writer

    src = dicomkit.read(_testdata("CT_small.dcm"))
    for name in ("default", "stdlib"):
        if name == "stdlib":
            monkeypatch.setattr(writer, "_isal_zlib", None)
        dest = tmp_path / f"{name}.dcm"
        dicomkit.write(src, dest, transfer_syntax=DEFLATED)
        back = pydicom.dcmread(dest)
        assert back.file_meta.TransferSyntaxUID == DEFLATED
        assert back.pixel_array.tolist() == pydicom.dcmread(_testdata("CT_small.dcm")).pixel_array.tolist()


def _impl_uid(data: bytes) -> str:
    return str(pydicom.dcmread(io.BytesIO(data)).file_meta.ImplementationClassUID)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_deleting_an_element_counts_as_a_change(name: str, where: str) -> None:
    path = _testdata(name)
    ds = dicomkit.read(path)
    tags = [e.tag for e in ds]
    victim = tags[{"first": 0, "middle": len(tags) // 2, "last": -1}[where]]
    del ds[victim]
    out = io.BytesIO()
    dicomkit.write(ds, out)
    back = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert int(victim) not in back
    # not the original file any more: the meta names the writer (PS3.10 7.1)
    assert back.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert back.file_meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    assert len(back) == len(pydicom.dcmread(path)) - 1


@pytest.mark.parametrize("where", ["first", "last"])
def test_deleting_an_element_inside_an_item_counts_as_a_change(where: str) -> None:
    path = _testdata("rtplan.dcm")
    ds = dicomkit.read(path)
    item = ds.FractionGroupSequence[0]
    tags = [e.tag for e in item]
    victim = tags[0 if where == "first" else -1]
    del item[victim]
    out = io.BytesIO()
    dicomkit.write(ds, out)
    back = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert int(victim) not in back.FractionGroupSequence[0]
    assert back.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID


def test_unchanged_sequences_are_re_emitted_verbatim() -> None:
    # nested items of defined length, read and written again in the same transfer syntax
    path = _testdata("rtplan.dcm")
    ds = dicomkit.read(path)
    assert len(ds.BeamSequence[0].ControlPointSequence) > 0  # decode the nested items
    data = Path(path).read_bytes()
    body = dicomkit.write_dataset(ds, IMPLICIT)
    assert data.endswith(body) and len(body) > len(data) // 2


def _dcmdump_lengths(path: str) -> list[tuple[str, int]]:
    """(tag, length) of every SQ and item of defined length, as DCMTK's dcmdump reports them."""
    out = subprocess.run(["dcmdump", "+L", path], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        s = line.strip()
        if ("SQ (Sequence with explicit" in s or "na (Item with explicit" in s) and "#" in s:
            found.append((s[1:10], int(s.rsplit("#", 1)[1].split(",")[0])))
    return found


def test_encoded_length_matches_dcmdump() -> None:
    from dicomkit.codec.writer import encoded_length

    path = _testdata("rtplan.dcm")
    ds = dicomkit.read(path)
    ours: list[tuple[str, int]] = []

    def walk(d: Dataset) -> None:
        for elem in d:
            if elem.VR == "SQ" and not elem.undefined_length:
                ours.append((f"{elem.tag.group:04x},{elem.tag.element:04x}", encoded_length(elem, IMPLICIT)))
                for item in elem.value:
                    ours.append(("fffe,e000", encoded_length(item, IMPLICIT)))
                    walk(item)

    walk(ds)
    assert ours == _dcmdump_lengths(path) and len(ours) > 10


def test_encoded_length_of_values_made_in_memory() -> None:
    from dicomkit.codec.writer import encoded_length

    # PS3.5 6.2: padded to even length; explicit and implicit give the same value length
    for ts in (EXPLICIT, IMPLICIT):
        assert encoded_length(DataElement(0x00100010, "PN", "Doe^Jane"), ts) == 8
        assert encoded_length(DataElement(0x00100020, "LO", "ABC"), ts) == 4
        assert encoded_length(DataElement(0x00280010, "US", 512), ts) == 2
        assert encoded_length(DataElement(0x7FE00010, "OW", bytes(10)), ts) == 10
    item = Dataset([DataElement(0x00080100, "SH", "T-A0100")])
    # one element: 8-byte header + "T-A0100 " (explicit SH has a 2-byte length: 8 bytes too)
    assert encoded_length(item, EXPLICIT) == 16
    seq = DataElement(0x00082218, "SQ", Sequence([item]))
    assert encoded_length(seq, EXPLICIT) == 8 + 16  # item header + content
    with pytest.raises(EncodeError):
        encoded_length(DataElement(0x00100030, "DA", "2024-01-01"), EXPLICIT)


def test_validate_false_writes_malformed_text_verbatim(tmp_path: Path) -> None:
    ds = _small()
    ds[0x00080020] = DataElement(0x00080020, "DA", "2024-01-01")  # not YYYYMMDD
    ds[0x0020000D] = DataElement(0x0020000D, "UI", "1.2.03.4")  # a leading zero (PS3.5 9.1)
    ds[0x00080030] = DataElement(0x00080030, "TM", "25")
    dest = tmp_path / "bad.dcm"
    with pytest.raises(EncodeError) as exc:
        dicomkit.write(ds, dest)
    assert exc.value.tag is not None and not dest.exists()
    dicomkit.write(ds, dest, validate=False)
    back = pydicom.dcmread(dest)
    assert back.StudyDate == "2024-01-01"
    assert back.StudyInstanceUID == "1.2.03.4"
    assert back.StudyTime == "25"
    assert back.PatientName == "Doe^Jane"  # valid values are encoded as usual


def test_validate_false_allows_a_missing_sop_instance_uid(tmp_path: Path) -> None:
    ds = _small()
    del ds.SOPInstanceUID
    dest = tmp_path / "nosop.dcm"
    with pytest.raises(EncodeError, match="SOP Instance UID"):
        dicomkit.write(ds, dest)
    dicomkit.write(ds, dest, validate=False)
    back = pydicom.dcmread(dest)
    assert back.file_meta.MediaStorageSOPInstanceUID == ""
    assert "SOPInstanceUID" not in back
    assert subprocess.run(["dcmdump", str(dest)], capture_output=True).returncode == 0


def test_an_element_built_from_raw_bytes_is_written_as_is() -> None:
    raw = b"2024-1-1"  # malformed DA, even length
    ds = Dataset([DataElement(0x00080020, "DA", raw=raw)])
    assert dicomkit.write_dataset(ds, EXPLICIT) == _explicit(0x00080020, b"DA", raw)
    assert dicomkit.write_dataset(ds, IMPLICIT) == _implicit(0x00080020, raw)


def test_unchanged_deflated_file_keeps_its_data_set_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # the compressed stream depends on the compressor; the inflated data set must not
    from dicomkit.codec import writer

    path = _testdata("image_dfl.dcm")
    data = Path(path).read_bytes()
    start = 132 + 12 + struct.unpack_from("<L", data, 140)[0]  # after the meta (PS3.10 7.1)
    original = zlib.decompressobj(-15).decompress(data[start:])
    for isal in ("default", "stdlib"):
        if isal == "stdlib":
            monkeypatch.setattr(writer, "_isal_zlib", None)
        out = io.BytesIO()
        dicomkit.write(dicomkit.read(path), out)
        written = out.getvalue()
        assert written[:start] == data[:start]  # preamble and meta as read
        assert zlib.decompressobj(-15).decompress(written[start:]) == original


@pytest.mark.parametrize("level", ["1", "9"])
def test_unchanged_deflated_file_keeps_its_deflate_stream(tmp_path: Path, level: str) -> None:
    # DCMTK's dcmconv compresses with zlib at the level asked; an untouched data set written back
    # in the same syntax must keep that stream (whatever compressor dicomkit would use itself),
    # padded to even length as PS3.5 A.5 asks; an edited one is recompressed and still reads.
    dcmconv = __import__("shutil").which("dcmconv")
    if dcmconv is None:
        pytest.skip("DCMTK's dcmconv is not installed (make test installs it)")
    src = tmp_path / "in.dcm"
    subprocess.run(
        [dcmconv, "+td", "+cl", level, pydicom.data.get_testdata_file("CT_small.dcm"), str(src)],
        check=True,
        capture_output=True,
    )
    original = src.read_bytes()
    out = tmp_path / "out.dcm"
    dicomkit.write(dicomkit.read(src), out)
    assert out.read_bytes() == original + b"\0" * (len(original) & 1)

    ds = dicomkit.read(src)
    ds.PatientName = "Edited^Name"
    dicomkit.write(ds, out)
    edited = pydicom.dcmread(out)
    assert str(edited.PatientName) == "Edited^Name"
    assert edited.pixel_array.tobytes() == pydicom.dcmread(src).pixel_array.tobytes()


@pytest.mark.parametrize(
    ("memory_ts", "target_ts"),
    [
        ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"),
        ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1"),
        (None, "1.2.840.10008.1.2.2"),
        ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2.2"),
    ],
)
def test_in_memory_binary_bytes_are_in_the_data_sets_byte_order(
    tmp_path: Path, memory_ts: str | None, target_ts: str
) -> None:
    # OW/OF bytes set in memory are in the data set's own byte order (its meta's transfer syntax,
    # little endian without meta) and are swapped when written in the other one: pydicom, which
    # knows nothing of dicomkit, must read the numbers that were meant.
    memory_little = memory_ts != "1.2.840.10008.1.2.2"
    order = "<" if memory_little else ">"
    words = [1, 256, 257, 513, 65535, 4096]
    floats = [1.5, -2.25]
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 2, 3, 16, 16, 15
    ds.SamplesPerPixel, ds.PixelRepresentation, ds.PhotometricInterpretation = 1, 0, "MONOCHROME2"
    ds.PixelData = struct.pack(f"{order}6H", *words)
    ds[0x00640009] = DataElement(0x00640009, "OF", struct.pack(f"{order}2f", *floats))
    if memory_ts is not None:
        ds.meta = Dataset()
        ds.meta.TransferSyntaxUID = memory_ts
    out = tmp_path / "out.dcm"
    dicomkit.write(ds, out, transfer_syntax=target_ts)
    theirs = pydicom.dcmread(out)
    assert theirs.pixel_array.ravel().tolist() == words
    target_order = "<" if target_ts != "1.2.840.10008.1.2.2" else ">"
    assert list(struct.unpack(f"{target_order}2f", theirs[0x00640009].value)) == floats
