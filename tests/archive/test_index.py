"""dicomkit.archive.index: which columns exist, what values go into them."""

from __future__ import annotations

import json

from dicomkit.archive.index import COLUMNS, DERIVED, level_rows
from dicomkit.codec.json import to_json_dict
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
