"""Matching real files: pydicom's test files read by dicomkit and turned into DICOM JSON records
with dicomkit.codec.json.to_json_dict; the expected attribute values come from pydicom reading the
same files, the expected match results from PS3.4 C.2.2.2. Query.match_dataset on the data set
must agree with Query.matches on its JSON record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file

import dicomkit
from dicomkit import Dataset
from dicomkit.codec.json import to_json_dict
from dicomkit.model import Query

FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "rtplan.dcm",
    "emri_small.dcm",
    "waveform_ecg.dcm",
    "liver.dcm",
    "SC_rgb.dcm",
    "JPEG2000.dcm",
]
CHARSET_FILES = ["chrH31.dcm", "chrX1.dcm", "chrFren.dcm", "chrGerm.dcm"]


def _path(name: str) -> str:
    path = get_testdata_file(name) if name in FILES else get_charset_files(name)[0]
    assert path is not None, name
    return str(path)


def _load(name: str) -> tuple[Dataset, dict[str, Any], pydicom.Dataset]:
    path = _path(name)
    ds = dicomkit.read(path, stop_before_pixels=True)
    return ds, to_json_dict(ds), pydicom.dcmread(path, stop_before_pixels=True)


def _check(level: str, params: dict[str, str], ds: Dataset, record: dict[str, Any], **kw: Any) -> bool:
    q = Query.from_params(level, params, **kw)
    result = q.matches(record)
    assert q.match_dataset(ds) is result
    return result


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


@pytest.mark.parametrize("name", FILES + CHARSET_FILES)
def test_patient_name(name: str) -> None:
    ds, record, ref = _load(name)
    name_text = str(ref.get("PatientName") or "")
    if not name_text:
        assert _check("study", {"PatientName": '""'}, ds, record)
        return
    assert _check("study", {"PatientName": name_text}, ds, record)
    assert not _check("study", {"PatientName": name_text + "X"}, ds, record)
    assert _check("study", {"PatientName": name_text[:3] + "*"}, ds, record)
    assert not _check("study", {"PatientName": '""'}, ds, record)
    groups = name_text.split("=")
    for group in groups:  # each component group alone matches (docs/query.md)
        if group:
            assert _check("study", {"PatientName": group}, ds, record)
    family = ref.PatientName.family_name
    assert _check("study", {"PatientName": family.swapcase()}, ds, record, fuzzy=True)


@pytest.mark.parametrize("name", FILES)
def test_study_date_and_time(name: str) -> None:
    ds, record, ref = _load(name)
    day = _date(ref.StudyDate)
    one = dt.timedelta(days=1)
    assert _check("study", {"StudyDate": f"{day - one:%Y%m%d}-{day + one:%Y%m%d}"}, ds, record)
    assert _check("study", {"StudyDate": f"{day:%Y%m%d}"}, ds, record)
    assert _check("study", {"StudyDate": f"-{day:%Y%m%d}"}, ds, record)
    assert not _check("study", {"StudyDate": f"{day + one:%Y%m%d}-"}, ds, record)
    assert not _check("study", {"StudyDate": f"-{day - one:%Y%m%d}"}, ds, record)
    hour = int(ref.StudyTime[:2])
    assert _check("study", {"StudyTime": f"{hour:02d}"}, ds, record)
    assert not _check("study", {"StudyTime": f"{(hour + 1) % 24:02d}"}, ds, record)


@pytest.mark.parametrize("name", FILES)
def test_uids_modality_and_numbers(name: str) -> None:
    ds, record, ref = _load(name)
    study_uid = ref.StudyInstanceUID
    assert _check("study", {"StudyInstanceUID": f"1.2.3,{study_uid}"}, ds, record)
    assert not _check("study", {"StudyInstanceUID": "1.2.3,1.2.4"}, ds, record)
    assert _check("series", {"Modality": ref.Modality}, ds, record)
    assert not _check("series", {"Modality": ref.Modality + "X"}, ds, record)
    if "SeriesNumber" in ref and ref.SeriesNumber is not None:
        assert _check("series", {"SeriesNumber": f"0{int(ref.SeriesNumber)}"}, ds, record)
        assert not _check("series", {"SeriesNumber": f"{int(ref.SeriesNumber) + 1}"}, ds, record)
    assert _check(
        "instance", {"SOPClassUID": ref.SOPClassUID, "SOPInstanceUID": ref.SOPInstanceUID}, ds, record
    )


@pytest.mark.parametrize(
    "name", [n for n in FILES if "ImageType" in pydicom.dcmread(_path(n), stop_before_pixels=True)]
)
def test_multi_valued_image_type(name: str) -> None:
    ds, record, ref = _load(name)
    for value in ref.ImageType:
        assert _check("instance", {"ImageType": value}, ds, record)
    assert not _check("instance", {"ImageType": "NOT_THERE"}, ds, record)


def test_decimal_string_matched_numerically() -> None:
    ds, record, ref = _load("CT_small.dcm")
    assert str(ref.SliceThickness) == "5.000000"
    assert _check("instance", {"SliceThickness": "5"}, ds, record)
    assert not _check("instance", {"SliceThickness": "5.5"}, ds, record)


@pytest.mark.parametrize("name", ["emri_small.dcm", "waveform_ecg.dcm"])
def test_acquisition_datetime(name: str) -> None:
    ds, record, ref = _load(name)
    when = pydicom.valuerep.DT(ref.AcquisitionDateTime)
    second = dt.timedelta(seconds=1)
    low, high = (when - second).strftime("%Y%m%d%H%M%S"), (when + second).strftime("%Y%m%d%H%M%S")
    assert _check("instance", {"AcquisitionDateTime": f"{low}-{high}"}, ds, record)
    assert _check("instance", {"AcquisitionDateTime": f"{when:%Y%m%d}"}, ds, record)
    assert not _check("instance", {"AcquisitionDateTime": f"{high}-"}, ds, record)


def test_sequence_on_rt_plan() -> None:
    ds, record, ref = _load("rtplan.dcm")
    beam = ref.BeamSequence[0]
    good = {"BeamSequence.BeamName": beam.BeamName, "BeamSequence.BeamType": beam.BeamType}
    assert _check("instance", good, ds, record)
    assert _check("instance", {"BeamSequence.BeamNumber": str(beam.BeamNumber)}, ds, record)
    assert not _check("instance", {**good, "BeamSequence.BeamType": "DYNAMIC"}, ds, record)
    assert not _check("instance", {"BeamSequence.BeamName": beam.BeamName + "X"}, ds, record)


@pytest.mark.parametrize("name", CHARSET_FILES)
def test_identifier_from_a_file_matches_that_file(name: str) -> None:
    """A C-FIND identifier made of the file's own (charset-decoded) PatientName element."""
    ds, record, ref = _load(name)
    identifier = Dataset([ds["SpecificCharacterSet"], ds["PatientName"]])
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ""
    q = Query.from_identifier(identifier)
    assert [c.keyword for c in q.conditions] == ["PatientName"]
    assert q.conditions[0].values == (str(ref.PatientName),)
    assert q.matches(record) and q.match_dataset(ds)
    response = q.response(record)
    assert response["00100010"] == record["00100010"]
    assert response["00080005"] == record["00080005"]
    assert response["00080052"] == {"vr": "CS", "Value": ["STUDY"]}


def _wire_identifier(**values: Any) -> Dataset:
    """A C-FIND identifier encoded by pydicom (Implicit VR Little Endian, as DIMSE sends it)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ref = pydicom.Dataset()
    for key, value in values.items():
        setattr(ref, key, value)
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, ref)
    return dicomkit.read_dataset(fp.getvalue(), transfer_syntax_uid="1.2.840.10008.1.2")


def test_identifier_from_the_wire_in_latin1() -> None:
    ident = _wire_identifier(
        QueryRetrieveLevel="STUDY",
        SpecificCharacterSet="ISO_IR 100",
        PatientName="Äneas*",
        StudyDate="",
        StudyInstanceUID="",
    )
    q = Query.from_identifier(ident)
    assert [(c.keyword, c.kind.value) for c in q.conditions] == [
        ("PatientName", "wildcard"),
    ]
    german, french = _load("chrGerm.dcm"), _load("chrFren.dcm")
    assert q.matches(german[1]) and q.match_dataset(german[0])
    assert not q.matches(french[1])


def test_uid_list_from_the_wire() -> None:
    _ds, record, ref = _load("CT_small.dcm")
    ident = _wire_identifier(QueryRetrieveLevel="SERIES", SeriesInstanceUID=["1.2.3", ref.SeriesInstanceUID])
    q = Query.from_identifier(ident)
    assert q.conditions[0].values == ("1.2.3", ref.SeriesInstanceUID)
    assert q.matches(record)
    assert not Query.from_identifier(
        _wire_identifier(QueryRetrieveLevel="SERIES", SeriesInstanceUID="1.2.3")
    ).matches(record)
