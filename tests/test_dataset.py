"""The data set API: keyword, tag and key access, iteration, nesting, setting, deleting, equality.

Files are pydicom's test files; expected values come from pydicom's reading of the same file
(or from the PS3.6 dictionary through pydicom's ``datadict``), never from dicomkit itself.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from dicomkit import DataElement, Dataset, KeywordError, Sequence, Tag, tags
from dicomkit.dataset import Dataset as DatasetClass

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.datadict import dictionary_VR  # noqa: E402


def data_file(name: str) -> Path:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return Path(str(path))


@pytest.fixture(scope="module")
def ct() -> tuple[Dataset, Any]:
    path = data_file("CT_small.dcm")
    return dicomkit.read(path), pydicom.dcmread(path)


@pytest.fixture(scope="module")
def rtplan() -> tuple[Dataset, Any]:
    path = data_file("rtplan.dcm")
    return dicomkit.read(path), pydicom.dcmread(path)


def explicit_le(tag: int, vr: str, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\x00" if vr == "UI" else b" "
    if vr in {"OB", "OW", "SQ", "UN", "UT", "UC", "UR"}:
        return struct.pack("<HH2s2xL", tag >> 16, tag & 0xFFFF, vr.encode(), len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(value)) + value


# --------------------------------------------------------------------------------------------
# access
# --------------------------------------------------------------------------------------------


def test_every_key_form_finds_the_same_element(ct: tuple[Dataset, Any]) -> None:
    ds, ref = ct
    expected = str(ref.PatientName)
    assert ds.PatientName == expected
    forms: list[Any] = [
        "PatientName",
        0x00100010,
        Tag(0x0010, 0x0010),
        Tag(0x00100010),
        tags.PatientName,
        (0x0010, 0x0010),
        "(0010,0010)",
        "00100010",
    ]
    for key in forms:
        elem = ds[key]
        assert isinstance(elem, DataElement)
        assert elem.tag == 0x00100010 and elem.VR == "PN", key
        assert elem.value == expected, key
        assert elem.keyword == "PatientName"
        assert key in ds
        assert ds.get(key) == expected


def test_values_equal_pydicom_for_every_keyword(ct: tuple[Dataset, Any]) -> None:
    ds, ref = ct
    checked = 0
    for elem in ref:
        if not elem.keyword or elem.VR in ("SQ", "OB", "OW", "UN"):
            continue
        got = getattr(ds, elem.keyword)
        want = elem.value
        if isinstance(want, pydicom.multival.MultiValue):
            assert list(got) == list(want), elem.keyword
        elif want in ("", None):
            assert got in ("", None, ()), elem.keyword
        elif isinstance(got, tuple):  # VM 1-n with one value: dicomkit keeps a tuple
            assert got == (want,), elem.keyword
        else:
            assert got == want, elem.keyword
        checked += 1
    assert checked > 50


def test_contains_len_and_keys(ct: tuple[Dataset, Any]) -> None:
    ds, ref = ct
    assert len(ds) == len(ref)
    assert ds.keys() == sorted(ref.keys())
    assert "PatientName" in ds
    assert 0x7FE00010 in ds
    assert "PatientNme" not in ds  # unknown keyword: not an error for `in`
    assert "PatientMotherBirthName" not in ds  # a keyword the file does not have
    assert 0x00100011 not in ds
    assert 3.5 not in ds
    assert ds.get("PatientMotherBirthName") is None
    assert ds.get("PatientMotherBirthName", "dflt") == "dflt"
    assert ds.get("PatientNme", "dflt") == "dflt"
    assert ds.element("PatientMotherBirthName") is None
    assert ds.element("PatientName") is ds["PatientName"]
    assert "PatientName" in dir(ds)


def test_iteration_in_tag_order_even_when_the_file_is_not() -> None:
    elems = [
        (0x00200010, "SH", b"STUDY1"),
        (0x00100020, "LO", b"ID-1"),
        (0x00100010, "PN", b"Doe^John"),
        (0x00080060, "CS", b"CT"),
        (0x00080020, "DA", b"20240102"),
    ]
    data = b"".join(explicit_le(*e) for e in elems)
    ds = dicomkit.read_dataset(data)
    ref = pydicom.filereader.read_dataset(io.BytesIO(data), False, True)
    assert [e.tag for e in ds] == sorted(ref.keys()) == sorted(t for t, _, _ in elems)
    assert [e.tag for e in ds] == ds.keys()
    assert len(ds) == 5
    assert ds.StudyID == ref.StudyID and ds.PatientName == ref.PatientName
    # a data set built in memory out of order also iterates in order
    mem = Dataset(DataElement(t, vr, v.decode()) for t, vr, v in elems)
    assert [e.tag for e in mem] == sorted(t for t, _, _ in elems)
    mem.AccessionNumber = "A1"  # (0008,0050) lands between existing tags
    assert mem.keys() == sorted([*(t for t, _, _ in elems), 0x00080050])


def test_nested_access(rtplan: tuple[Dataset, Any]) -> None:
    ds, ref = rtplan
    beam, rbeam = ds.BeamSequence[0], ref.BeamSequence[0]
    assert isinstance(ds.BeamSequence, Sequence)
    assert len(ds.BeamSequence) == len(ref.BeamSequence)
    assert beam.BeamName == rbeam.BeamName
    cp, rcp = beam.ControlPointSequence[0], rbeam.ControlPointSequence[0]
    assert cp.ReferencedDoseReferenceSequence[0].CumulativeDoseReferenceCoefficient == (
        rcp.ReferencedDoseReferenceSequence[0].CumulativeDoseReferenceCoefficient
    )
    assert ds["BeamSequence"].value[0]["ControlPointSequence"].value[0][0x300A011E].value == (rcp.GantryAngle)
    assert ds.FractionGroupSequence[0].ReferencedBeamSequence[0].ReferencedBeamNumber == (
        ref.FractionGroupSequence[0].ReferencedBeamSequence[0].ReferencedBeamNumber
    )
    assert isinstance(beam, DatasetClass)
    with pytest.raises(AttributeError):
        _ = beam.PatientName  # items are data sets of their own


def test_referenced_series_sequence_in_un_sequence() -> None:
    path = data_file("UN_sequence.dcm")
    ds, ref = dicomkit.read(path), pydicom.dcmread(path)
    outer, router = ds[0x4453100C].value[0], ref[0x4453100C].value[0]
    assert outer.StudyInstanceUID == router.StudyInstanceUID
    assert outer.ReferencedSeriesSequence[0].SeriesInstanceUID == (
        router.ReferencedSeriesSequence[0].SeriesInstanceUID
    )
    assert outer.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == (
        router.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    )


# --------------------------------------------------------------------------------------------
# unknown and missing
# --------------------------------------------------------------------------------------------


def test_unknown_keyword_attribute_suggests(ct: tuple[Dataset, Any]) -> None:
    ds, _ = ct
    with pytest.raises(AttributeError, match=r"did you mean .*'PatientName'"):
        _ = ds.PatientNme
    with pytest.raises(AttributeError, match="did you mean"):
        ds.PatientNme = "x"
    with pytest.raises(AttributeError):
        del ds.PatientNme
    with pytest.raises(AttributeError):
        _ = ds.not_a_keyword


def test_unknown_keyword_item_raises_keyword_error(ct: tuple[Dataset, Any]) -> None:
    ds, _ = ct
    with pytest.raises(KeywordError, match=r"did you mean .*'PatientName'") as exc:
        _ = ds["PatientNme"]
    assert isinstance(exc.value, KeyError)
    with pytest.raises(KeywordError):
        _ = ds["(0010,00ZZ)"]
    with pytest.raises(TypeError):
        _ = ds[3.5]


def test_missing_element() -> None:
    ds = Dataset()
    with pytest.raises(AttributeError, match="PatientName"):
        _ = ds.PatientName
    with pytest.raises(KeyError) as exc:
        _ = ds["PatientName"]
    assert not isinstance(exc.value, KeywordError)  # a known keyword, just absent
    with pytest.raises(KeyError):
        _ = ds[0x00100010]
    with pytest.raises(AttributeError):
        del ds.PatientName
    with pytest.raises(KeyError):
        del ds[0x00100010]


# --------------------------------------------------------------------------------------------
# setting and deleting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("PatientName", "Doe^John"),
        ("PatientID", "ID1"),
        ("StudyDate", "20240102"),
        ("Modality", "MR"),
        ("Rows", 512),
        ("SliceThickness", 1.25),
        ("InstanceNumber", 3),
        ("ImageType", ["ORIGINAL", "PRIMARY"]),
        ("SOPInstanceUID", "1.2.3"),
        ("FrameIncrementPointer", [Tag(0x00181063)]),
        ("RescaleSlope", 2.0),
    ],
)
def test_setting_by_keyword_takes_the_vr_from_the_dictionary(keyword: str, value: Any) -> None:
    ds = Dataset()
    setattr(ds, keyword, value)
    elem = ds[keyword]
    assert str(elem.VR) == dictionary_VR(keyword)  # PS3.6 via pydicom's dictionary
    expected = tuple(value) if isinstance(value, list) else value
    assert getattr(ds, keyword) == expected
    assert keyword in ds and len(ds) == 1


def test_setting_ambiguous_and_sequence_elements() -> None:
    ds = Dataset()
    ds.SmallestImagePixelValue = 0  # "US or SS"
    assert ds["SmallestImagePixelValue"].VR in dictionary_VR("SmallestImagePixelValue").split(" or ")
    item = Dataset()
    item.SeriesInstanceUID = "1.2.3.4"
    ds.ReferencedSeriesSequence = [item]
    assert ds["ReferencedSeriesSequence"].VR == "SQ"
    assert isinstance(ds.ReferencedSeriesSequence, Sequence)
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == "1.2.3.4"


def test_replace_and_delete_values_of_a_read_data_set(ct: tuple[Dataset, Any]) -> None:
    path = data_file("CT_small.dcm")
    ds = dicomkit.read(path)
    n = len(ds)
    vr = ds["PatientName"].VR
    assert ds["PatientName"].raw is not None
    ds.PatientName = "Roe^Jane"
    assert ds.PatientName == "Roe^Jane" and str(ds["PatientName"].VR) == vr
    assert ds["PatientName"].raw is None  # the value no longer comes from the file
    assert len(ds) == n
    del ds.PatientName
    assert "PatientName" not in ds and len(ds) == n - 1
    del ds["PatientID"]
    del ds[0x00080060]
    del ds[Tag(0x0008, 0x0070)]
    assert len(ds) == n - 4
    for key in ("PatientID", "Modality", "Manufacturer"):
        assert key not in ds
        with pytest.raises(AttributeError):
            getattr(ds, key)
    # the module-scoped, untouched read is unaffected
    assert ct[0].PatientName == str(ct[1].PatientName)


def test_setitem_checks() -> None:
    ds = Dataset()
    ds[0x00100010] = DataElement(0x00100010, "PN", "Doe^John")
    assert ds.PatientName == "Doe^John"
    ds.PatientID = DataElement(0x00100020, "LO", "X")
    assert ds.PatientID == "X"
    with pytest.raises(KeywordError):
        ds[0x00100020] = DataElement(0x00100010, "PN", "A^B")
    with pytest.raises(TypeError):
        ds["PatientName"] = "Doe^John"  # type: ignore[assignment]
    ds.preamble = b"\x00" * 128  # own attributes, not data elements
    assert ds.preamble == b"\x00" * 128 and len(ds) == 2


# --------------------------------------------------------------------------------------------
# equality, copies, element properties
# --------------------------------------------------------------------------------------------


def test_equality() -> None:
    path = data_file("CT_small.dcm")
    a, b = dicomkit.read(path), dicomkit.read(path.read_bytes())
    assert a == b
    assert a != dicomkit.read(data_file("MR_small.dcm"))
    b.PatientName = "Someone^Else"
    assert a != b
    assert a != "not a data set"
    mem1 = Dataset([DataElement(0x00100010, "PN", "Doe^John"), DataElement(0x00100020, "LO", "1")])
    mem2 = Dataset()
    mem2.PatientID = "1"
    mem2.PatientName = "Doe^John"
    assert mem1 == mem2
    mem2.PatientID = "2"
    assert mem1 != mem2
    del mem2.PatientID
    assert mem1 != mem2
    assert DataElement(0x00100010, "PN", "A") == DataElement(0x00100010, "PN", "A")
    assert DataElement(0x00100010, "PN", "A") != DataElement(0x00100010, "LO", "A")
    assert DataElement(0x00100010, "PN", "A") != DataElement(0x00100010, "PN", "B")


def test_copy_is_shallow_and_keeps_meta() -> None:
    ds = dicomkit.read(data_file("CT_small.dcm"))
    cp = ds.copy()
    assert cp == ds and cp is not ds
    assert cp.meta is ds.meta
    del cp.PatientName
    assert "PatientName" in ds and "PatientName" not in cp


def test_element_properties_match_pydicom() -> None:
    for name in ("CT_small.dcm", "rtplan.dcm", "MR_small.dcm"):
        path = data_file(name)
        ds, ref = dicomkit.read(path), pydicom.dcmread(path)
        for elem in ds:
            r = ref[elem.tag]
            assert elem.VM == r.VM, (name, elem.tag)
            assert elem.is_private == r.tag.is_private, (name, elem.tag)
            if not elem.is_private:
                assert elem.name == r.name, (name, elem.tag)
                assert elem.keyword == r.keyword, (name, elem.tag)


def test_raw_is_the_value_bytes_from_the_file() -> None:
    path = data_file("CT_small.dcm")
    ds = dicomkit.read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pydicom.dcmread(path)
    for tag in (0x00100010, 0x00080060, 0x00280010, 0x00200032):
        # pydicom keeps the undecoded bytes in its RawDataElement
        assert ds[tag].raw == ref.get_item(tag).value, Tag(tag)
        assert not ds[tag].is_decoded
        _ = ds[tag].value
        assert ds[tag].is_decoded
    assert ds.meta is not None and isinstance(ds.meta, DatasetClass)
