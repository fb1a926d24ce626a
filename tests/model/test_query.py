"""dicomkit.model.query: hand-computed cases from the text of PS3.4 C.2.2.2 (attribute matching),
C.4.1.2.1 / C.6.1.1 / C.6.2.1 (levels and keys) and PS3.18 8.3.4 (QIDO-RS parameters).

Records are DICOM JSON model objects (PS3.18 F.2) written by hand, so the expected results come
from the standard's wording, not from dicomkit."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from dicomkit import Dataset, dictionary
from dicomkit.errors import QueryError
from dicomkit.model import Condition, Level, MatchKind, Query
from dicomkit.model.query import LEVEL_KEYS, UNIQUE_KEYS, attribute_level, normalize_for_range, pn_fold


def attr(vr: str, *values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"vr": vr}
    if values:
        out["Value"] = list(values)
    return out


def pn(*names: str) -> dict[str, Any]:
    groups = ("Alphabetic", "Ideographic", "Phonetic")
    return attr("PN", *({g: t for g, t in zip(groups, n.split("="), strict=False) if t} for n in names))


def rec(**attrs: dict[str, Any]) -> dict[str, Any]:
    return {f"{dictionary.tag_for_keyword(k):08X}": v for k, v in attrs.items()}


def study(**params: str) -> Query:
    return Query.from_params("study", params)


def match(level: str, params: dict[str, str], record: dict[str, Any], **kw: Any) -> bool:
    return Query.from_params(level, params, **kw).matches(record)


# -- C.2.2.2.1 single value matching ------------------------------------------------------


def test_single_value_is_exact_and_case_sensitive() -> None:
    r = rec(PatientName=pn("Doe^John"), AccessionNumber=attr("SH", "A100"))
    assert match("study", {"PatientName": "Doe^John"}, r)
    assert not match("study", {"PatientName": "Doe^Johnny"}, r)
    assert not match("study", {"PatientName": "doe^john"}, r)  # case-sensitive without fuzzy
    assert not match("study", {"PatientName": "Doe"}, r)  # a whole-value match, not a prefix
    assert match("study", {"AccessionNumber": "A100 "}, r)  # padding spaces are insignificant
    assert not match("study", {"AccessionNumber": "A10"}, r)


def test_single_value_does_not_match_absent_or_empty_attribute() -> None:
    assert not match("study", {"AccessionNumber": "A1"}, rec())
    assert not match("study", {"AccessionNumber": "A1"}, rec(AccessionNumber=attr("SH")))


def test_multiple_value_matching_any_stored_value() -> None:
    r = rec(ModalitiesInStudy=attr("CS", "CT", "SR"))
    assert match("study", {"ModalitiesInStudy": "SR"}, r)
    assert match("study", {"ModalitiesInStudy": "CT"}, r)
    assert not match("study", {"ModalitiesInStudy": "MR"}, r)


@pytest.mark.parametrize(
    ("key", "query", "stored", "expected"),
    [
        ("SeriesNumber", "1", attr("IS", 1), True),
        ("SeriesNumber", "01", attr("IS", 1), True),  # compared as numbers, not text
        ("SeriesNumber", "+1", attr("IS", "1"), True),
        ("SeriesNumber", "2", attr("IS", 1), False),
        ("SliceThickness", "5", attr("DS", 5.0), True),
        ("SliceThickness", "5.000000", attr("DS", "5"), True),
        ("SliceThickness", "5e0", attr("DS", 5.0), True),
        ("SliceThickness", "5.0001", attr("DS", 5.0), False),
        ("Rows", "512", attr("US", 512), True),
        ("Rows", "511", attr("US", 512), False),
    ],
)
def test_numbers_are_compared_numerically(
    key: str, query: str, stored: dict[str, Any], expected: bool
) -> None:
    level = "series" if key == "SeriesNumber" else "instance"
    assert match(level, {key: query}, rec(**{key: stored})) is expected


def test_fl_single_value_matches_its_float32_value() -> None:
    # FL values come back from binary data (and JSON) as the widened float32 value
    import struct

    stored = struct.unpack("<f", struct.pack("<f", 0.3))[0]
    assert stored != 0.3
    keyword = "RecommendedDisplayFrameRateInFloat"  # (0008,9459) FL
    assert dictionary.vr_of(dictionary.tag_for_keyword(keyword)) == "FL"
    r = rec(**{keyword: attr("FL", stored)})
    assert match("instance", {keyword: "0.3"}, r)
    assert not match("instance", {keyword: "0.30001"}, r)


def test_empty_value_matching() -> None:
    # '""' matches only entities whose value is zero length (or that lack the attribute)
    q = study(AccessionNumber='""')
    assert q.conditions[0].kind is MatchKind.EMPTY
    assert q.matches(rec(AccessionNumber=attr("SH")))
    assert q.matches(rec())
    assert not q.matches(rec(AccessionNumber=attr("SH", "A1")))


# -- C.2.2.2.2 list of UID matching ------------------------------------------------------


def test_list_of_uid_matching() -> None:
    r = rec(StudyInstanceUID=attr("UI", "1.2.3.4"))
    q = study(StudyInstanceUID="1.2.3.5,1.2.3.4")
    assert q.conditions[0].kind is MatchKind.LIST
    assert q.conditions[0].values == ("1.2.3.5", "1.2.3.4")
    assert q.matches(r)
    assert study(StudyInstanceUID="1.2.3.5\\1.2.3.4").matches(r)
    assert not study(StudyInstanceUID="1.2.3.5,1.2.3.6").matches(r)
    assert not study(StudyInstanceUID="1.2.3").matches(r)  # no prefix matching of UIDs


@pytest.mark.parametrize("value", ["1.2.*", "1.2.3?", "1.2.3-1.2.4", "1..2", "abc", "1.2.03"])
def test_bad_uids_are_rejected(value: str) -> None:
    with pytest.raises(QueryError, match="StudyInstanceUID"):
        study(StudyInstanceUID=value)


def test_list_only_for_uids() -> None:
    with pytest.raises(QueryError, match="only UI keys take a list"):
        Query.from_identifier(_identifier("STUDY", ModalitiesInStudy=("CT", "MR")))


# -- C.2.2.2.3 universal matching ------------------------------------------------------


@pytest.mark.parametrize("value", ["", "*", "**"])
def test_universal_matching_is_a_return_key_only(value: str) -> None:
    q = Query.from_params("study", {"StudyDescription": value})
    assert q.conditions == ()
    assert dictionary.tag_for_keyword("StudyDescription") in q.return_tags
    assert q.matches(rec())


# -- C.2.2.2.4 wild card matching -----------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("Doe*", "Doe^John", True),
        ("Doe*", "Doe", True),  # * matches zero characters
        ("*John", "Doe^John", True),
        ("D?e^J*", "Doe^John", True),
        ("D?e", "De", False),  # ? is exactly one character
        ("Doe*", "ADoe^John", False),  # anchored at the start
        ("*oh*", "Doe^John", True),
        ("J.n*", "Jan^X", False),  # regex characters are literal
        ("J.n*", "J.n^X", True),
        ("DOE*", "Doe^John", False),  # case-sensitive without fuzzy
    ],
)
def test_wildcards(pattern: str, value: str, expected: bool) -> None:
    assert match("study", {"PatientName": pattern}, rec(PatientName=pn(value))) is expected
    assert match("study", {"StudyDescription": pattern}, rec(StudyDescription=attr("LO", value))) is expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("StudyInstanceUID", "1.2*"),
        ("StudyDate", "2024*"),
        ("StudyTime", "10?000"),
        ("NumberOfStudyRelatedInstances", "1*"),
        ("PatientAge", "04?Y"),
    ],
)
def test_wildcards_not_allowed_for_these_vrs(key: str, value: str) -> None:
    with pytest.raises(QueryError, match=key):
        study(**{key: value})


# -- C.2.2.2.5 range matching ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "dates", "expected"),
    [
        ("20240101-20240131", ["20231231", "20240101", "20240115", "20240131", "20240201"], [0, 1, 1, 1, 0]),
        ("-20240101", ["19000101", "20240101", "20240102"], [1, 1, 0]),
        ("20240101-", ["20231231", "20240101", "99991231"], [0, 1, 1]),
        ("20240101", ["20240101", "20240102"], [1, 0]),
        ("20240101-20240101", ["20231231", "20240101", "20240102"], [0, 1, 0]),
        ("2024.01.01-", ["20240101", "2023.12.31"], [1, 0]),  # the retired ACR-NEMA form
    ],
)
def test_date_ranges(query: str, dates: list[str], expected: list[int]) -> None:
    q = study(StudyDate=query)
    assert [int(q.matches(rec(StudyDate=attr("DA", d)))) for d in dates] == expected


def test_range_of_an_absent_date_does_not_match() -> None:
    assert not study(StudyDate="20240101-").matches(rec())
    assert not study(StudyDate="20240101-").matches(rec(StudyDate=attr("DA", "garbage")))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-", '"-" alone is not a valid range'),  # the note of C.2.2.2.5
        ("20240131-20240101", "ends before it starts"),
        ("20240101-20240201-", "not a DA range"),
        ("2024-", "not a valid DA"),
        ("20240230", "not a valid DA"),
        ("20241301-", "not a valid DA"),
        ("today", "not a valid DA"),
    ],
)
def test_bad_date_ranges(value: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        study(StudyDate=value)


@pytest.mark.parametrize(
    ("query", "times", "expected"),
    [
        # a partial time covers its whole precision: "10" is 10:00:00 to 10:59:59.999999
        ("10", ["095959.999999", "100000", "103000.5", "105959.999999", "110000"], [0, 1, 1, 1, 0]),
        ("0900-1000", ["085959", "0900", "095959", "100059.9", "100100"], [0, 1, 1, 1, 0]),
        ("-093000.5", ["093000.5", "093000.599999", "093000.6"], [1, 1, 0]),
        ("2300-", ["2259", "230000", "235960"], [0, 1, 1]),  # 60: a leap second
        ("10:00-10:30", ["100000", "103059", "103100"], [1, 1, 0]),  # the retired HH:MM form
    ],
)
def test_time_ranges(query: str, times: list[str], expected: list[int]) -> None:
    q = study(StudyTime=query)
    assert [int(q.matches(rec(StudyTime=attr("TM", t)))) for t in times] == expected


def test_datetime_ranges_with_offsets() -> None:
    key = "AcquisitionDateTime"
    q = Query.from_params("instance", {key: "20240101120000+0100-20240101130000+0100"})
    assert (q.conditions[0].low, q.conditions[0].high) == ("20240101110000.000000", "20240101120000.999999")
    stored = {
        "20240101110000+0000": True,  # 11:00 UTC = 12:00 +01:00
        "20240101065959-0500": True,  # 11:59:59 UTC
        "20240101080100-0500": False,  # 13:01 UTC
        "20240101120000.5": True,  # no offset: compared as given (as if UTC)
        "2024": False,  # a partial stored value is its first instant: 2024-01-01 00:00
    }
    for value, expected in stored.items():
        assert q.matches(rec(**{key: attr("DT", value)})) is expected, value


def test_datetime_single_value_with_offset_is_not_a_range() -> None:
    q = Query.from_params("instance", {"AcquisitionDateTime": "2024-0500"})
    cond = q.conditions[0]
    assert (cond.low, cond.high) == ("20240101050000.000000", "20250101045959.999999")


def test_single_date_values_become_closed_ranges() -> None:
    cond = study(StudyDate="20240311").conditions[0]
    assert (cond.kind, cond.low, cond.high, cond.values) == (
        MatchKind.RANGE,
        "20240311",
        "20240311",
        ("20240311",),
    )


@pytest.mark.parametrize(
    ("vr", "value", "low", "high"),
    [
        ("DA", "20240229", "20240229", "20240229"),
        ("TM", "07", "070000.000000", "075959.999999"),
        ("TM", "0712", "071200.000000", "071259.999999"),
        ("TM", "071201.5", "071201.500000", "071201.599999"),
        ("TM", "235960", "235959.999999", "235959.999999"),
        ("DT", "2024", "20240101000000.000000", "20241231235959.999999"),
        ("DT", "202402", "20240201000000.000000", "20240229235959.999999"),
        ("DT", "202302", "20230201000000.000000", "20230228235959.999999"),
        ("DT", "20240101000000+0130", "20231231223000.000000", "20231231223000.999999"),
        ("DT", "20240101-1400", "20240101140000.000000", "20240102135959.999999"),
    ],
)
def test_normalize_for_range(vr: str, value: str, low: str, high: str) -> None:
    assert normalize_for_range(vr, value) == low
    assert normalize_for_range(vr, value, high=True) == high


@pytest.mark.parametrize(
    ("vr", "value"),
    [("DA", "2024011"), ("TM", "25"), ("TM", "1260"), ("DT", "20241"), ("DT", "0000"), ("CS", "X")],
)
def test_normalize_for_range_rejects(vr: str, value: str) -> None:
    with pytest.raises(QueryError):
        normalize_for_range(vr, value)


# -- C.2.2.2.6 sequence matching -------------------------------------------------------


def _request(*items: tuple[str, str]) -> dict[str, Any]:
    return rec(
        RequestAttributesSequence=attr(
            "SQ",
            *(
                rec(ScheduledProcedureStepID=attr("SH", a), RequestedProcedureID=attr("SH", b))
                for a, b in items
            ),
        )
    )


def test_sequence_matching_needs_one_item_matching_all_sub_keys() -> None:
    r = _request(("SPS1", "RP1"), ("SPS2", "RP2"))
    params = {
        "RequestAttributesSequence.ScheduledProcedureStepID": "SPS1",
        "RequestAttributesSequence.RequestedProcedureID": "RP1",
    }
    q = Query.from_params("series", params)
    (cond,) = q.conditions
    assert cond.kind is MatchKind.SEQUENCE and len(cond.items) == 2
    assert q.matches(r)
    crossed = dict(params, **{"RequestAttributesSequence.RequestedProcedureID": "RP2"})
    assert not Query.from_params("series", crossed).matches(r)  # SPS1 and RP2 are in different items
    assert Query.from_params(
        "series", {"RequestAttributesSequence.ScheduledProcedureStepID": "SPS*"}
    ).matches(r)
    assert not q.matches(rec())
    assert not q.matches(rec(RequestAttributesSequence=attr("SQ")))


def test_sequence_from_identifier() -> None:
    ident = _identifier("SERIES", StudyInstanceUID="1.2.3", SeriesInstanceUID="")
    item = Dataset()
    item.ScheduledProcedureStepID = "SPS2"
    item.RequestedProcedureID = ""  # universal inside the item
    ident.RequestAttributesSequence = [item]
    q = Query.from_identifier(ident)
    seq = next(c for c in q.conditions if c.kind is MatchKind.SEQUENCE)
    assert [c.keyword for c in seq.items] == ["ScheduledProcedureStepID"]
    r = _request(("SPS1", "RP1"), ("SPS2", "RP2"))
    r.update(rec(StudyInstanceUID=attr("UI", "1.2.3")))
    assert q.matches(r)
    assert not q.matches(_request(("SPS1", "RP1")) | rec(StudyInstanceUID=attr("UI", "1.2.3")))


def test_sequence_with_empty_item_is_universal_and_two_items_are_an_error() -> None:
    ident = _identifier("SERIES")
    ident.RequestAttributesSequence = [Dataset()]
    q = Query.from_identifier(ident)
    assert q.conditions == ()
    assert dictionary.tag_for_keyword("RequestAttributesSequence") in q.return_tags
    two = Dataset(), Dataset()
    two[0].ScheduledProcedureStepID = "A"
    two[1].ScheduledProcedureStepID = "B"
    ident.RequestAttributesSequence = list(two)
    with pytest.raises(QueryError, match="exactly one item"):
        Query.from_identifier(ident)


# -- PN: component groups and fuzzy matching ----------------------------------------------


def test_pn_component_groups() -> None:
    r = rec(PatientName=pn("Yamada^Tarou=山田^太郎=やまだ^たろう"))
    for value in (
        "Yamada^Tarou",
        "山田^太郎",
        "やまだ^たろう",
        "Yamada^Tarou=山田^太郎=やまだ^たろう",
        "山田*",
    ):
        assert match("study", {"PatientName": value}, r), value
    assert not match("study", {"PatientName": "Yamada"}, r)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mueller", False),
        ("müller", True),
        ("MULLER", True),  # accents and case are folded
        ("jurgen", True),  # a prefix of any name component word
        ("jür", True),
        ("ller", False),  # not inside a word
        ("muller^jurgen", True),
        ("mul*gen", True),
        ("*JUR*", True),
        ("m?ller*", True),
        ("x*", False),
    ],
)
def test_fuzzy_pn(query: str, expected: bool) -> None:
    r = rec(PatientName=pn("Müller^Jürgen"))
    q = Query.from_params("study", {"PatientName": query}, fuzzy=True)
    assert q.conditions[0].fuzzy and q.fuzzy
    assert q.matches(r) is expected
    assert (
        Query.from_params("study", [("PatientName", query), ("fuzzymatching", "true")]).matches(r) is expected
    )


def test_fuzzy_applies_to_pn_only() -> None:
    q = Query.from_params("study", {"StudyDescription": "chest"}, fuzzy=True)
    assert not q.conditions[0].fuzzy
    assert not q.matches(rec(StudyDescription=attr("LO", "Chest")))


def test_pn_fold() -> None:
    assert pn_fold("Müller^Jürgen=ミュラー") == "muller jurgen ミュラー"
    assert pn_fold("  DOE^^JOHN  ") == "doe john"
    assert pn_fold("Straße") == "strasse"


# -- levels: PS3.4 C.6.1.1 / C.6.2.1, C.4.1.2.1 ------------------------------------------


def test_attribute_levels() -> None:
    kw = dictionary.tag_for_keyword
    assert attribute_level(kw("PatientName"), Level.SERIES) is Level.PATIENT
    assert attribute_level(kw("ModalitiesInStudy"), Level.SERIES) is Level.STUDY
    assert attribute_level(kw("Modality"), Level.STUDY) is Level.SERIES
    assert attribute_level(kw("SOPClassUID"), Level.STUDY) is Level.INSTANCE
    assert attribute_level(kw("ContrastBolusAgent"), Level.SERIES) is Level.SERIES  # others: the query level
    assert [kw(k) for k in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")] == list(
        UNIQUE_KEYS.values()
    )


def test_level_keys_hold_the_qido_keys() -> None:
    names = {lvl: {dictionary.keyword_of(t) for t in tags} for lvl, tags in LEVEL_KEYS.items()}
    assert {"PatientID", "PatientName", "PatientBirthDate", "PatientSex"} <= names[Level.PATIENT]
    assert {
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "ModalitiesInStudy",
        "ReferringPhysicianName",
        "StudyDescription",
        "StudyInstanceUID",
        "StudyID",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    } <= names[Level.STUDY]
    assert {"Modality", "SeriesInstanceUID", "SeriesNumber", "NumberOfSeriesRelatedInstances"} <= names[
        Level.SERIES
    ]
    assert {"SOPClassUID", "SOPInstanceUID", "InstanceNumber"} <= names[Level.INSTANCE]


def test_keys_below_the_query_level_are_errors() -> None:
    with pytest.raises(QueryError, match=r"Modality .* series-level attribute.*study-level query"):
        study(Modality="CT")
    with pytest.raises(QueryError, match="SOPClassUID"):
        Query.from_params("series", {}, return_keys=["SOPClassUID"])
    with pytest.raises(QueryError, match="InstanceNumber"):
        Query.from_identifier(_identifier("STUDY", InstanceNumber=""))
    with pytest.raises(QueryError, match="StudyDate"):
        Query.from_params("patient", {"StudyDate": "20240101"}, root="PATIENT")


def test_keys_above_the_query_level_are_allowed_relationally() -> None:
    q = Query.from_params("instance", {"PatientName": "Doe*", "StudyDate": "20240101-", "Modality": "CT"})
    assert {c.level for c in q.conditions} == {Level.PATIENT, Level.STUDY, Level.SERIES}


def test_roots() -> None:
    with pytest.raises(QueryError, match="no patient level"):
        Query.from_params("patient", {"PatientID": "P1"})
    q = Query.from_params("patient", {"PatientID": "P1"}, root="patient")
    assert (q.level, q.root) == (Level.PATIENT, "PATIENT")
    with pytest.raises(QueryError, match="root"):
        Query.from_params("study", {}, root="WORKLIST")
    with pytest.raises(QueryError, match="level"):
        Query.from_params("frame", {})


def test_hierarchical_rules() -> None:
    # C.4.1.2.1: the unique keys of every level above the query level, single values
    ok = Query.from_params("series", {"StudyInstanceUID": "1.2.3", "Modality": "CT"}, relational=False)
    assert ok.level is Level.SERIES
    with pytest.raises(QueryError, match=r"StudyInstanceUID.*needs"):
        Query.from_params("series", {"Modality": "CT"}, relational=False)
    with pytest.raises(QueryError, match=r"StudyInstanceUID.*needs"):
        Query.from_params("series", {"StudyInstanceUID": "1.2.3,1.2.4"}, relational=False)
    with pytest.raises(QueryError, match=r"StudyDate.*only hold the unique keys"):
        Query.from_params("series", {"StudyInstanceUID": "1.2.3", "StudyDate": "20240101"}, relational=False)
    # Study Root: patient attributes belong to the study level
    Query.from_params("study", {"PatientName": "Doe*"}, relational=False)
    # Patient Root: the patient ID is needed below the patient level, and only it
    with pytest.raises(QueryError, match="PatientID"):
        Query.from_params("study", {"StudyDate": "20240101"}, root="PATIENT", relational=False)
    with pytest.raises(QueryError, match="PatientName"):
        Query.from_params("study", {"PatientID": "P1", "PatientName": "D*"}, root="PATIENT", relational=False)
    Query.from_params("study", {"PatientID": "P1", "StudyDate": "20240101"}, root="PATIENT", relational=False)


# -- parsing: CLI / QIDO-RS parameters ---------------------------------------------------


def test_qido_query_string() -> None:
    params = parse_qsl(
        "PatientName=DOE*&00080020=20240101-&includefield=00081030,PatientAge&includefield=StudyID"
        "&limit=10&offset=5&fuzzymatching=true&orderby=-StudyDate,PatientName&StudyDescription=",
        keep_blank_values=True,
    )
    q = Query.from_params("studies", params)
    kw = dictionary.tag_for_keyword
    assert q.level is Level.STUDY
    assert [c.keyword for c in q.conditions] == ["StudyDate", "PatientName"]
    assert (q.limit, q.offset, q.fuzzy, q.include_all) == (10, 5, True, False)
    assert q.order_by == ((kw("StudyDate"), True), (kw("PatientName"), False))
    for name in ("StudyDescription", "PatientAge", "StudyID", "StudyInstanceUID", "ModalitiesInStudy"):
        assert kw(name) in q.return_tags, name
    assert Query.from_params("study", {"includefield": "all"}).include_all


@pytest.mark.parametrize("key", ["PatientName", "00100010", "(0010,0010)", "0010,0010", " PatientName "])
def test_key_spellings(key: str) -> None:
    (cond,) = study(**{key: "Doe"}).conditions
    assert (cond.tag, cond.keyword, cond.vr, cond.level) == (0x00100010, "PatientName", "PN", Level.PATIENT)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"PatientNmae": "x"}, "did you mean 'PatientName'"),
        ({"limit": "-1"}, "limit must be >= 0"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"offset": "-3"}, "offset must be >= 0"),
        ({"fuzzymatching": "maybe"}, "fuzzymatching must be true or false"),
        ({"orderby": "Nonsense"}, "not a DICOM keyword"),
        ({"orderby": "RequestAttributesSequence"}, "cannot order by a SQ"),
        ({"PatientName.FamilyName": "x"}, "PatientName is not a sequence"),
        ({"RequestAttributesSequence.Foo": "x"}, "not a DICOM keyword"),
        ({"PatientName.PatientID": "x"}, "PatientName is not a sequence"),
        ({"RequestAttributesSequence": "x"}, "sub-keys"),
        ({"00091001": "x"}, "VR of 00091001 is unknown"),
        ({"PixelData": "x"}, "PixelData"),
    ],
)
def test_param_errors(params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        Query.from_params("instance", params)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(QueryError, match="given twice"):
        Query.from_params("study", [("StudyDate", "20240101"), ("StudyDate", "20230101")])
    with pytest.raises(QueryError, match="given twice"):
        Query.from_params("study", {"PatientName": ["A", "B"]})


def test_keyword_arguments_and_limits() -> None:
    q = Query.from_params("study", {}, limit=0, offset=2, order_by=["-StudyDate"])
    assert (q.limit, q.offset, q.order_by) == (0, 2, ((0x00080020, True),))
    with pytest.raises(QueryError, match="limit"):
        Query.from_params("study", {}, limit=-1)
    with pytest.raises(QueryError, match="offset"):
        Query.from_params("study", {}, offset=-1)


def test_condition_is_a_value() -> None:
    a = study(PatientName="Doe*").conditions[0]
    b = Condition(0x00100010, "PatientName", "PN", Level.PATIENT, MatchKind.WILDCARD, values=("Doe*",))
    assert a == b and hash(a) == hash(b)


# -- parsing: C-FIND identifiers --------------------------------------------------------


def _identifier(level: str, **values: Any) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


def test_identifier() -> None:
    ident = _identifier(
        "IMAGE",
        SpecificCharacterSet="ISO_IR 100",
        PatientName="",
        StudyInstanceUID="1.2.3",
        SeriesInstanceUID=("1.2.3.1", "1.2.3.2"),
        SOPInstanceUID="",
        InstanceNumber="",
    )
    q = Query.from_identifier(ident)
    assert q.level is Level.INSTANCE and q.cfind
    assert [(c.keyword, c.kind) for c in q.conditions] == [
        ("StudyInstanceUID", MatchKind.SINGLE),
        ("SeriesInstanceUID", MatchKind.LIST),
    ]
    assert [dictionary.keyword_of(t) for t in q.return_tags] == [  # the identifier's order: by tag
        "SOPInstanceUID",
        "PatientName",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "InstanceNumber",
    ]


def test_identifier_errors() -> None:
    with pytest.raises(QueryError, match="no QueryRetrieveLevel"):
        Query.from_identifier(Dataset())
    with pytest.raises(QueryError, match="WORKLIST"):
        Query.from_identifier(_identifier("WORKLIST"))
    with pytest.raises(QueryError, match="no patient level"):
        Query.from_identifier(_identifier("PATIENT"))


def test_identifier_private_tag_with_explicit_vr() -> None:
    from dicomkit import DataElement

    ident = _identifier("STUDY")
    ident[0x00091001] = DataElement(0x00091001, "LO", "ABC*")
    q = Query.from_identifier(ident)
    (cond,) = q.conditions
    assert (cond.keyword, cond.vr, cond.kind, cond.level) == ("", "LO", MatchKind.WILDCARD, Level.STUDY)
    assert q.matches({"00091001": attr("LO", "ABCD")})
    ident[0x00091001] = DataElement(0x00091001, "UN", b"ABC")
    with pytest.raises(QueryError, match="unknown VR"):
        Query.from_identifier(ident)


def test_identifier_with_patient_root() -> None:
    q = Query.from_identifier(_identifier("PATIENT", PatientID="P*", PatientName=""), root="PATIENT")
    assert q.level is Level.PATIENT
    assert q.matches(rec(PatientID=attr("LO", "P1")))


# -- response, ordering, paging ---------------------------------------------------------


def test_response() -> None:
    r = rec(
        PatientName=pn("Doe^John"),
        StudyInstanceUID=attr("UI", "1.2.3"),
        SeriesInstanceUID=attr("UI", "1.2.3.4"),
        Modality=attr("CS", "CT"),
        SpecificCharacterSet=attr("CS", "ISO_IR 192"),
        BodyPartExamined=attr("CS", "CHEST"),
    )
    q = Query.from_identifier(_identifier("SERIES", Modality="CT", SeriesDescription=""))
    out = q.response(r)
    assert out == {
        "00080005": attr("CS", "ISO_IR 192"),
        "00080052": attr("CS", "SERIES"),
        "00080060": attr("CS", "CT"),
        "0008103E": {"vr": "LO"},
        "00100020": {"vr": "LO"},  # Study Root: the patient ID comes along with the study
        "0020000D": attr("UI", "1.2.3"),
        "0020000E": attr("UI", "1.2.3.4"),
    }
    assert list(out) == sorted(out)
    everything = Query.from_params("series", {"includefield": "all"}).response(r)
    assert everything["00180015"] == attr("CS", "CHEST") and "00080052" not in everything


def _studies() -> list[dict[str, Any]]:
    return [
        rec(StudyInstanceUID=attr("UI", "1.4"), StudyDate=attr("DA", "20240102"), PatientName=pn("B")),
        rec(StudyInstanceUID=attr("UI", "1.2"), StudyDate=attr("DA", "20240101"), PatientName=pn("A")),
        rec(StudyInstanceUID=attr("UI", "1.3"), PatientName=pn("C")),
        rec(StudyInstanceUID=attr("UI", "1.1"), StudyDate=attr("DA", "20240102"), PatientName=pn("D")),
    ]


def _uids(records: list[Any]) -> list[str]:
    return [r["0020000D"]["Value"][0] for r in records]


def test_apply_orders_and_pages() -> None:
    recs = _studies()
    assert _uids(Query.from_params("study", {}).apply(recs)) == ["1.1", "1.2", "1.3", "1.4"]
    by_date = Query.from_params("study", {"orderby": "StudyDate"})
    assert _uids(by_date.apply(recs)) == ["1.3", "1.2", "1.1", "1.4"]  # absent first, ties by UID
    desc = Query.from_params("study", {"orderby": "-StudyDate"})
    assert _uids(desc.apply(recs)) == ["1.1", "1.4", "1.2", "1.3"]  # ... and last descending
    paged = Query.from_params("study", {"orderby": "-StudyDate", "limit": "2", "offset": "1"})
    assert _uids(paged.apply(recs)) == ["1.4", "1.2"]
    dated = Query.from_params("study", {"StudyDate": "20240102", "orderby": "-PatientName"})
    assert _uids(dated.apply(recs)) == ["1.1", "1.4"]
    assert Query.from_params("study", {"limit": "0"}).apply(recs) == []


def test_docs_example_runs() -> None:
    import doctest
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "query.md"
    result = doctest.testfile(str(doc), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


def test_pn_trailing_empty_components_are_insignificant() -> None:
    # PS3.5 6.2.1: trailing empty components and component groups may be left out
    assert match("study", {"PatientName": "Doe^John^^"}, rec(PatientName=pn("Doe^John")))
    assert match("study", {"PatientName": "Doe^John"}, rec(PatientName=pn("Doe^John^^^")))
    assert match("study", {"PatientName": "Doe^John=="}, rec(PatientName=pn("Doe^John")))
    assert not match("study", {"PatientName": "Doe^^John"}, rec(PatientName=pn("Doe^John")))


def test_match_dataset_built_by_keyword() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.StudyDate = "20240311"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SliceThickness = "2.50"
    ds.RequestAttributesSequence = [Dataset()]
    ds.RequestAttributesSequence[0].ScheduledProcedureStepID = "SPS7"
    q = Query.from_params(
        "instance",
        {
            "PatientName": "Doe^J*",
            "StudyDate": "20240301-20240331",
            "ImageType": "AXIAL",
            "SliceThickness": "2.5",
            "RequestAttributesSequence.ScheduledProcedureStepID": "SPS7",
        },
    )
    assert q.match_dataset(ds)
    ds.SliceThickness = "2.6"
    assert not q.match_dataset(ds)


def test_apply_orders_numbers_numerically() -> None:
    recs = [
        rec(
            SeriesInstanceUID=attr("UI", f"1.{n}"),
            SeriesNumber=attr("IS", n),
            StudyInstanceUID=attr("UI", "1"),
        )
        for n in (10, 9, 100, 1)
    ]
    q = Query.from_params("series", {"orderby": "SeriesNumber"})
    assert [r["00200011"]["Value"][0] for r in q.apply(recs)] == [1, 9, 10, 100]


def test_order_by_below_the_level_is_an_error() -> None:
    with pytest.raises(QueryError, match="InstanceNumber"):
        Query.from_params("series", {"orderby": "InstanceNumber"})


def test_backslash_is_text_in_lt_st_ut() -> None:
    # LT, ST and UT have one value that may hold "\" (PS3.5 Table 6.2-1)
    r = rec(AdditionalPatientHistory=attr("LT", "a\\b"))
    assert match("study", {"AdditionalPatientHistory": "a\\b"}, r)
    assert match("study", {"AdditionalPatientHistory": "a\\*"}, r)


def test_direct_construction_is_checked() -> None:
    q = Query("series", (), (), root="patient")  # type: ignore[arg-type]
    assert (q.level, q.root) == (Level.SERIES, "PATIENT")
    with pytest.raises(QueryError, match="limit"):
        Query(Level.STUDY, (), (), limit=-5)
    import dataclasses

    with pytest.raises(QueryError, match="offset"):
        dataclasses.replace(study(PatientName="A*"), offset=-1)
    paged = dataclasses.replace(study(PatientName="A*"), limit=1)
    assert paged.matches(rec(PatientName=pn("Ab"))) and not paged.matches(rec(PatientName=pn("B")))


def test_universal_key_inside_a_sequence_returns_the_sequence() -> None:
    q = Query.from_params("study", {"ProcedureCodeSequence.CodeValue": ""})
    assert q.conditions == ()
    assert dictionary.tag_for_keyword("ProcedureCodeSequence") in q.return_tags
    code = rec(CodeValue=attr("SH", "CTCHEST"), CodingSchemeDesignator=attr("SH", "99LOCAL"))
    r = rec(ProcedureCodeSequence=attr("SQ", code))
    assert Query.from_params("study", {"ProcedureCodeSequence.CodeValue": "*"}).conditions == ()
    assert q.response(r)["00081032"] == r["00081032"]
    assert Query.from_params("study", {"ProcedureCodeSequence.CodeValue": "CT*"}).matches(r)
