"""Tests of the data dictionary (dicomkit.dictionary and its generated tables).

The tables are checked against two independent machine-readable sources read at test time:
pydicom's installed dictionaries (an oracle for every entry) and DCMTK's ``dicom.dic``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import dicomkit.tags as tags
import dicomkit.uids as uids
from dicomkit import dictionary
from dicomkit._dictdata import ELEMENTS, REPEATER_TAGS, REPEATERS, UIDS
from dicomkit.dictionary import (
    DictEntry,
    UIDEntry,
    keyword_of,
    lookup,
    private_creator_tag,
    suggest,
    tag_for_keyword,
    tag_or_none,
    uid_for_keyword,
    uid_info,
    vm_of,
    vr_of,
)
from dicomkit.errors import KeywordError
from dicomkit.tag import Tag
from dicomkit.uid import UID

ROOT = Path(__file__).resolve().parent.parent
DCMTK_DIC = Path("/usr/share/libdcmtk17/dicom.dic")


@pytest.fixture(scope="module")
def pydicom_dict() -> Any:
    return pytest.importorskip("pydicom._dicom_dict", reason="pydicom (dev dependency) is the oracle")


@pytest.fixture(scope="module")
def pydicom_uids() -> Any:
    return pytest.importorskip("pydicom._uid_dict", reason="pydicom (dev dependency) is the oracle")


# ----------------------------------------------------------------------------- pydicom oracle


def test_counts_match_pydicom(pydicom_dict: Any, pydicom_uids: Any) -> None:
    assert len(ELEMENTS) == len(pydicom_dict.DicomDictionary) > 5000
    assert len(REPEATERS) == len(pydicom_dict.RepeatersDictionary) > 80
    assert len(UIDS) == len(pydicom_uids.UID_dictionary) > 450


def test_every_pydicom_element_agrees(pydicom_dict: Any) -> None:
    mismatches: list[tuple[str, object]] = []
    for tag, (vr, vm, name, retired, kw) in pydicom_dict.DicomDictionary.items():
        entry = lookup(tag)
        got = None if entry is None else (entry.vr, entry.vm, entry.name, entry.keyword, entry.retired)
        if got != (vr, vm, name, kw, retired == "Retired"):
            mismatches.append((f"{tag:08X}", got))
        if (vr_of(tag), vm_of(tag), keyword_of(tag)) != (vr, vm, kw or None):
            mismatches.append((f"{tag:08X}", "hot path"))
        if kw and tag_for_keyword(kw) != tag:
            mismatches.append((f"{tag:08X}", "keyword"))
    assert mismatches == []


def _pattern_samples(pattern: str) -> list[int]:
    """Concrete tags for a pydicom repeater pattern: every wildcard as 0, 2, A and E (even)."""
    return sorted({int(pattern.replace("x", d), 16) for d in "02AE"})


def test_every_pydicom_repeater_agrees(pydicom_dict: Any) -> None:
    checked = 0
    for pattern, (vr, vm, name, retired, kw) in pydicom_dict.RepeatersDictionary.items():
        for tag in _pattern_samples(pattern):
            if tag in ELEMENTS or tag & 0xFFFF == 0:
                continue  # exact entries and group lengths take precedence over the repeater
            entry = lookup(tag)
            assert entry is not None, f"{tag:08X} ({pattern})"
            assert (entry.vr, entry.vm, entry.name, entry.keyword, entry.retired) == (
                vr,
                vm,
                name,
                kw,
                retired == "Retired",
            ), f"{tag:08X} ({pattern})"
            assert (vr_of(tag), vm_of(tag), keyword_of(tag)) == (vr, vm, kw)
            checked += 1
    assert checked > 300


def test_every_pydicom_uid_agrees(pydicom_uids: Any) -> None:
    for uid, (name, type_, _info, retired, kw) in pydicom_uids.UID_dictionary.items():
        assert uid_info(uid) == UIDEntry(uid, name, kw, type_, retired == "Retired"), uid
        if kw:
            assert uid_for_keyword(kw) == uid
            assert getattr(uids, kw) == uid


# ----------------------------------------------------------------------------- DCMTK spot checks

_DCMTK_VR = {
    "ox": "OB or OW",
    "px": "OB or OW",
    "xs": "US or SS",
    "lt": "US or SS or OW",
    "up": "UL",
    "na": "NONE",
}

#: Known differences between DCMTK's dictionary (PS3.6-2022b) and ours (2024c), as
#: (tag, field) -- the cross-check printed by tools/gen_dictionary.py lists the same.
_DCMTK_KNOWN = {
    (0x00060001, "missing"),  # CurrentFrameFunctionalGroupsSequence: not in pydicom's tables
    (0x00089007, "vm"),  # FrameType: 4-5 now, 4 in DCMTK
    (0x00283006, "vr"),  # LUTData: "US or OW" in PS3.6, DCMTK's "lt" means "US or SS or OW"
    (0x00380004, "retired"),
    (0x00701807, "retired"),
    (0x00701808, "retired"),
    (0x30040010, "retired"),
    (0x30040012, "retired"),
    (0x30060085, "retired"),
    (0x30060088, "retired"),
    (0x3008002B, "retired"),
    (0x30100090, "retired"),
}


def _dcmtk_rows() -> list[tuple[int, str, str, str, bool]]:
    """(tag, VR, VM, keyword, retired) of DCMTK's exact and repeating-group entries.

    For a repeating range the first and the last tag are returned (DCMTK's plain group ranges,
    e.g. (6000-60FF,3000), cover even groups only).
    """
    rows = []
    pat = re.compile(r"\(([0-9A-F]{4})(?:-([0-9A-F]{4}))?,([0-9A-F]{4})(?:-([0-9A-F]{4}))?\)")
    for line in DCMTK_DIC.read_text(encoding="latin-1").splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 5:
            continue
        m = pat.fullmatch(fields[0])
        if m is None:  # (gggg-o-gggg,...) / (gggg-u-gggg,...): private, illegal, generic
            continue
        g1, g2, e1, e2 = (int(x, 16) if x else None for x in m.groups())
        assert g1 is not None and e1 is not None
        vr = _DCMTK_VR.get(fields[1], fields[1])
        kw = fields[2].removeprefix("RETIRED_")
        retired = fields[4].endswith("/retired")
        last_group = g1 if g2 is None else g2 - (g2 - g1) % 2  # ranges step over even groups
        for tag in {g1 << 16 | e1, last_group << 16 | (e2 or e1)}:
            rows.append((tag, vr, fields[3], kw, retired))
    return rows


@pytest.mark.skipif(not DCMTK_DIC.is_file(), reason=f"DCMTK dictionary {DCMTK_DIC} is not installed")
def test_spot_checks_against_dcmtk() -> None:
    rows = _dcmtk_rows()
    assert len(rows) > 4500
    problems = set()
    for tag, vr, vm, kw, retired in rows:
        entry = lookup(tag)
        if entry is None:
            problems.add((tag, "missing"))
            continue
        assert entry.keyword == kw, f"{tag:08X}"
        if entry.vr != vr:
            problems.add((tag, "vr"))
        if entry.vm != vm:
            problems.add((tag, "vm"))
        if entry.retired != retired:
            problems.add((tag, "retired"))
    assert problems - _DCMTK_KNOWN == set()


@pytest.mark.skipif(not DCMTK_DIC.is_file(), reason=f"DCMTK dictionary {DCMTK_DIC} is not installed")
@pytest.mark.parametrize(
    ("tag", "vr", "keyword"),
    [
        (0x00100010, "PN", "PatientName"),
        (0x00280106, "US or SS", "SmallestImagePixelValue"),
        (0x7FE00010, "OB or OW", "PixelData"),
        (0x54001010, "OB or OW", "WaveformData"),
        (0x00041200, "UL", "OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity"),
        (0xFFFEE000, "NONE", "Item"),
        (0x00000900, "US", "Status"),
        (0x60003000, "OB or OW", "OverlayData"),
    ],
)
def test_dcmtk_pseudo_vrs_normalised(tag: int, vr: str, keyword: str) -> None:
    dcmtk = {t: (v, k) for t, v, _vm, k, _r in _dcmtk_rows()}
    assert dcmtk[tag] == (vr, keyword)
    assert (vr_of(tag), keyword_of(tag)) == (vr, keyword)


# ----------------------------------------------------------------------------- lookups


def test_lookup_exact() -> None:
    e = lookup(0x00100010)
    assert e == DictEntry(Tag(0x00100010), "PN", "1", "Patient's Name", "PatientName", False)
    assert isinstance(e.tag, Tag)
    assert lookup(0x00080016) is not None
    assert lookup(Tag("SOPClassUID")) == lookup(0x00080016)


def test_ambiguous_vrs_are_kept() -> None:
    assert vr_of(0x00280106) == "US or SS"
    assert vr_of(0x7FE00010) == "OB or OW"
    assert "US or SS or OW" in {e[0] for e in ELEMENTS.values()}
    assert vr_of(0x00281201) == "OW"


def test_command_group() -> None:
    assert lookup(0x00000000) == DictEntry(
        0x00000000, "UL", "1", "Command Group Length", "CommandGroupLength", False
    )
    assert keyword_of(0x00000100) == "CommandField"
    assert vr_of(0x00000900) == "US"
    assert lookup(0x00000001) is not None and lookup(0x00000001).retired  # type: ignore[union-attr]


def test_retired_entries_present() -> None:
    assert sum(e[4] for e in ELEMENTS.values()) > 400
    e = lookup(0x00081000)  # Network ID, retired
    assert e is not None and e.retired and e.keyword == "NetworkID"


def test_retired_entries_without_keyword() -> None:
    assert vr_of(0x00180061) == "DS"
    assert keyword_of(0x00180061) is None
    e = lookup(0x00180061)
    assert e is not None and e.keyword == "" and e.retired


@pytest.mark.parametrize(
    ("tag", "keyword", "vr", "retired"),
    [
        (0x60003000, "OverlayData", "OB or OW", False),
        (0x601E3000, "OverlayData", "OB or OW", False),
        (0x60FE3000, "OverlayData", "OB or OW", False),
        (0x60020010, "OverlayRows", "US", False),
        (0x60040011, "OverlayColumns", "US", False),
        (0x60000050, "OverlayOrigin", "SS", False),
        (0x50003000, "CurveData", "OB or OW", True),
        (0x50020005, "CurveDimensions", "US", True),
        (0x501E2000, "AudioType", "US", True),
        (0x7F000010, "VariablePixelData", "OB or OW", True),
        (0x7F020011, "VariableNextDataGroup", "US", True),
        (0x00203100, "SourceImageIDs", "CS", True),
        (0x002031FF, "SourceImageIDs", "CS", True),
        (0x00280410, "RowsForNthOrderCoefficients", "US", True),
        (0x002804F3, "CoefficientCodingPointers", "AT", True),
        (0x00280818, "ImageDataLocation", "AT", True),
        (0x10000010, "EscapeTriplet", "US", True),
        (0x10000125, "ShiftTableTriplet", "US", True),
        (0x1010ABCD, "ZonalMap", "US", True),
    ],
)
def test_repeaters(tag: int, keyword: str, vr: str, retired: bool) -> None:
    e = lookup(tag)
    assert e is not None
    assert (e.tag, e.keyword, e.vr, e.retired) == (tag, keyword, vr, retired)
    assert (vr_of(tag), keyword_of(tag), vm_of(tag)) == (vr, keyword, e.vm)


def test_exact_entries_win_over_repeaters() -> None:
    assert keyword_of(0x00280400) == "TransformLabel"  # not (0028,04x0) RowsForNthOrderCoefficients
    assert keyword_of(0x7FE00010) == "PixelData"  # not (7Fxx,0010) VariablePixelData
    assert keyword_of(0x7FE00020) == "CoefficientsSDVN"


def test_repeating_groups_are_even_only() -> None:
    # (6001,3000) is a private element, not overlay data
    assert keyword_of(0x60013000) is None
    assert lookup(0x60013000) is None
    assert keyword_of(0x60010010) == "PrivateCreator"
    assert lookup(0x50010005) is None
    assert lookup(0x61003000) is None  # outside 60xx
    assert lookup(0x60003001) is None  # unknown element in an overlay group


def test_repeater_masks_cover_their_patterns() -> None:
    for mask, value, _entry in REPEATERS:
        assert value & mask == value
        assert mask & 0xFFFF0000 in (0xFFFF0000, 0xFF010000)  # fixed group, or even groups xx


def test_group_length() -> None:
    for group in (0x0008, 0x0010, 0x0028, 0x1000, 0x6000, 0x7FE0, 0x0009, 0x0011, 0xFFFE):
        tag = group << 16
        e = lookup(tag)
        assert e is not None
        assert (e.vr, e.vm, e.keyword, e.name) == ("UL", "1", "GroupLength", "Group Length")
        assert e.retired  # PS3.5 7.2: retired except in groups 0000 and 0002
        assert vr_of(tag) == "UL" and keyword_of(tag) == "GroupLength" and vm_of(tag) == "1"
    assert keyword_of(0x00000000) == "CommandGroupLength"
    assert keyword_of(0x00020000) == "FileMetaInformationGroupLength"
    assert lookup(0x00020000).retired is False  # type: ignore[union-attr]


def test_private_creator() -> None:
    for tag in (0x00090010, 0x000900FF, 0x00290011, 0x7FE10010, 0xFFFD0020):
        e = lookup(tag)
        assert e is not None, f"{tag:08X}"
        assert (e.vr, e.vm, e.name, e.keyword, e.retired) == (
            "LO",
            "1",
            "Private Creator",
            "PrivateCreator",
            False,
        )
        assert vr_of(tag) == "LO" and keyword_of(tag) == "PrivateCreator"
    # not private creators: private data elements, reserved range, illegal and even groups
    for tag in (0x00091010, 0x00090001, 0x0009000F, 0x00090100, 0x00070010, 0x00010010, 0xFFFF0010):
        assert lookup(tag) is None, f"{tag:08X}"
        assert vr_of(tag) is None and keyword_of(tag) is None and vm_of(tag) is None


def test_unknown_tags() -> None:
    for tag in (0x00100001, 0x00291010, 0x12345678, -1, 1 << 32):
        assert lookup(tag) is None
        assert vr_of(tag) is None
        assert vm_of(tag) is None
        assert keyword_of(tag) is None


def test_private_creator_tag() -> None:
    assert private_creator_tag(0x00291010) == 0x00290010
    assert private_creator_tag(0x002910FF) == 0x00290010
    assert private_creator_tag(0x0029FF00) == 0x002900FF
    assert private_creator_tag(0x7FE11234) == 0x7FE10012
    assert private_creator_tag(0x00290010) is None  # the creator itself
    assert private_creator_tag(0x00290FFF) is None  # xx < 0x10
    assert private_creator_tag(0x00101010) is None  # standard group
    assert private_creator_tag(0x00071010) is None  # illegal odd group
    assert private_creator_tag(0xFFFF1010) is None


def test_hot_paths_return_shared_strings() -> None:
    # a dict lookup: the same str object each time, no per-call allocation
    assert vr_of(0x00100010) is vr_of(0x00100010)
    assert keyword_of(0x00100010) is keyword_of(0x00100010)
    assert vm_of(0x00100010) is vm_of(0x00100010)


# ----------------------------------------------------------------------------- keywords


def test_tag_for_keyword() -> None:
    t = tag_for_keyword("PatientName")
    assert t == 0x00100010 and isinstance(t, Tag)
    assert tag_for_keyword("OverlayData") == 0x60003000
    assert tag_for_keyword("CurveData") == 0x50003000
    assert tag_for_keyword("EscapeTriplet") == 0x10000010
    assert tag_for_keyword("CommandGroupLength") == 0
    assert Tag("PatientName") == 0x00100010


def test_repeater_keywords_resolve_back() -> None:
    for kw, tag in REPEATER_TAGS.items():
        assert tag_for_keyword(kw) == tag
        assert keyword_of(tag) == kw, f"{kw} -> {tag:08X}"


def test_tag_or_none() -> None:
    assert tag_or_none("PatientID") == 0x00100020
    assert tag_or_none("OverlayRows") == 0x60000010
    assert tag_or_none("PatientNam") is None
    assert tag_or_none("") is None
    assert tag_or_none("GroupLength") is None


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("PatientNam", "PatientName"),
        ("PatientsName", "PatientName"),
        ("patientname", "PatientName"),
        ("PATIENTNAME", "PatientName"),
        ("StudyInstanceUid", "StudyInstanceUID"),
        ("SOPClassUi", "SOPClassUID"),
        ("PixelDat", "PixelData"),
    ],
)
def test_keyword_typos_suggest(typo: str, expected: str) -> None:
    with pytest.raises(KeywordError) as info:
        tag_for_keyword(typo)
    assert f"did you mean {expected!r}?" in str(info.value)
    assert isinstance(info.value, KeyError)
    assert suggest(typo)[0] == expected
    with pytest.raises(KeywordError, match=f"did you mean {expected!r}"):
        Tag(typo)


def test_suggest() -> None:
    s = suggest("PatientNam")
    assert s[0] == "PatientName" and len(s) == 3
    assert len(set(s)) == len(s)
    assert suggest("PatientNam", n=1) == ["PatientName"]
    assert suggest("PatientNam", n=0) == []
    assert suggest("Qzxwv") == []
    with pytest.raises(KeywordError) as info:
        tag_for_keyword("Qzxwv")
    assert "did you mean" not in str(info.value)


# ----------------------------------------------------------------------------- UIDs


def test_uid_info() -> None:
    e = uid_info("1.2.840.10008.5.1.4.1.1.2")
    assert e == UIDEntry(
        "1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", "CTImageStorage", "SOP Class", False
    )
    ts = uid_info("1.2.840.10008.1.2.1")
    assert ts is not None and ts.type == "Transfer Syntax" and ts.keyword == "ExplicitVRLittleEndian"
    big = uid_info("1.2.840.10008.1.2.2")
    assert big is not None and big.retired
    assert uid_info("1.2.3.4") is None
    assert uid_info("") is None


def test_uid_info_ignores_padding() -> None:
    assert uid_info("1.2.840.10008.1.2\x00") == uid_info("1.2.840.10008.1.2")
    assert uid_info("1.2.840.10008.1.2 ") == uid_info("1.2.840.10008.1.2")
    info = uid_info(UID("1.2.840.10008.1.1\x00"))
    assert info is not None and info.uid == "1.2.840.10008.1.1" and type(info.uid) is str


def test_uid_types() -> None:
    types = {e[2] for e in UIDS.values()}
    assert {"SOP Class", "Transfer Syntax", "Well-known frame of reference", "LDAP OID"} <= types
    assert sum(e[2] == "Transfer Syntax" for e in UIDS.values()) > 50


def test_uid_for_keyword() -> None:
    u = uid_for_keyword("CTImageStorage")
    assert u == "1.2.840.10008.5.1.4.1.1.2" and isinstance(u, UID)
    assert u.name == "CT Image Storage" and u.keyword == "CTImageStorage"
    with pytest.raises(KeywordError, match="did you mean 'CTImageStorage'"):
        uid_for_keyword("CTImageStorag")
    with pytest.raises(KeyError):
        uid_for_keyword("PatientName")


# ----------------------------------------------------------------------------- generated modules


def test_tags_module() -> None:
    assert tags.PatientName == 0x00100010 and isinstance(tags.PatientName, Tag)
    assert tags.OverlayData == 0x60003000
    assert tags.PixelData == 0x7FE00010
    assert tags.UID == 0x0040A124  # a data element keyword, not the UID class
    names = [
        n for n in vars(tags) if not n.startswith("_") and n not in ("Tag", "TYPE_CHECKING", "annotations")
    ]
    assert sorted(names) == sorted(tags.__all__)
    assert len(names) == len({e[3] for e in ELEMENTS.values() if e[3]} | set(REPEATER_TAGS))
    for name in tags.__all__:
        assert tag_for_keyword(name) == getattr(tags, name), name


def test_uids_module() -> None:
    assert uids.CTImageStorage == "1.2.840.10008.5.1.4.1.1.2" and isinstance(uids.CTImageStorage, UID)
    assert uids.ExplicitVRLittleEndian == "1.2.840.10008.1.2.1"
    assert len(uids.__all__) == len({e[1] for e in UIDS.values() if e[1]})
    for name in uids.__all__:
        assert uid_for_keyword(name) == getattr(uids, name)


def test_generated_headers_record_source_and_edition() -> None:
    pydicom = pytest.importorskip("pydicom")
    from pydicom import _version

    for name in ("_dictdata.py", "tags.py", "uids.py"):
        head = (ROOT / "src" / "dicomkit" / name).read_text(encoding="utf-8")[:800]
        assert f"pydicom {pydicom.__version__}" in head
        assert f"edition {_version.__dicom_version__}" in head
        assert "tools/gen_dictionary.py" in head


def test_generated_files_are_up_to_date(tmp_path: Path) -> None:
    pytest.importorskip("pydicom", reason="the generator reads pydicom's tables")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_dictionary.py"), "--out-dir", str(tmp_path), "--no-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(r"wrote .*: \d+ elements, \d+ repeaters, \d+ UIDs", proc.stdout)
    for name in ("_dictdata.py", "tags.py", "uids.py"):
        fresh = (tmp_path / name).read_bytes()
        committed = (ROOT / "src" / "dicomkit" / name).read_bytes()
        assert fresh == committed, f"src/dicomkit/{name} is stale: rerun tools/gen_dictionary.py"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("pydicom", reason="the generator reads pydicom's tables")
    for sub in ("a", "b"):
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "gen_dictionary.py"),
                "--out-dir",
                str(tmp_path / sub),
                "--no-check",
            ],
            capture_output=True,
            check=True,
        )
    for name in ("_dictdata.py", "tags.py", "uids.py"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_module_exports() -> None:
    for name in dictionary.__all__:
        assert hasattr(dictionary, name)
