"""Building data sets from scratch: keyword setting with dictionary VRs (ambiguous ones
resolved), sequences, deletion, private blocks (pydicom's ``private_block`` as the oracle for
the creator slot rules) and ``generate_uid``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomkit import DataElement, Dataset, KeywordError, Sequence, read_dataset
from dicomkit.codec.values import encode_value
from dicomkit.dataset import PrivateBlock
from dicomkit.tag import Tag
from dicomkit.uid import DICOMKIT_ROOT, generate_uid, is_valid_uid

# -- keyword setting ---------------------------------------------------------------------------


def test_keyword_setting_takes_dictionary_vr() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.Rows = 512
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PixelSpacing = [0.5, 0.5]
    assert ds["PatientName"].VR == "PN"
    assert ds["Rows"].VR == "US"
    assert ds.ImageType == ("ORIGINAL", "PRIMARY")
    assert ds["PixelSpacing"].VR == "DS"
    assert ds.PixelSpacing == (0.5, 0.5)
    ds.ImageType = ["DERIVED"]  # replacing a value: lists become tuples too
    assert ds.ImageType == ("DERIVED",)
    assert [e.keyword for e in ds] == ["ImageType", "PatientName", "Rows", "PixelSpacing"]


def test_unknown_keyword_raises() -> None:
    ds = Dataset()
    with pytest.raises(AttributeError, match="PatientName"):
        ds.PatientNam = "x"


@pytest.mark.parametrize(
    ("setup", "value", "vr"),
    [
        ({}, 5, "US"),
        ({}, -5, "SS"),
        ({}, [1, -1], "SS"),
        ({"PixelRepresentation": 1}, 5, "SS"),
        ({"PixelRepresentation": 0}, 5, "US"),
        ({"PixelRepresentation": 0}, -5, "SS"),
        ({}, None, "US"),
    ],
)
def test_us_or_ss(setup: dict[str, Any], value: Any, vr: str) -> None:
    ds = Dataset()
    for k, v in setup.items():
        setattr(ds, k, v)
    ds.SmallestImagePixelValue = value
    got = ds["SmallestImagePixelValue"].VR
    assert got == vr
    if value is not None:
        encode_value(0x00280106, vr, ds.SmallestImagePixelValue, little=True, charset=None)


@pytest.mark.parametrize(
    ("bits", "vr"), [(None, "OB"), (1, "OB"), (8, "OB"), (12, "OW"), (16, "OW"), (32, "OW")]
)
def test_pixel_data_ob_or_ow(bits: int | None, vr: str) -> None:
    ds = Dataset()
    if bits is not None:
        ds.BitsAllocated = bits
    ds.PixelData = b"\0" * 8
    got = ds["PixelData"].VR
    assert got == vr


def test_other_ambiguous_vrs() -> None:
    ds = Dataset()
    ds.OverlayData = b"\0\0"
    assert ds["OverlayData"].VR == "OW"
    ds.LUTData = b"\0\0"
    assert ds["LUTData"].VR == "OW"
    ds2 = Dataset()
    ds2.LUTData = [1, 2, 3]
    assert ds2["LUTData"].VR == "US" and ds2.LUTData == (1, 2, 3)


def test_nested_sequences() -> None:
    item = Dataset()
    item.CodeValue = "T-A0100"
    inner = Dataset()
    inner.CodeMeaning = "Brain"
    item.ConceptCodeSequence = [inner]
    ds = Dataset()
    ds.AnatomicRegionSequence = [item, Dataset()]
    seq = ds.AnatomicRegionSequence
    assert isinstance(seq, Sequence) and len(seq) == 2
    assert ds["AnatomicRegionSequence"].VR == "SQ"
    assert seq[0].ConceptCodeSequence[0].CodeMeaning == "Brain"
    ds.AnatomicRegionSequence = [Dataset()]  # replacing keeps a Sequence
    assert isinstance(ds.AnatomicRegionSequence, Sequence) and len(ds.AnatomicRegionSequence) == 1
    ds.AnatomicRegionSequence = (item,)
    assert isinstance(ds.AnatomicRegionSequence, Sequence)
    ds["AnatomicRegionSequence"].value = [Dataset(), Dataset()]  # the element setter too
    assert isinstance(ds.AnatomicRegionSequence, Sequence) and len(ds.AnatomicRegionSequence) == 2
    ds.ReferencedImageSequence = Sequence()
    assert ds.ReferencedImageSequence == Sequence()
    ds.ReferencedSeriesSequence = None
    assert ds.ReferencedSeriesSequence == Sequence()
    with pytest.raises(TypeError, match="Datasets"):
        ds.ReferencedStudySequence = ["not a data set"]
    with pytest.raises(TypeError, match="Datasets"):
        ds.AnatomicRegionSequence = "x"


def test_deleting() -> None:
    ds = Dataset()
    ds.PatientName = "A"
    ds.PatientID = "1"
    ds.StudyDate = "20240101"
    del ds.PatientName
    assert "PatientName" not in ds
    del ds["PatientID"]
    del ds[0x00080020]
    assert len(ds) == 0
    with pytest.raises(AttributeError):
        del ds.PatientName
    with pytest.raises(KeyError):
        del ds[0x00100010]


def test_built_values_encode() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientBirthDate = "19700101"
    ds.Rows = 4
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.WindowCenter = 40.0
    ds.SOPInstanceUID = generate_uid()
    for elem in ds:
        raw = encode_value(elem.tag, elem.VR, elem.value, little=True, charset=None)
        assert len(raw) % 2 == 0


# -- private blocks ----------------------------------------------------------------------------


def test_private_block_create_and_use() -> None:
    ds = Dataset()
    block = ds.private_block(0x0009, "ACME 1.0", create=True)
    assert isinstance(block, PrivateBlock)
    assert block.block == 0x10 and block.group == 0x0009
    assert ds[0x00090010].VR == "LO" and ds[0x00090010].value == "ACME 1.0"
    elem = block.add(0x01, "LO", "hello")
    assert elem.tag == Tag(0x00091001) and block.tag(0x01) == 0x00091001
    assert block[0x01].value == "hello" and ds[0x00091001].VR == "LO"
    assert 0x01 in block and 0x02 not in block and "x" not in block
    block[0x01] = "changed"
    assert ds[0x00091001].value == "changed"
    block.add(0x02, "US", [1, 2])
    assert ds[0x00091002].value == (1, 2)
    assert [e.tag for e in block] == [0x00091001, 0x00091002]
    with pytest.raises(KeywordError, match="explicit VR"):
        block[0x03] = "no VR"
    block[0x03] = DataElement(0x00091003, "SH", "x")
    del block[0x03]
    assert 0x03 not in block

    other = ds.private_block(0x0009, "OTHER", create=True)
    assert other.block == 0x11 and other.tag(0xFF) == 0x000911FF
    again = ds.private_block(0x0009, "ACME 1.0")
    assert again.block == 0x10 and again[0x01].value == "changed"
    assert ds.private_creators(0x0009) == ["ACME 1.0", "OTHER"]
    assert "ACME" in repr(block)


def test_private_block_errors() -> None:
    ds = Dataset()
    with pytest.raises(KeyError):
        ds.private_block(0x0009, "ACME")
    with pytest.raises(ValueError, match="private"):
        ds.private_block(0x0010, "ACME", create=True)
    with pytest.raises(ValueError):
        ds.private_block(0x0001, "ACME", create=True)
    with pytest.raises(ValueError):
        ds.private_block(0x0009, "", create=True)
    with pytest.raises(ValueError):
        ds.private_block(0x0009, "A\\B", create=True)
    block = ds.private_block(0x0009, "ACME", create=True)
    with pytest.raises(ValueError):
        block.tag(0x100)
    with pytest.raises(ValueError):
        block.add(-1, "LO", "x")
    for i in range(0x11, 0x100):
        ds[0x00090000 | i] = DataElement(0x00090000 | i, "LO", f"C{i}")
    with pytest.raises(ValueError, match="no free"):
        ds.private_block(0x0009, "FULL", create=True)
    assert ds.private_block(0x0009, "C255").block == 0xFF


def test_private_creator_with_padding_is_found() -> None:
    ds = Dataset()
    ds[0x00290010] = DataElement(0x00290010, "LO", "SIEMENS CSA HEADER ")
    assert ds.private_block(0x0029, "SIEMENS CSA HEADER").block == 0x10


def _pydicom_slot(occupied: dict[int, str], creator: str, create: bool) -> int | None:
    import pydicom

    pds = pydicom.Dataset()
    for slot, value in occupied.items():
        pds.add_new((0x0011 << 16) | slot, "LO", value)
    try:
        return int(pds.private_block(0x0011, creator, create=create).block_start >> 8)
    except KeyError:
        return None


@settings(max_examples=150, deadline=None)
@given(
    occupied=st.dictionaries(st.integers(0x10, 0x30), st.sampled_from(["A", "B", "C", "D"]), max_size=12),
    creator=st.sampled_from(["A", "B", "E"]),
    create=st.booleans(),
)
def test_private_slots_match_pydicom(occupied: dict[int, str], creator: str, create: bool) -> None:
    ds = Dataset()
    for slot, value in occupied.items():
        ds[(0x0011 << 16) | slot] = DataElement((0x0011 << 16) | slot, "LO", value)
    expected = _pydicom_slot(occupied, creator, create)
    try:
        got: int | None = ds.private_block(0x0011, creator, create=create).block
    except KeyError:
        got = None
    assert got == expected
    if got is not None and create:
        assert ds[(0x0011 << 16) | got].value == creator


def test_private_block_on_read_data_set() -> None:
    import pydicom
    from pydicom.filebase import DicomBytesIO

    pds = pydicom.Dataset()
    pds.PatientName = "X"
    pds.private_block(0x0019, "ONE", create=True).add_new(0x01, "LO", "first")
    pds.private_block(0x0019, "TWO", create=True).add_new(0x05, "US", 7)
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    pydicom.filewriter.write_dataset(fp, pds)  # explicit VR little endian, no meta
    ds = read_dataset(fp.getvalue())
    two = ds.private_block(0x0019, "TWO")
    assert two.block == 0x11 and 0x05 in two
    assert ds.private_block(0x0019, "ONE")[0x01].value == "first"
    assert ds.private_block(0x0019, "THREE", create=True).block == 0x12


# -- generate_uid ----------------------------------------------------------------------------------


def test_generate_uid() -> None:
    uids = {generate_uid() for _ in range(10_000)}
    assert len(uids) == 10_000
    for uid in list(uids)[:500]:
        assert uid.startswith(DICOMKIT_ROOT) and is_valid_uid(uid) and len(uid) <= 64
        encode_value(0x00080018, "UI", uid, little=True, charset=None)
    plain = {generate_uid(prefix=None) for _ in range(10_000)}
    assert len(plain) == 10_000
    for uid in plain:
        assert uid.startswith("2.25.") and is_valid_uid(uid)
        assert int(uid[5:]) < 2**128
    custom = generate_uid(prefix="1.2.3.")
    assert custom.startswith("1.2.3.") and is_valid_uid(custom)
    with pytest.raises(ValueError):
        generate_uid(prefix="1.2.3")
    with pytest.raises(ValueError):
        generate_uid(prefix="1.02.")
