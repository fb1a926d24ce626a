"""The one Query object: attribute matching for C-FIND, QIDO-RS and the command line.

This module owns the query model shared by everything that searches: :class:`Query` (a level,
matching :class:`Condition` values, return keys, paging and ordering), its parsers
(:meth:`Query.from_params` for CLI/QIDO-RS parameters, :meth:`Query.from_identifier` for a C-FIND
identifier) and the in-memory matcher (:meth:`Query.matches` on DICOM JSON records,
:meth:`Query.match_dataset` on data sets, :meth:`Query.apply` for matching + ordering + paging).
The archive compiles the same :class:`Query` to SQL, using :func:`normalize_for_range` and
:func:`pn_fold` so that both agree.

Standards implemented:

* PS3.4 C.2.2.2 attribute matching: single value (C.2.2.2.1, including empty value matching
  with ``""``), list of UID (C.2.2.2.2), universal (C.2.2.2.3), wild card (C.2.2.2.4), range
  (C.2.2.2.5), sequence (C.2.2.2.6) and multiple value matching (a multi-valued stored attribute
  matches when any of its values matches).
* PS3.4 C.6.1.1 (Patient Root) and C.6.2.1 (Study Root) key tables: which attributes live at
  which level, the unique keys, and the rule that a key below the query level is an error;
  C.4.1.2.1 hierarchical search (unique keys of the higher levels) when ``relational=False``.
* PS3.18 8.3.4 QIDO-RS query parameters: ``{attributeID}={value}``, UID lists separated by
  commas, ``includefield``, ``fuzzymatching``, ``limit``, ``offset`` (and ``orderby``, a dicomkit
  extension), and the default return attributes of PS3.18 Table 10.6.3-3/-4/-5.

The choices the standard leaves open are documented in docs/query.md.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import struct
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

from dicomkit import dictionary
from dicomkit.dataset import Dataset
from dicomkit.errors import QueryError
from dicomkit.model.findings import Level
from dicomkit.uid import is_valid_uid

__all__ = [
    "LEVEL_KEYS",
    "QIDO_RESERVED",
    "UNIQUE_KEYS",
    "Condition",
    "MatchKind",
    "Query",
    "attribute_level",
    "normalize_for_range",
    "pn_fold",
]


class MatchKind(StrEnum):
    """The kind of matching a :class:`Condition` asks for (PS3.4 C.2.2.2.x)."""

    SINGLE = "single"  # exact value (PN case-insensitive only when Condition.fuzzy)
    WILDCARD = "wildcard"  # pattern with * and/or ?
    LIST = "list"  # list of UID matching (UI only)
    RANGE = "range"  # DA/TM/DT: low and/or high, normalized (see normalize_for_range)
    EMPTY = "empty"  # '""': the attribute is absent or zero length
    SEQUENCE = "sequence"  # items: the conditions one item of the sequence must meet


@dataclass(frozen=True, slots=True)
class Condition:
    """One matching key.

    ``values`` holds the one value of SINGLE and WILDCARD (stripped of insignificant spaces),
    the UIDs of LIST; ``low``/``high`` the normalized bounds of RANGE (None: open); ``items``
    the sub-conditions of SEQUENCE. A single DA/TM/DT value is a RANGE whose bounds cover its
    precision (``StudyTime=10`` is 10:00:00 to 10:59:59.999999), so ``low == high`` for a date.
    ``fuzzy`` is set on PN conditions of a fuzzy query (see :func:`pn_fold`).
    """

    tag: int
    keyword: str
    vr: str
    level: Level
    kind: MatchKind
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    items: tuple[Condition, ...] = ()
    fuzzy: bool = False


# ----------------------------------------------------------------------------- key tables

#: The unique key of each level (PS3.4 C.6.1.1 / C.6.2.1).
UNIQUE_KEYS: Mapping[Level, int] = {
    Level.PATIENT: 0x00100020,  # PatientID
    Level.STUDY: 0x0020000D,  # StudyInstanceUID
    Level.SERIES: 0x0020000E,  # SeriesInstanceUID
    Level.INSTANCE: 0x00080018,  # SOPInstanceUID
}

_PATIENT_KEYWORDS = """
PatientName PatientID IssuerOfPatientID IssuerOfPatientIDQualifiersSequence TypeOfPatientID
OtherPatientIDsSequence OtherPatientNames PatientBirthDate PatientBirthTime PatientSex
PatientBirthName PatientMotherBirthName EthnicGroup PatientComments PatientSpeciesDescription
PatientSpeciesCodeSequence PatientBreedDescription PatientBreedCodeSequence BreedRegistrationSequence
ResponsiblePerson ResponsiblePersonRole ResponsibleOrganization PatientIdentityRemoved
DeidentificationMethod DeidentificationMethodCodeSequence QualityControlSubject ReferencedPatientSequence
ReferencedPatientPhotoSequence PatientAddress PatientTelephoneNumbers PatientReligiousPreference
MilitaryRank BranchOfService MedicalRecordLocator CountryOfResidence RegionOfResidence
PatientInsurancePlanCodeSequence PatientPrimaryLanguageCodeSequence MedicalAlerts Allergies
PatientSexNeutered StrainDescription StrainNomenclature StrainAdditionalInformation
ClinicalTrialSponsorName ClinicalTrialProtocolID ClinicalTrialProtocolName ClinicalTrialSiteID
ClinicalTrialSiteName ClinicalTrialSubjectID ClinicalTrialSubjectReadingID
NumberOfPatientRelatedStudies NumberOfPatientRelatedSeries NumberOfPatientRelatedInstances
"""
_STUDY_KEYWORDS = """
StudyInstanceUID StudyDate StudyTime AccessionNumber IssuerOfAccessionNumberSequence StudyID
ReferringPhysicianName ReferringPhysicianIdentificationSequence ConsultingPhysicianName
ConsultingPhysicianIdentificationSequence StudyDescription ProcedureCodeSequence PhysiciansOfRecord
PhysiciansOfRecordIdentificationSequence NameOfPhysiciansReadingStudy
PhysiciansReadingStudyIdentificationSequence ReferencedStudySequence RequestingServiceCodeSequence
ReasonForPerformedProcedureCodeSequence ModalitiesInStudy SOPClassesInStudy
AnatomicRegionsInStudyCodeSequence NumberOfStudyRelatedSeries NumberOfStudyRelatedInstances
AdmittingDiagnosesDescription AdmittingDiagnosesCodeSequence PatientAge PatientSize PatientWeight
PatientSizeCodeSequence Occupation AdditionalPatientHistory AdmissionID IssuerOfAdmissionIDSequence
ServiceEpisodeID ServiceEpisodeDescription IssuerOfServiceEpisodeIDSequence SmokingStatus
PregnancyStatus LastMenstrualDate PatientState ClinicalTrialTimePointID ClinicalTrialTimePointDescription
"""
_SERIES_KEYWORDS = """
SeriesInstanceUID Modality SeriesNumber SeriesDate SeriesTime SeriesDescription
SeriesDescriptionCodeSequence Laterality PerformingPhysicianName PerformingPhysicianIdentificationSequence
ProtocolName OperatorsName OperatorIdentificationSequence ReferencedPerformedProcedureStepSequence
RelatedSeriesSequence BodyPartExamined PatientPosition SmallestPixelValueInSeries
LargestPixelValueInSeries RequestAttributesSequence PerformedProcedureStepID
PerformedProcedureStepStartDate PerformedProcedureStepStartTime PerformedProcedureStepEndDate
PerformedProcedureStepEndTime PerformedProcedureStepDescription PerformedProtocolCodeSequence
CommentsOnThePerformedProcedureStep AnatomicalOrientationType NumberOfSeriesRelatedInstances
FrameOfReferenceUID PositionReferenceIndicator Manufacturer InstitutionName InstitutionAddress
StationName InstitutionalDepartmentName ManufacturerModelName DeviceSerialNumber SoftwareVersions
ClinicalTrialCoordinatingCenterName ClinicalTrialSeriesID ClinicalTrialSeriesDescription
"""
_INSTANCE_KEYWORDS = """
SOPInstanceUID SOPClassUID InstanceNumber ContentDate ContentTime AcquisitionDate AcquisitionTime
AcquisitionDateTime AcquisitionNumber InstanceCreationDate InstanceCreationTime InstanceCreatorUID
ImageType Rows Columns BitsAllocated BitsStored HighBit PixelRepresentation SamplesPerPixel
PhotometricInterpretation NumberOfFrames ImagePositionPatient ImageOrientationPatient SliceLocation
SliceThickness PixelSpacing AlternateRepresentationSequence ConceptNameCodeSequence
ContentTemplateSequence CompletionFlag VerificationFlag ContentLabel ContentDescription
PresentationCreationDate PresentationCreationTime ContentCreatorName ObservationDateTime
DocumentTitle BurnedInAnnotation LossyImageCompression ReferencedSOPClassUID ReferencedSOPInstanceUID
"""


def _keyword_tags(text: str) -> tuple[int, ...]:
    tags = []
    for keyword in text.split():
        tag = dictionary.tag_or_none(keyword)
        if tag is None:  # pragma: no cover - guarded by tests/model/test_query.py
            raise RuntimeError(f"query key table names an unknown keyword {keyword!r}")
        tags.append(tag)
    return tuple(tags)


_LEVEL_ATTRIBUTES: dict[int, Level] = {}
for _level, _text in (
    (Level.PATIENT, _PATIENT_KEYWORDS),
    (Level.STUDY, _STUDY_KEYWORDS),
    (Level.SERIES, _SERIES_KEYWORDS),
    (Level.INSTANCE, _INSTANCE_KEYWORDS),
):
    for _tag in _keyword_tags(_text):
        _LEVEL_ATTRIBUTES.setdefault(_tag, _level)

#: Per level, the attributes with typed index columns in the archive: the identifying attributes,
#: the QIDO-RS matching and return keys (PS3.18 Table 10.6.3-3/-4/-5) and the PS3.4 C.6.2.1
#: unique and required keys of that level.
LEVEL_KEYS: Mapping[Level, tuple[int, ...]] = {
    Level.PATIENT: _keyword_tags(
        "PatientID IssuerOfPatientID PatientName PatientBirthDate PatientSex "
        "NumberOfPatientRelatedStudies NumberOfPatientRelatedSeries NumberOfPatientRelatedInstances"
    ),
    Level.STUDY: _keyword_tags(
        "StudyInstanceUID StudyDate StudyTime AccessionNumber StudyID ReferringPhysicianName "
        "StudyDescription ModalitiesInStudy SOPClassesInStudy NumberOfStudyRelatedSeries "
        "NumberOfStudyRelatedInstances"
    ),
    Level.SERIES: _keyword_tags(
        "SeriesInstanceUID Modality SeriesNumber SeriesDescription SeriesDate SeriesTime BodyPartExamined "
        "PerformedProcedureStepStartDate PerformedProcedureStepStartTime NumberOfSeriesRelatedInstances"
    ),
    Level.INSTANCE: _keyword_tags(
        "SOPInstanceUID SOPClassUID InstanceNumber ContentDate ContentTime Rows Columns BitsAllocated "
        "NumberOfFrames"
    ),
}

#: QIDO-RS default return attributes per level (PS3.18 Table 10.6.3-3/-4/-5), without those the
#: web layer fills in itself (RetrieveURL, InstanceAvailability).
_QIDO_DEFAULTS: Mapping[Level, tuple[int, ...]] = {
    Level.PATIENT: _keyword_tags(
        "SpecificCharacterSet PatientName PatientID PatientBirthDate PatientSex NumberOfPatientRelatedStudies"
    ),
    Level.STUDY: _keyword_tags(
        "SpecificCharacterSet StudyDate StudyTime AccessionNumber ModalitiesInStudy ReferringPhysicianName "
        "TimezoneOffsetFromUTC PatientName PatientID PatientBirthDate PatientSex StudyInstanceUID StudyID "
        "NumberOfStudyRelatedSeries NumberOfStudyRelatedInstances"
    ),
    Level.SERIES: _keyword_tags(
        "SpecificCharacterSet Modality TimezoneOffsetFromUTC SeriesDescription SeriesInstanceUID SeriesNumber "
        "NumberOfSeriesRelatedInstances PerformedProcedureStepStartDate PerformedProcedureStepStartTime "
        "RequestAttributesSequence"
    ),
    Level.INSTANCE: _keyword_tags(
        "SpecificCharacterSet SOPClassUID SOPInstanceUID TimezoneOffsetFromUTC InstanceNumber Rows Columns "
        "BitsAllocated NumberOfFrames"
    ),
}

#: QIDO-RS reserved query parameters (PS3.18 8.3.4); "orderby" is a dicomkit extension, "accept"
#: and "charset" (PS3.18 8.3.3.1) belong to the web layer and are ignored here.
QIDO_RESERVED = frozenset(
    {"includefield", "limit", "offset", "fuzzymatching", "orderby", "accept", "charset"}
)

_RANK = {Level.PATIENT: 0, Level.STUDY: 1, Level.SERIES: 2, Level.INSTANCE: 3}
_LEVEL_NAMES = {
    "patient": Level.PATIENT,
    "study": Level.STUDY,
    "studies": Level.STUDY,
    "series": Level.SERIES,
    "image": Level.INSTANCE,
    "instance": Level.INSTANCE,
    "instances": Level.INSTANCE,
}
_CFIND_LEVEL = {
    Level.PATIENT: "PATIENT",
    Level.STUDY: "STUDY",
    Level.SERIES: "SERIES",
    Level.INSTANCE: "IMAGE",
}

_QUERY_RETRIEVE_LEVEL = 0x00080052
_SPECIFIC_CHARACTER_SET = 0x00080005
#: Identifier elements that are not keys: Specific Character Set, Query/Retrieve Level and View,
#: Timezone Offset From UTC (see docs/query.md).
_NOT_KEYS = frozenset({_SPECIFIC_CHARACTER_SET, _QUERY_RETRIEVE_LEVEL, 0x00080053, 0x00080201})


def attribute_level(tag: int, default: Level) -> Level:
    """The level an attribute lives at (PS3.4 C.6.1.1 / C.6.2.1 tables); ``default`` for the others."""
    return _LEVEL_ATTRIBUTES.get(tag, default)


def _as_level(level: Level | str) -> Level:
    if isinstance(level, Level):
        return level
    found = _LEVEL_NAMES.get(str(level).strip().lower())
    if found is None:
        raise QueryError(f"unknown query level {level!r}; use patient, study, series or instance")
    return found


def _as_root(root: str) -> str:
    text = str(root).strip().upper()
    if text not in ("PATIENT", "STUDY"):
        raise QueryError(f"unknown information model root {root!r}; use PATIENT or STUDY")
    return text


def _rank(level: Level, root: str) -> int:
    """The depth of ``level``; in the Study Root model patient attributes belong to the study level."""
    if root == "STUDY" and level is Level.PATIENT:
        return 1
    return _RANK[level]


# ----------------------------------------------------------------------------- VR classes

_WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
_INT_VRS = frozenset({"IS", "SL", "SS", "SV", "UL", "US", "UV"})
_FLOAT_VRS = frozenset({"DS", "FL", "FD"})
_NUMBER_VRS = _INT_VRS | _FLOAT_VRS
_DATE_VRS = frozenset({"DA", "TM", "DT"})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
#: VRs whose values may hold a backslash (PS3.5 Table 6.2-1): they have one value.
_BACKSLASH_VRS = frozenset({"LT", "ST", "UT"})
#: VRs whose leading spaces are significant (PS3.5 Table 6.2-1): only trailing ones are stripped.
_TRAILING_ONLY = frozenset({"LT", "ST", "UT", "UC", "UR"})


def _norm_vr(vr: str) -> str:
    return vr.split(" or ")[0] if " or " in vr else vr


# ----------------------------------------------------------------------------- normalization

_DA_RE = re.compile(r"(\d{4})(\d{2})(\d{2})\Z")
_DA_OLD_RE = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})\Z")
_TM_RE = re.compile(r"(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?\Z")
_TM_OLD_RE = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\Z")
_DT_RE = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?([+-]\d{4})?\Z"
)
_DT_MIN = "00010101000000.000000"
_DT_MAX = "99991231235959.999999"


def _time_parts(hh: str, mm: str | None, ss: str | None, frac: str | None, high: bool) -> str:
    if not (0 <= int(hh) <= 23 and (mm is None or int(mm) <= 59) and (ss is None or int(ss) <= 60)):
        raise ValueError("out of range")
    fill = "9" if high else "0"
    minute = mm if mm is not None else ("59" if high else "00")
    second = ss if ss is not None else ("59" if high else "00")
    if second == "60":  # a leap second: the last instant of the minute
        second, frac = "59", "999999"
    return f"{hh}{minute}{second}.{(frac or '').ljust(6, fill)}"


def normalize_for_range(vr: str, value: str, *, high: bool = False) -> str:
    """Canonical, lexically comparable text of a DA, TM or DT value.

    * DA → ``YYYYMMDD`` (the retired ``YYYY.MM.DD`` form is accepted).
    * TM → ``HHMMSS.ffffff``; a partial time is padded to the first instant it covers, or with
      ``high=True`` to the last: ``"10"`` → ``"100000.000000"`` / ``"105959.999999"``. A leap second
      (``60``) is the last instant of its minute. The retired ``HH:MM:SS`` form is accepted.
    * DT → ``YYYYMMDDHHMMSS.ffffff`` in UTC, padded like TM (a missing month/day is January 1st,
      or with ``high=True`` the last day of the year/month). A value with an offset ``&ZZXX`` is
      converted to UTC; a value without one is taken as it is (as if it were UTC).

    Used by the in-memory matcher for query bounds and stored values alike, and by the archive
    to fill its typed columns (with ``high=False``). Raises :class:`QueryError` for a value that
    is not valid for ``vr``, or a VR other than DA, TM and DT.
    """
    vr = _norm_vr(vr)
    text = value.strip() if isinstance(value, str) else ""
    try:
        if vr == "DA":
            m = _DA_RE.match(text) or _DA_OLD_RE.match(text)
            if not m:
                raise ValueError("not YYYYMMDD")
            _dt.date(int(m[1]), int(m[2]), int(m[3]))
            return f"{m[1]}{m[2]}{m[3]}"
        if vr == "TM":
            m = _TM_RE.match(text) or _TM_OLD_RE.match(text)
            if not m:
                raise ValueError("not HHMMSS.FFFFFF")
            return _time_parts(m[1], m[2], m[3], m[4], high)
        if vr == "DT":
            m = _DT_RE.match(text)
            if not m:
                raise ValueError("not YYYYMMDDHHMMSS.FFFFFF&ZZXX")
            return _normalize_dt(m, high)
    except ValueError:
        raise QueryError(f"{value!r} is not a valid {vr} value") from None
    raise QueryError(f"range matching applies to DA, TM and DT values only, not {vr}")


def _normalize_dt(m: re.Match[str], high: bool) -> str:
    year = int(m[1])
    if year == 0:
        raise ValueError("year 0")
    month = int(m[2]) if m[2] else (12 if high else 1)
    if not 1 <= month <= 12:
        raise ValueError("month")
    last = calendar.monthrange(year, month)[1]
    day = int(m[3]) if m[3] else (last if high else 1)
    if not 1 <= day <= last:
        raise ValueError("day")
    if m[4] is None:
        clock = "235959.999999" if high else "000000.000000"
    else:
        clock = _time_parts(m[4], m[5], m[6], m[7], high)
    text = f"{year:04d}{month:02d}{day:02d}{clock}"
    offset = m[8]
    if not offset:
        return text
    hours, minutes = int(offset[1:3]), int(offset[3:5])
    if hours > 14 or minutes > 59:
        raise ValueError("offset")
    delta = _dt.timedelta(hours=hours, minutes=minutes)
    local = _dt.datetime.strptime(text, "%Y%m%d%H%M%S.%f")
    try:
        utc = local - delta if offset[0] == "+" else local + delta
    except OverflowError:
        return _DT_MIN if offset[0] == "+" else _DT_MAX
    return utc.strftime("%Y%m%d%H%M%S.%f").rjust(21, "0")


@lru_cache(maxsize=65536)
def _stored_bound(vr: str, value: str) -> str | None:
    """A stored DA/TM/DT value as a point (its first instant), or None when it is not valid."""
    try:
        return normalize_for_range(vr, value)
    except QueryError:
        return None


def pn_fold(value: str) -> str:
    """The folded form of a person name used by fuzzy PN matching.

    Compatibility-decomposed (NFKD), combining marks (accents) dropped, case-folded, the
    component (``^``) and component group (``=``) separators and runs of spaces turned into
    one space, trimmed: ``"Müller^Jürgen=ミュラー"`` → ``"muller jurgen ミュラー"``. A fuzzy
    single value matches when its folded form starts a word of the stored name's folded form
    (``(' ' || folded) LIKE '% ' || q || '%'`` in SQL); see docs/query.md.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = stripped.casefold().replace("^", " ").replace("=", " ")
    return " ".join(spaced.split())


# ----------------------------------------------------------------------------- the query

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Query:
    """A query at one level of the Patient Root or Study Root information model.

    ``conditions`` are the matching keys (never universal ones; all must hold); ``return_tags``
    the requested return keys in order (including universal-match keys); ``include_all`` is QIDO's
    ``includefield=all``; ``limit``/``offset`` page the ordered result; ``order_by`` holds
    ``(tag, descending)`` pairs; ``root`` is ``"PATIENT"`` or ``"STUDY"``. ``cfind`` is True for a
    query built from a C-FIND identifier: its responses carry Query/Retrieve Level.
    """

    level: Level
    conditions: tuple[Condition, ...]
    return_tags: tuple[int, ...]
    include_all: bool = False
    limit: int | None = None
    offset: int = 0
    order_by: tuple[tuple[int, bool], ...] = ()
    fuzzy: bool = False
    root: str = "STUDY"
    cfind: bool = field(default=False, compare=False)
    _predicates: tuple[Predicate, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _as_level(self.level))
        object.__setattr__(self, "root", _as_root(self.root))
        if self.limit is not None and self.limit < 0:
            raise QueryError(f"limit must be >= 0, not {self.limit}")
        if self.offset < 0:
            raise QueryError(f"offset must be >= 0, not {self.offset}")
        object.__setattr__(self, "_predicates", tuple(_compiled(c) for c in self.conditions))

    # -- construction --------------------------------------------------------------
    @classmethod
    def from_params(
        cls,
        level: Level | str,
        params: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
        *,
        return_keys: Iterable[str] = (),
        fuzzy: bool = False,
        limit: int | None = None,
        offset: int = 0,
        order_by: Iterable[str] = (),
        root: str = "STUDY",
        relational: bool = True,
    ) -> Query:
        """A query from CLI arguments or QIDO-RS query parameters (PS3.18 8.3.4).

        Keys are PS3.6 keywords, ``GGGGEEEE``, ``(gggg,eeee)`` or dotted sequence paths
        (``RequestAttributesSequence.ScheduledProcedureStepID``). Values: ``""`` (nothing) is
        universal matching (a return key), ``'""'`` empty value matching, ``*`` or ``?`` make a
        wild card, ``a,b`` (or ``a\\b``) a list of UIDs, ``20240101-``, ``-20240101`` and
        ``20240101-20240131`` ranges. The QIDO reserved parameters ``includefield``, ``limit``,
        ``offset``, ``fuzzymatching`` and ``orderby`` are taken from ``params`` when present
        (they override the keyword arguments). With ``relational=False`` the hierarchical
        search rules of PS3.4 C.4.1.2.1 are enforced. Raises :class:`QueryError`.
        """
        lvl = _as_level(level)
        rt = _as_root(root)
        _check_level_in_root(lvl, rt)
        pairs = list(_param_pairs(params))
        include_all = False
        returns: list[int] = list(_QIDO_DEFAULTS[lvl])
        order_texts = list(order_by)
        matching: list[tuple[str, str]] = []
        for key, value in pairs:
            lowered = key.strip().lower()
            if lowered in QIDO_RESERVED:
                if lowered == "includefield":
                    for part in _split_list(value):
                        if part.lower() == "all":
                            include_all = True
                        else:
                            returns.append(_resolve_path(part)[0][0])
                elif lowered == "limit":
                    limit = _parse_int("limit", value)
                elif lowered == "offset":
                    offset = _parse_int("offset", value)
                elif lowered == "fuzzymatching":
                    fuzzy = _parse_bool("fuzzymatching", value)
                elif lowered == "orderby":
                    order_texts.extend(_split_list(value))
                continue
            matching.append((key, value))
        for key in return_keys:
            returns.append(_resolve_path(key)[0][0])
        builder = _Builder(lvl, rt, fuzzy)
        for key, value in matching:
            builder.add_param(key, value)
        conditions = builder.conditions()
        returns.extend(builder.universal)
        query = cls(
            level=lvl,
            conditions=conditions,
            return_tags=_unique(returns + [c.tag for c in conditions]),
            include_all=include_all,
            limit=limit,
            offset=offset,
            order_by=tuple(_parse_order(text) for text in order_texts),
            fuzzy=fuzzy,
            root=rt,
        )
        query._validate(relational)
        return query

    @classmethod
    def from_identifier(
        cls,
        identifier: Dataset,
        *,
        root: str = "STUDY",
        fuzzy: bool = False,
        relational: bool = True,
    ) -> Query:
        """A query from a C-FIND request identifier (PS3.4 C.4.1.1.3).

        Query/Retrieve Level (0008,0052) gives the level (``IMAGE`` is the instance level);
        zero-length elements are universal matching (return keys); a sequence with one item is
        sequence matching on the item's non-empty elements (universal when it has none);
        ``a\\b`` values of a UI element are list of UID matching. Values are compared as text
        decoded with the identifier's Specific Character Set (the reader decodes them).
        ``fuzzy`` stands for the Extended Negotiation fuzzy semantic matching of person names.
        With ``relational=False`` the hierarchical search rules of PS3.4 C.4.1.2.1 apply.
        """
        rt = _as_root(root)
        if _QUERY_RETRIEVE_LEVEL not in identifier:
            raise QueryError("the identifier has no QueryRetrieveLevel (0008,0052)")
        raw_level = _element_text(identifier[_QUERY_RETRIEVE_LEVEL].value).strip()
        level_name = raw_level.lower()
        if level_name not in ("patient", "study", "series", "image"):
            raise QueryError(f"QueryRetrieveLevel {raw_level!r} is not PATIENT, STUDY, SERIES or IMAGE")
        lvl = _LEVEL_NAMES[level_name]
        _check_level_in_root(lvl, rt)
        builder = _Builder(lvl, rt, fuzzy)
        returns: list[int] = []
        for elem in identifier:
            tag = int(elem.tag)
            if tag in _NOT_KEYS or tag >> 16 in (0x0000, 0x0002) or not tag & 0xFFFF:
                continue
            returns.append(tag)
            builder.add_element(elem.tag, str(elem.VR), elem.value)
        conditions = builder.conditions()
        query = cls(
            level=lvl,
            conditions=conditions,
            return_tags=tuple(returns),
            fuzzy=fuzzy,
            root=rt,
            cfind=True,
        )
        query._validate(relational)
        return query

    def _validate(self, relational: bool) -> None:
        depth = _rank(self.level, self.root)
        for tag in self.return_tags:
            _check_depth(tag, attribute_level(tag, self.level), self, depth)
        for cond in self.conditions:
            _check_depth(cond.tag, cond.level, self, depth)
        for tag, _descending in self.order_by:
            _check_depth(tag, attribute_level(tag, self.level), self, depth)
        if relational:
            return
        # PS3.4 C.4.1.2.1: above the query level only the unique keys, with single value
        # matching; every higher level's unique key present (Study Root: no patient level).
        given = {c.tag: c for c in self.conditions}
        for cond in self.conditions:
            if _rank(cond.level, self.root) < depth and cond.tag not in UNIQUE_KEYS.values():
                raise QueryError(
                    f"{_name(cond.tag)}: a hierarchical {self.level}-level query may only hold the "
                    "unique keys of the higher levels (PS3.4 C.4.1.2.1)"
                )
        for lvl, unique in UNIQUE_KEYS.items():
            if _rank(lvl, self.root) >= depth or (self.root == "STUDY" and lvl is Level.PATIENT):
                continue
            unique_cond = given.get(unique)
            if unique_cond is None or unique_cond.kind is not MatchKind.SINGLE:
                raise QueryError(
                    f"{_name(unique)}: a hierarchical {self.level}-level query needs the {lvl}-level "
                    "unique key with a single value (PS3.4 C.4.1.2.1)"
                )

    # -- matching ------------------------------------------------------------------
    def matches(self, record: Mapping[str, Any]) -> bool:
        """Does ``record`` match every condition? ``record`` is a DICOM JSON model object
        (PS3.18 F.2) holding the attributes of the entity and of its parents (merged)."""
        return all(predicate(record) for predicate in self._predicates)

    def match_dataset(self, ds: Dataset) -> bool:
        """:meth:`matches` on a data set (its matched attributes converted to DICOM JSON)."""
        return self.matches(_dataset_record(ds, [c.tag for c in self.conditions]))

    def apply(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The in-memory reference of what the archive returns: the matching records, ordered by
        ``order_by`` (then by the query level's unique key, then input order), then paged."""
        found = [r for r in records if self.matches(r)]
        keys: list[tuple[int, bool]] = [*self.order_by, (UNIQUE_KEYS[self.level], False)]
        for tag, descending in reversed(keys):
            found.sort(key=_sort_key(tag, descending), reverse=descending)
        start = self.offset
        stop = None if self.limit is None else start + self.limit
        return found[start:stop]

    def response(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The identifier to return for ``record``, in DICOM JSON form (PS3.18 F.2).

        The return keys and matched keys taken from ``record`` (absent ones as empty attributes
        ``{"vr": ...}``), the unique keys of the query level and the levels above it, all of the
        record with ``include_all``, and for C-FIND queries Query/Retrieve Level and the record's
        Specific Character Set.
        """
        out: dict[str, Any] = {}
        if self.include_all:
            for key, attr in record.items():
                out[key.upper()] = attr
        tags = list(self.return_tags) + [c.tag for c in self.conditions]
        depth = _rank(self.level, self.root)
        for lvl, unique in UNIQUE_KEYS.items():
            if _RANK[lvl] <= _RANK[self.level] and _rank(lvl, self.root) <= depth:
                tags.append(unique)
        for tag in tags:
            key = f"{tag:08X}"
            if key in out:
                continue
            attr = _attr(record, tag)
            out[key] = attr if attr is not None else {"vr": _norm_vr(dictionary.vr_of(tag) or "UN")}
        if self.cfind:
            out[f"{_QUERY_RETRIEVE_LEVEL:08X}"] = {"vr": "CS", "Value": [_CFIND_LEVEL[self.level]]}
            charset = _attr(record, _SPECIFIC_CHARACTER_SET)
            if charset is not None:
                out[f"{_SPECIFIC_CHARACTER_SET:08X}"] = charset
        return dict(sorted(out.items()))


# ----------------------------------------------------------------------------- parsing helpers


def _check_level_in_root(level: Level, root: str) -> None:
    if root == "STUDY" and level is Level.PATIENT:
        raise QueryError("the Study Root information model has no patient level (PS3.4 C.6.2)")


def _check_depth(tag: int, level: Level, query: Query, depth: int) -> None:
    if _rank(level, query.root) > depth:
        raise QueryError(
            f"{_name(tag)} is a {level}-level attribute: not allowed in a {query.level}-level query "
            f"(PS3.4 C.6.{1 if query.root == 'PATIENT' else 2}.1); query at the {level} level instead"
        )


def _name(tag: int) -> str:
    keyword = dictionary.keyword_of(tag)
    text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return f"{keyword} {text}" if keyword else text


def _unique(tags: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(tags))


def _param_pairs(
    params: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
) -> Iterable[tuple[str, str]]:
    items: Iterable[Any] = params.items() if isinstance(params, Mapping) else params
    for entry in items:
        try:
            key, value = entry
        except (TypeError, ValueError):
            raise QueryError(f"a query parameter must be a (key, value) pair, not {entry!r}") from None
        if not isinstance(key, str):
            raise QueryError(f"a query key must be text, not {key!r}")
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, Sequence):
            for one in value:
                if not isinstance(one, str):
                    raise QueryError(f"{key}: a query value must be text, not {one!r}")
                yield key, one
        elif value is None:
            yield key, ""
        else:
            raise QueryError(f"{key}: a query value must be text, not {value!r}")


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse_int(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise QueryError(f"{name} must be >= 0, not {number}")
    return number


def _parse_bool(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "1", "yes", ""):
        return True
    if text in ("false", "0", "no"):
        return False
    raise QueryError(f"{name} must be true or false, not {value!r}")


_TAG_TEXT = re.compile(r"\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?\Z")


def _resolve_key(text: str) -> tuple[int, str, str | None]:
    """``(tag, keyword, dictionary VR)`` of one key text; QueryError with a suggestion."""
    key = text.strip()
    m = _TAG_TEXT.match(key)
    if m:
        tag = int(m[1] + m[2], 16)
        vr = dictionary.vr_of(tag)
        return tag, dictionary.keyword_of(tag) or "", None if vr is None else _norm_vr(vr)
    tag_or_none = dictionary.tag_or_none(key)
    if tag_or_none is None:
        best = dictionary.suggest(key, 1)
        hint = f"; did you mean {best[0]!r}?" if best else ""
        raise QueryError(f"{key!r} is not a DICOM keyword or tag{hint}")
    vr = dictionary.vr_of(tag_or_none)
    return tag_or_none, key, None if vr is None else _norm_vr(vr)


def _resolve_path(text: str) -> list[tuple[int, str, str]]:
    """The ``(tag, keyword, VR)`` steps of a (dotted) key; every step but the last is an SQ."""
    steps = []
    parts = text.split(".")
    for i, part in enumerate(parts):
        if not part.strip():
            raise QueryError(f"{text!r}: empty key in a dotted path")
        tag, keyword, vr = _resolve_key(part)
        if vr is None:
            raise QueryError(f"{text!r}: the VR of {part.strip()} is unknown (private or unknown tag)")
        if i < len(parts) - 1 and vr != "SQ":
            raise QueryError(f"{text!r}: {part.strip()} is not a sequence (VR {vr})")
        steps.append((tag, keyword, vr))
    return steps


def _parse_order(text: str) -> tuple[int, bool]:
    key = text.strip()
    descending = key.startswith("-")
    if key[:1] in "+-" and key:
        key = key[1:]
    steps = _resolve_path(key)
    if len(steps) != 1:
        raise QueryError(f"orderby {text!r}: cannot order by a sequence sub-attribute")
    tag, _keyword, vr = steps[0]
    if vr == "SQ" or vr in _BINARY_VRS:
        raise QueryError(f"orderby {text!r}: cannot order by a {vr} attribute")
    return tag, descending


def _element_text(value: Any) -> str:
    """The text of a data element value as a C-FIND key (multiple values joined with ``\\``)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        raise QueryError("binary values cannot be matched")
    if isinstance(value, tuple | list):
        return "\\".join(_element_text(v) for v in value)
    return str(value)


class _Builder:
    """Collects conditions (dotted sequence paths merge into one SEQUENCE condition per sequence)."""

    def __init__(self, level: Level, root: str, fuzzy: bool) -> None:
        self.level = level
        self.root = root
        self.fuzzy = fuzzy
        self.universal: list[int] = []
        self._conditions: dict[int, Condition] = {}
        self._sequences: dict[int, tuple[str, _Builder]] = {}

    def conditions(self) -> tuple[Condition, ...]:
        out = dict(self._conditions)
        for tag, (keyword, sub) in self._sequences.items():
            items = sub.conditions()
            if items:
                out[tag] = Condition(
                    tag,
                    keyword,
                    "SQ",
                    attribute_level(tag, self.level),
                    MatchKind.SEQUENCE,
                    items=items,
                    fuzzy=False,
                )
        return tuple(out[t] for t in sorted(out))

    def _taken(self, tag: int) -> bool:
        return tag in self._conditions or tag in self._sequences

    def add_param(self, key: str, value: str) -> None:
        steps = _resolve_path(key)
        builder = self
        for tag, keyword, _vr in steps[:-1]:
            if tag in builder._conditions:
                raise QueryError(f"{key!r}: {keyword} is given twice")
            if tag not in builder._sequences:
                builder._sequences[tag] = (keyword, _Builder(self.level, self.root, self.fuzzy))
            builder = builder._sequences[tag][1]
        tag, keyword, vr = steps[-1]
        if value.strip() == "":
            # universal matching; inside a sequence, the whole (top-level) sequence is returned
            self.universal.append(steps[0][0])
            return
        if builder._taken(tag):
            raise QueryError(f"{key.strip()}: the key is given twice")
        cond = _make_condition(tag, keyword, vr, value, self.level, self.fuzzy)
        if cond is None:
            self.universal.append(steps[0][0])
            return
        builder._conditions[tag] = cond

    def add_element(self, elem_tag: int, vr: str, value: Any) -> None:
        tag = int(elem_tag)
        keyword = dictionary.keyword_of(tag) or ""
        vr = _norm_vr(vr)
        if vr == "UN":
            dict_vr = dictionary.vr_of(tag)
            if dict_vr is None:
                if value in (None, b"", ""):
                    return
                raise QueryError(f"{_name(tag)}: cannot match on an attribute of unknown VR")
            vr = _norm_vr(dict_vr)
        if vr == "SQ":
            items = list(value or [])
            if len(items) > 1:
                raise QueryError(
                    f"{_name(tag)}: a sequence matching key holds exactly one item (PS3.4 C.2.2.2.6)"
                )
            sub = _Builder(self.level, self.root, self.fuzzy)
            for item in items:
                for elem in item:
                    sub.add_element(elem.tag, str(elem.VR), elem.value)
            sub_conditions = sub.conditions()
            if sub_conditions:
                self._conditions[tag] = Condition(
                    tag,
                    keyword,
                    "SQ",
                    attribute_level(tag, self.level),
                    MatchKind.SEQUENCE,
                    items=sub_conditions,
                )
            return
        if vr in _BINARY_VRS:
            if value is None or len(value) == 0:
                return
            raise QueryError(f"{_name(tag)}: cannot match on a {vr} value (universal matching only)")
        text = _element_text(value)
        if text.strip() == "":
            return
        cond = _make_condition(tag, keyword, vr, text, self.level, self.fuzzy)
        if cond is not None:
            self._conditions[tag] = cond


def _make_condition(tag: int, keyword: str, vr: str, raw: str, level: Level, fuzzy: bool) -> Condition | None:
    """The condition of one non-empty key value, or None for universal matching (``*``)."""
    name = keyword or _name(tag)
    lvl = attribute_level(tag, level)
    is_fuzzy = fuzzy and vr == "PN"
    text = raw.rstrip(" ") if vr in _TRAILING_ONLY else raw.strip(" ")
    if text == '""':
        return Condition(tag, keyword, vr, lvl, MatchKind.EMPTY, fuzzy=is_fuzzy)
    if vr == "PN":
        text = _pn_trim(text)
    if vr == "SQ":
        raise QueryError(f"{name}: a sequence key takes sub-keys ({name}.Keyword=value), not a value")
    if vr in _BINARY_VRS:
        raise QueryError(f"{name}: cannot match on a {vr} value (universal matching only)")
    if text and text.strip("*") == "":
        return None  # C.2.2.2.4: "*" (or "**"...) is universal matching
    if vr == "UI":
        # list of UID matching: "a\\b" in C-FIND, "a,b" in QIDO-RS (a UID never holds a comma)
        uids = [u.strip().rstrip("\x00") for u in text.replace(",", "\\").split("\\")]
        for uid in uids:
            if "*" in uid or "?" in uid:
                raise QueryError(f"{name}: wild cards are not allowed in UIDs (PS3.4 C.2.2.2.4)")
            if not is_valid_uid(uid):
                raise QueryError(f"{name}: {uid!r} is not a valid UID")
        uids = list(dict.fromkeys(uids))
        if len(uids) == 1:
            return Condition(tag, keyword, vr, lvl, MatchKind.SINGLE, values=(uids[0],))
        return Condition(tag, keyword, vr, lvl, MatchKind.LIST, values=tuple(uids))
    if "\\" in text and vr not in _BACKSLASH_VRS:
        raise QueryError(
            f"{name}: only UI keys take a list of values (PS3.4 C.2.2.2.2); {text!r} has several"
        )
    if vr in _DATE_VRS:
        return _date_condition(tag, keyword, vr, text, lvl)
    if "*" in text or "?" in text:
        if vr not in _WILDCARD_VRS:
            raise QueryError(f"{name}: wild cards are not allowed for {vr} values (PS3.4 C.2.2.2.4)")
        return Condition(tag, keyword, vr, lvl, MatchKind.WILDCARD, values=(text,), fuzzy=is_fuzzy)
    if vr in _NUMBER_VRS:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise QueryError(f"{name}: {text!r} is not a number ({vr})") from None
        if not number.is_finite() or (vr in _INT_VRS and number != number.to_integral_value()):
            raise QueryError(f"{name}: {text!r} is not a valid {vr} value")
        return Condition(tag, keyword, vr, lvl, MatchKind.SINGLE, values=(text,))
    if vr == "AT":
        m = _TAG_TEXT.match(text)
        if not m:
            raise QueryError(f"{name}: {text!r} is not a tag (GGGGEEEE)")
        return Condition(tag, keyword, vr, lvl, MatchKind.SINGLE, values=((m[1] + m[2]).upper(),))
    return Condition(tag, keyword, vr, lvl, MatchKind.SINGLE, values=(text,), fuzzy=is_fuzzy)


def _date_condition(tag: int, keyword: str, vr: str, text: str, level: Level) -> Condition:
    name = keyword or _name(tag)
    if "*" in text or "?" in text:
        raise QueryError(f"{name}: wild cards are not allowed for {vr} values (PS3.4 C.2.2.2.4)")
    single = _DT_RE.match(text) if vr == "DT" else None
    if "-" not in text or single:
        try:
            point_low = normalize_for_range(vr, text)
            point_high = normalize_for_range(vr, text, high=True)
        except QueryError as exc:
            raise QueryError(f"{name}: {exc}") from None
        return Condition(
            tag, keyword, vr, level, MatchKind.RANGE, values=(text,), low=point_low, high=point_high
        )
    low_text, high_text = _split_range(vr, text, name)
    if not low_text and not high_text:
        raise QueryError(f'{name}: "-" alone is not a valid range (PS3.4 C.2.2.2.5)')
    try:
        low = normalize_for_range(vr, low_text) if low_text else None
        high = normalize_for_range(vr, high_text, high=True) if high_text else None
    except QueryError as exc:
        raise QueryError(f"{name}: {exc} in range {text!r}") from None
    if low is not None and high is not None and low > high:
        raise QueryError(f"{name}: range {text!r} ends before it starts")
    return Condition(tag, keyword, vr, level, MatchKind.RANGE, values=(text,), low=low, high=high)


_DT_PART = r"\d{4}(?:\d{2}){0,5}(?:\.\d{1,6})?(?:[+-]\d{4})?"
_DT_RANGE = re.compile(rf"({_DT_PART})?-({_DT_PART})?\Z")


def _split_range(vr: str, text: str, name: str) -> tuple[str, str]:
    if vr == "DT":
        m = _DT_RANGE.match(text)
        if not m:
            raise QueryError(f"{name}: {text!r} is not a DT range")
        return (m[1] or "").strip(), (m[2] or "").strip()
    if text.count("-") != 1:
        raise QueryError(f"{name}: {text!r} is not a {vr} range (one '-' between the bounds)")
    low, high = text.split("-")
    return low.strip(), high.strip()


# ----------------------------------------------------------------------------- record access


def _attr(record: Mapping[str, Any], tag: int) -> Any:
    key = f"{tag:08X}"
    attr = record.get(key)
    if attr is None:
        attr = record.get(key.lower())
    return attr


def _values(record: Mapping[str, Any], tag: int) -> list[Any] | None:
    """The values of an attribute (None: absent); empty list: zero length."""
    attr = _attr(record, tag)
    if attr is None:
        return None
    if not isinstance(attr, Mapping):
        return [attr]
    value = attr.get("Value")
    if value is None:
        if "InlineBinary" in attr or "BulkDataURI" in attr:
            return [attr]
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None and v != ""]
    return [value]


def _pn_text(value: Any) -> str:
    if isinstance(value, Mapping):
        groups = [str(value.get(g) or "") for g in ("Alphabetic", "Ideographic", "Phonetic")]
        return "=".join(groups).rstrip("=")
    return str(value)


def _dataset_record(ds: Dataset, tags: Iterable[int]) -> dict[str, Any]:
    from dicomkit.codec.json import to_json_dict  # deferred: codec.json is only needed here

    elems = [ds[t] for t in tags if t in ds]
    try:
        return to_json_dict(Dataset(elems))
    except (ValueError, TypeError) as exc:
        raise QueryError(f"the data set cannot be matched: {exc}") from None


@lru_cache(maxsize=4096)
def _compiled(cond: Condition) -> Predicate:
    tag = cond.tag
    kind = cond.kind
    if kind is MatchKind.EMPTY:
        return lambda r: not _values(r, tag)
    if kind is MatchKind.SEQUENCE:
        subs = [_compiled(c) for c in cond.items]

        def seq(r: Mapping[str, Any]) -> bool:
            items = _values(r, tag)
            return bool(items) and any(
                isinstance(item, Mapping) and all(p(item) for p in subs) for item in items or ()
            )

        return seq
    one = _value_test(cond)

    def test(r: Mapping[str, Any]) -> bool:
        values = _values(r, tag)
        return bool(values) and any(one(v) for v in values or ())

    return test


def _value_test(cond: Condition) -> Callable[[Any], bool]:
    """The test one stored value must pass (multiple value matching: any value)."""
    vr = cond.vr
    kind = cond.kind
    if kind is MatchKind.RANGE:
        low, high = cond.low, cond.high

        def in_range(v: Any) -> bool:
            point = _stored_bound(vr, str(v))
            return point is not None and (low is None or low <= point) and (high is None or point <= high)

        return in_range
    if kind is MatchKind.LIST:
        uids = frozenset(cond.values)
        return lambda v: _clean(vr, v) in uids
    if vr == "PN":
        return _pn_test(cond)
    if kind is MatchKind.WILDCARD:
        regex = _wildcard_regex(cond.values[0])
        return lambda v: regex.fullmatch(_clean(vr, v)) is not None
    if vr in _NUMBER_VRS:
        wanted = _number(vr, cond.values[0])
        return lambda v: _number(vr, v) == wanted
    if vr == "AT":
        return lambda v: str(v).strip().upper() == cond.values[0]
    value = cond.values[0]
    return lambda v: _clean(vr, v) == value


def _clean(vr: str, v: Any) -> str:
    text = str(v)
    return text.rstrip(" \x00") if vr in _TRAILING_ONLY else text.strip(" \x00")


def _number(vr: str, v: Any) -> Decimal | float | None:
    try:
        if vr == "FL":
            return float(struct.unpack("<f", struct.pack("<f", float(v)))[0])
        if vr == "FD":
            return float(v)
        return Decimal(str(v).strip())
    except (ValueError, InvalidOperation, OverflowError, struct.error):
        return None


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def _pn_test(cond: Condition) -> Callable[[Any], bool]:
    """PN: the pattern against the whole value or any one component group; fuzzy: folded."""
    pattern = cond.values[0]
    if cond.fuzzy:
        folded = pn_fold(pattern.replace("*", "\x00").replace("?", "\x01"))
        folded = folded.replace("\x00", "*").replace("\x01", "?")
        if cond.kind is MatchKind.WILDCARD:
            regex = _wildcard_regex(folded)
            return lambda v: regex.fullmatch(_fold(_pn_text(v))) is not None
        if not folded:  # a name of separators only ("^") matches nothing
            return lambda v: False
        return lambda v: (" " + _fold(_pn_text(v))).find(" " + folded) >= 0
    if cond.kind is MatchKind.WILDCARD:
        regex = _wildcard_regex(pattern)
        return lambda v: (
            regex.fullmatch(_pn_text(v).strip(" ")) is not None
            or any(regex.fullmatch(t) is not None for t in _pn_candidates(v))
        )
    return lambda v: _pn_text(v).strip(" ") == pattern or pattern in _pn_candidates(v)


_fold = lru_cache(maxsize=65536)(pn_fold)


def _pn_trim(text: str) -> str:
    """A person name without its trailing empty components and groups (PS3.5 6.2.1)."""
    return "=".join(g.strip(" ").rstrip("^ ") for g in text.split("=")).rstrip("=")


def _pn_candidates(v: Any) -> set[str]:
    """The texts a PN key is compared with: the whole value and each component group, each as
    stored and without trailing empty components (``Doe^John^^`` and ``Doe^John``)."""
    raw = _pn_text(v).strip(" ")
    out = {raw}
    for text in (raw, _pn_trim(raw)):
        out.add(text)
        groups = text.split("=")
        if len(groups) > 1:
            out.update(g.strip(" ") for g in groups if g.strip(" "))
    return out


# ----------------------------------------------------------------------------- ordering


def _sort_key(tag: int, descending: bool) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Absent values sort first ascending and last descending (SQL ``NULLS FIRST``/``LAST``);
    numbers numerically, DA/TM/DT by their normalized form, the rest by text; a multi-valued
    attribute by its first value."""
    vr = _norm_vr(dictionary.vr_of(tag) or "UN")

    def key(record: Mapping[str, Any]) -> tuple[Any, ...]:
        values = _values(record, tag)
        if not values:
            return (0, 0, "")
        first = values[0]
        if vr in _NUMBER_VRS:
            number = _number(vr, first)
            return (1, 0, "") if number is None else (1, number, "")
        if vr in _DATE_VRS:
            return (1, 0, _stored_bound(vr, str(first)) or "")
        if vr == "PN":
            return (1, 0, _pn_text(first))
        return (1, 0, str(first))

    return key
