"""dicomkit.archive.index: which columns exist, what values go into them, and the row memo."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pydicom
from pydicom.data import get_charset_files, get_testdata_file

import dicomkit
from dicomkit.archive.index import COLUMNS, DERIVED, RowCache, level_rows
from dicomkit.codec.json import to_json_dict
from dicomkit.codec.reader import read
from dicomkit.dataset import Dataset
from dicomkit.model.findings import Level
from dicomkit.model.query import LEVEL_KEYS
from tests.archive import data


def test_every_level_key_has_a_typed_or_derived_column() -> None:
    for level, tags in LEVEL_KEYS.items():
        have = {c.tag for c in COLUMNS[level]} | {t for t, (lv, _vr, _c) in DERIVED.items() if lv == level}
        missing = [f"{t:08X}" for t in tags if t not in have]
        assert not missing, (level, missing)


def test_level_rows_split_and_normalize() -> None:
    ds = data.dataset(
        PatientName="Müller^Jürgen",
        StudyTime="10",
        StudyDate="20240311",
        AccessionNumber=["A1", "A2"],  # two values: the study row is loose
        SeriesNumber=7,
        PatientComments="kept as JSON",
        SpecificCharacterSet="ISO_IR 192",
    )
    rows = level_rows(to_json_dict(ds))
    p, st, se, i = (rows[lv] for lv in (Level.PATIENT, Level.STUDY, Level.SERIES, Level.INSTANCE))
    assert p.values["patient_id"] == "P1" and p.values["patientname"] == "Müller^Jürgen"
    assert p.values["patientname_fold"] == "muller jurgen"  # accents dropped, case folded, ^ → space
    assert p.values["patientbirthdate"] == "19700101" and not p.loose
    assert json.loads(p.attrs)["00104000"] == {"vr": "LT", "Value": ["kept as JSON"]}
    assert st.values["studytime"] == "100000.000000"  # TM "10": its first instant (PS3.5 6.2)
    assert st.values["accessionnumber"] == "A1\\A2" and st.loose
    assert se.values["seriesnumber"] == 7 and se.values["modality"] == "CT" and not se.loose
    assert i.values["sop_uid"] == data.uid(0, 0, 0) and i.values["rows"] == 4
    assert "7FE00010" not in json.loads(i.attrs) and "00080005" not in json.loads(i.attrs)
    assert "00080018" in json.loads(i.attrs) and "0020000D" in json.loads(st.attrs)


def test_ideographic_names_are_loose() -> None:
    ds = data.dataset(PatientName="Yamada^Tarou=山田^太郎", SpecificCharacterSet="ISO_IR 192")
    p = level_rows(to_json_dict(ds))[Level.PATIENT]
    assert p.loose and p.values["patientname"] == "Yamada^Tarou"
    assert p.values["patientname_fold"] == "yamada tarou 山田 太郎"


# ----------------------------------------------------------------------------- RowCache


def _part10(ds: Dataset, transfer_syntax: str | None = None) -> bytes:
    buf = io.BytesIO()
    dicomkit.write(ds, buf, transfer_syntax=transfer_syntax)
    return buf.getvalue()


def test_row_cache_equals_level_rows_on_pydicom_test_files() -> None:
    """The memo gives exactly what converting every element gives (oracle: ``level_rows`` of
    ``to_json_dict``, no memo), first with an empty memo, then with every element memoised;
    the files cover implicit / explicit VR, big endian, sequences and several character sets."""
    names = [
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
        "rtplan.dcm",
        "rtstruct.dcm",
        "chrArab.dcm",
        "chrH31.dcm",
        "chrJapMulti.dcm",
        "chrRuss.dcm",
        "chrSQEncoding.dcm",
        "chrSQEncoding1.dcm",
        "chrX1.dcm",
        "SC_rgb.dcm",
        "waveform_ecg.dcm",
    ]
    paths = [get_testdata_file(n) or get_charset_files(n)[0] for n in names]
    blobs = []
    for path in paths:
        blob = Path(path).read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if read(blob).meta is None:  # a bare data set: as Part 10, as the archive stores it
                blob = _part10(read(blob))
        blobs.append(blob)
    cache = RowCache()
    for _round in range(2):
        for name, blob in zip(names, blobs, strict=True):
            expected = level_rows(to_json_dict(read(blob), bulk_data_threshold=1024, bulk_data_uri=_bulk))
            got = cache.rows(read(blob))
            for lv in expected:
                assert (got[lv].values, got[lv].attrs, got[lv].loose) == (
                    expected[lv].values,
                    expected[lv].attrs,
                    expected[lv].loose,
                ), (name, lv)


def _bulk(_elem: object) -> str:
    return "bulk"


def test_row_cache_keys_on_character_set_and_byte_order() -> None:
    """Equal value bytes decode differently under another character set or byte order: the memo
    must not hand one file's value to the other. Oracle: pydicom reading the same files."""
    cache = RowCache()
    # b"\xc3\xa9^X": "é^X" in UTF-8, "Ã©^X" in ISO 8859-1
    utf8 = _part10(data.dataset(number=1, PatientName="é^X", SpecificCharacterSet="ISO_IR 192"))
    latin1 = _part10(data.dataset(number=2, PatientName="Ã©^X", SpecificCharacterSet="ISO_IR 100"))
    # Rows 4 little endian and Rows 1024 big endian are both the bytes 04 00
    little = _part10(data.dataset(number=3, Rows=4))
    big = _part10(data.dataset(number=4, Rows=1024), "1.2.840.10008.1.2.2")
    assert b"\xc3\xa9^X" in utf8 and b"\xc3\xa9^X" in latin1
    for blob in (utf8, latin1, little, big, utf8, latin1, little, big):
        rows = cache.rows(read(blob))
        peer = pydicom.dcmread(io.BytesIO(blob))
        assert rows[Level.PATIENT].values["patientname"] == str(peer.PatientName)
        assert json.loads(rows[Level.PATIENT].attrs)["00100010"]["Value"][0]["Alphabetic"] == str(
            peer.PatientName
        )
        assert rows[Level.INSTANCE].values["rows"] == peer.Rows
        assert json.loads(rows[Level.INSTANCE].attrs)["00280010"]["Value"] == [peer.Rows]
