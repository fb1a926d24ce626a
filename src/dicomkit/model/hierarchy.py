"""The information model: Patient → Study → Series → Instance, built from any pile of files.

``Hierarchy.from_paths(paths)`` walks files and folders recursively, reads each file's header
only (``stop_before_pixels``, and only as far as the attributes used), groups by Patient ID →
Study Instance UID → Series Instance UID → SOP Instance UID and reports what is wrong as
:class:`~dicomkit.model.findings.Finding` values (never an exception for bad data). Files
that are not DICOM, unreadable, DICOMDIRs or without a SOP Instance UID are listed in
``skipped`` with the reason. ``Hierarchy.from_datasets`` does the same for data sets in memory.

Large inputs are read by several processes (default: all cores), each building a partial
hierarchy over a contiguous chunk of the sorted file list; the parent merges them in order,
so the result equals a single-process scan. Memory grows with the number of series: an
instance keeps a few fields in an :class:`Instance` tuple (no data set is kept).

Files holding one SOP Instance UID are "duplicate-instance" findings when the attribute values
read per file (UIDs, patient, content dates, geometry, pixel description: the fingerprint) are
equal, and "conflicting-instance" otherwise; a difference in the pixel data alone is not seen
(headers only).

The attributes per level are the seed document's, from the standard tags (the seed's two
wrong tags are corrected: Study ID is (0020,0010); the series status is Performed
Procedure Step Status (0040,0252)).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from dicomkit.codec.reader import read
from dicomkit.dataset import Dataset
from dicomkit.errors import DicomError, InvalidDicomError
from dicomkit.model import geometry as _geometry
from dicomkit.model.findings import (
    MODALITIES,
    RETIRED_MODALITIES,
    Finding,
    Kind,
    Level,
    is_valid_da,
    is_valid_dt,
    is_valid_tm,
    uid_problem,
)

__all__ = [
    "Counts",
    "Hierarchy",
    "Instance",
    "Patient",
    "Series",
    "Skipped",
    "Study",
]

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
#: below this many files a scan stays in one process
PARALLEL_THRESHOLD = 400
MAX_WARNINGS = 1000


class Skipped(NamedTuple):
    """A file that is not in the hierarchy, and why."""

    path: str
    reason: str


class Counts(NamedTuple):
    patients: int
    studies: int
    series: int
    instances: int


class Instance(NamedTuple):
    """One SOP instance: the few fields the model keeps per file."""

    uid: str  # SOP Instance UID (0008,0018)
    path: str
    number: int | None  # Instance Number (0020,0013)
    position: tuple[float, float, float] | None  # Image Position (Patient) (0020,0032)
    orientation: tuple[float, ...] | None  # Image Orientation (Patient) (0020,0037), six cosines
    rows: int | None  # (0028,0010)
    columns: int | None  # (0028,0011)
    bits_allocated: int | None  # (0028,0100)
    bits_stored: int | None  # (0028,0101)
    high_bit: int | None  # (0028,0102)
    pixel_representation: int | None  # (0028,0103)
    pixel_spacing: tuple[float, float] | None  # (0028,0030): row spacing, column spacing
    frames: int | None  # Number of Frames (0028,0008)
    comments: str  # Image Comments (0020,4000)
    sop_class_uid: str  # (0008,0016)
    localizer: bool  # Image Type (0008,0008) value 3 is LOCALIZER
    fingerprint: int  # CRC-32 of the 24 attribute values read per file: equal for copies of one instance

    def to_json(self) -> dict[str, Any]:
        return {
            "SOPInstanceUID": self.uid,
            "path": self.path,
            "InstanceNumber": self.number,
            "ImagePositionPatient": list(self.position) if self.position else None,
            "ImageOrientationPatient": list(self.orientation) if self.orientation else None,
            "Rows": self.rows,
            "Columns": self.columns,
            "BitsAllocated": self.bits_allocated,
            "BitsStored": self.bits_stored,
            "HighBit": self.high_bit,
            "PixelRepresentation": self.pixel_representation,
            "ImageComments": self.comments,
        }


class Series:
    """A series: its attributes and instances (keyed by SOP Instance UID)."""

    __slots__ = (
        "_analysis",
        "body_part",
        "date",
        "description",
        "duplicates",
        "instances",
        "modality",
        "number",
        "number_of_slices",
        "operators",
        "protocol_name",
        "station_name",
        "status",
        "time",
        "uid",
    )

    def __init__(
        self,
        uid: str,
        number: int | None = None,
        modality: str = "",
        description: str = "",
        station_name: str = "",
        operators: str = "",
        body_part: str = "",
        protocol_name: str = "",
        number_of_slices: int | None = None,
        status: str = "",
        date: str = "",
        time: str = "",
    ) -> None:
        self.uid = uid  # Series Instance UID (0020,000E)
        self.number = number  # Series Number (0020,0011)
        self.modality = modality  # (0008,0060)
        self.description = description  # Series Description (0008,103E)
        self.station_name = station_name  # (0008,1010)
        self.operators = operators  # Operators' Name (0008,1070), backslash-separated
        self.body_part = body_part  # Body Part Examined (0018,0015)
        self.protocol_name = protocol_name  # (0018,1030)
        self.number_of_slices = number_of_slices  # (0054,0081)
        self.status = status  # Performed Procedure Step Status (0040,0252)
        self.date = date  # Series Date (0008,0021)
        self.time = time  # Series Time (0008,0031)
        self.instances: dict[str, Instance] = {}
        #: further files holding an instance already here (the same SOP Instance UID)
        self.duplicates: list[Instance] = []
        self._analysis: tuple[list[Instance], _geometry.Geometry | None, list[_geometry.Problem]] | None = (
            None
        )

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__[1:])

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__[1:], state, strict=True):
            setattr(self, name, value)
        self._analysis = None

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.ordered())

    def __len__(self) -> int:
        return len(self.instances)

    def __repr__(self) -> str:
        return f"<Series {self.number} {self.modality} {self.uid!r}: {len(self)} instances>"

    def _analyse(self) -> tuple[list[Instance], _geometry.Geometry | None, list[_geometry.Problem]]:
        if self._analysis is None:
            self._analysis = _geometry.analyse(list(self.instances.values()))
        return self._analysis

    def ordered(self) -> list[Instance]:
        """The instances by position along the slice normal, else by Instance Number."""
        return list(self._analyse()[0])

    @property
    def geometry(self) -> _geometry.Geometry | None:
        """Orientation, slice spacing and 3-D extent, when the images form parallel slices."""
        return self._analyse()[1]

    @property
    def spacing(self) -> float | None:
        g = self.geometry
        return g.spacing if g is not None else None

    @property
    def extent(self) -> tuple[float | None, float | None, float] | None:
        g = self.geometry
        return g.extent if g is not None else None

    def attributes(self) -> dict[str, Any]:
        return {
            "SeriesInstanceUID": self.uid,
            "SeriesNumber": self.number,
            "Modality": self.modality,
            "SeriesDescription": self.description,
            "SeriesDate": self.date,
            "SeriesTime": self.time,
            "StationName": self.station_name,
            "OperatorsName": self.operators,
            "BodyPartExamined": self.body_part,
            "ProtocolName": self.protocol_name,
            "NumberOfSlices": self.number_of_slices,
            "PerformedProcedureStepStatus": self.status,
        }


class Study:
    """A study: its attributes and series (keyed by Series Instance UID)."""

    __slots__ = (
        "accession_number",
        "date",
        "description",
        "institution_name",
        "referring_physician",
        "requested_procedure_description",
        "requesting_physician",
        "series",
        "study_id",
        "time",
        "uid",
    )

    def __init__(
        self,
        uid: str,
        date: str = "",
        time: str = "",
        accession_number: str = "",
        institution_name: str = "",
        referring_physician: str = "",
        requested_procedure_description: str = "",
        study_id: str = "",
        requesting_physician: str = "",
        description: str = "",
    ) -> None:
        self.uid = uid  # Study Instance UID (0020,000D)
        self.date = date  # Study Date (0008,0020)
        self.time = time  # Study Time (0008,0030)
        self.accession_number = accession_number  # (0008,0050)
        self.institution_name = institution_name  # (0008,0080)
        self.referring_physician = referring_physician  # Referring Physician's Name (0008,0090)
        self.requested_procedure_description = requested_procedure_description  # (0032,1060)
        self.study_id = study_id  # Study ID (0020,0010)
        self.requesting_physician = requesting_physician  # (0032,1032)
        self.description = description  # Study Description (0008,1030)
        self.series: dict[str, Series] = {}

    def __iter__(self) -> Iterator[Series]:
        return iter(sorted(self.series.values(), key=lambda s: (s.number is None, s.number or 0, s.uid)))

    def __len__(self) -> int:
        return len(self.series)

    def __repr__(self) -> str:
        return f"<Study {self.date} {self.description!r} {self.uid!r}: {len(self)} series>"

    def attributes(self) -> dict[str, Any]:
        return {
            "StudyInstanceUID": self.uid,
            "StudyDate": self.date,
            "StudyTime": self.time,
            "StudyDescription": self.description,
            "AccessionNumber": self.accession_number,
            "StudyID": self.study_id,
            "InstitutionName": self.institution_name,
            "ReferringPhysicianName": self.referring_physician,
            "RequestingPhysician": self.requesting_physician,
            "RequestedProcedureDescription": self.requested_procedure_description,
        }


class Patient:
    """A patient (by Patient ID): the attributes first seen, and the studies."""

    __slots__ = ("birth_date", "name", "patient_id", "sex", "studies", "variants")

    def __init__(self, patient_id: str, name: str = "", birth_date: str = "", sex: str = "") -> None:
        self.patient_id = patient_id  # (0010,0020)
        self.name = name  # Patient's Name (0010,0010)
        self.birth_date = birth_date  # Patient's Birth Date (0010,0030)
        self.sex = sex  # Patient's Sex (0010,0040)
        self.studies: dict[str, Study] = {}
        #: (name, birth date, sex) → [number of files, first path]: more than one is a conflict
        self.variants: dict[tuple[str, str, str], list[Any]] = {}

    def __iter__(self) -> Iterator[Study]:
        return iter(sorted(self.studies.values(), key=lambda s: (s.date, s.time, s.uid)))

    def __len__(self) -> int:
        return len(self.studies)

    def __repr__(self) -> str:
        return f"<Patient {self.name!r} ID {self.patient_id!r}: {len(self)} studies>"

    def attributes(self) -> dict[str, Any]:
        return {
            "PatientID": self.patient_id,
            "PatientName": self.name,
            "PatientBirthDate": self.birth_date,
            "PatientSex": self.sex,
        }


# ---------------------------------------------------------------------------------------
# reading one file's header into a compact record


def _text(value: Any) -> str:
    if isinstance(value, str):
        return str(value).strip()
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "\\".join([str(v).strip() if isinstance(v, str) else _text(v) for v in value])
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    return str(value).strip()


#: VRs whose values are ASCII text in any character set and byte order: read from the raw bytes
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})


def _values(ds: Dataset, tags: tuple[int, ...]) -> tuple[list[Any], list[str]]:
    """The value and the text of each tag (None and "" when absent).

    Values of the ASCII VRs are taken as text straight from the bytes read (no per-VR decoding:
    a scan of many files reads them many times); the others are decoded.
    """
    element = ds.element
    values: list[Any] = []
    texts: list[str] = []
    for tag in tags:
        e = element(tag)
        if e is None:
            values.append(None)
            texts.append("")
            continue
        raw = e.raw
        if raw is not None and e.VR in _ASCII_VRS:
            text = raw.decode("latin-1").strip(" \x00")
            values.append(text)
            texts.append(text)
        else:
            value = e.value
            values.append(value)
            texts.append(_text(value))
    return values, texts


def _int(value: Any) -> int | None:
    if isinstance(value, tuple):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)  # "1.0" is found in real files
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    if isinstance(value, str):
        value = tuple(value.split("\\"))
    if not isinstance(value, tuple) or len(value) != n:
        return None
    try:
        out = tuple(float(v) + 0.0 for v in value)  # + 0.0: no negative zeros
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


# Tags read from every file (ascending), and those read only for a new study or series.
_INSTANCE_TAGS = (
    0x00080008,  # 0 ImageType
    0x00080016,  # 1 SOPClassUID
    0x00080018,  # 2 SOPInstanceUID
    0x00080023,  # 3 ContentDate
    0x0008002A,  # 4 AcquisitionDateTime
    0x00080033,  # 5 ContentTime
    0x00100010,  # 6 PatientName
    0x00100020,  # 7 PatientID
    0x00100030,  # 8 PatientBirthDate
    0x00100040,  # 9 PatientSex
    0x0020000D,  # 10 StudyInstanceUID
    0x0020000E,  # 11 SeriesInstanceUID
    0x00200013,  # 12 InstanceNumber
    0x00200032,  # 13 ImagePositionPatient
    0x00200037,  # 14 ImageOrientationPatient
    0x00204000,  # 15 ImageComments
    0x00280008,  # 16 NumberOfFrames
    0x00280010,  # 17 Rows
    0x00280011,  # 18 Columns
    0x00280030,  # 19 PixelSpacing
    0x00280100,  # 20 BitsAllocated
    0x00280101,  # 21 BitsStored
    0x00280102,  # 22 HighBit
    0x00280103,  # 23 PixelRepresentation
)
_STUDY_TAGS = (
    0x00080020,  # 0 StudyDate
    0x00080030,  # 1 StudyTime
    0x00080050,  # 2 AccessionNumber
    0x00080080,  # 3 InstitutionName
    0x00080090,  # 4 ReferringPhysicianName
    0x00321060,  # 5 RequestedProcedureDescription
    0x00200010,  # 6 StudyID
    0x00321032,  # 7 RequestingPhysician
    0x00081030,  # 8 StudyDescription
)
_SERIES_TAGS = (
    0x00200011,  # 0 SeriesNumber
    0x00080060,  # 1 Modality
    0x0008103E,  # 2 SeriesDescription
    0x00081010,  # 3 StationName
    0x00081070,  # 4 OperatorsName
    0x00180015,  # 5 BodyPartExamined
    0x00181030,  # 6 ProtocolName
    0x00540081,  # 7 NumberOfSlices
    0x00400252,  # 8 PerformedProcedureStepStatus
    0x00080021,  # 9 SeriesDate
    0x00080031,  # 10 SeriesTime
)


class _Builder:
    """Builds patients → studies → series → instances, one data set at a time; mergeable."""

    def __init__(self) -> None:
        self.patients: dict[str, Patient] = {}
        self.skipped: list[Skipped] = []
        self.warnings: list[tuple[str, str]] = []
        self.warning_count = 0
        self.findings: list[Finding] = []
        self.files = 0
        self._shared: dict[Any, Any] = {}  # equal small values stored once

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_shared"] = {}
        return state

    def _share(self, value: Any) -> Any:
        return self._shared.setdefault(value, value)

    # -- one file ---------------------------------------------------------------------
    def add_path(self, path: str) -> None:
        self.files += 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds = read(path, stop_before_pixels=True)
                reason = self.add(ds, path)
            except InvalidDicomError:
                reason = "not DICOM"
            except (DicomError, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
                reason = f"unreadable: {_describe(exc, path)}"
        if reason is not None:
            self.skipped.append(Skipped(path, reason))
        elif caught:
            self.warning_count += len(caught)
            room = MAX_WARNINGS - len(self.warnings)
            if room > 0:
                self.warnings += [(path, str(w.message)) for w in caught[:room]]

    def add(self, ds: Dataset, path: str) -> str | None:
        """Add one data set; returns why it was skipped, or None."""
        len(ds)  # one scan of the (lazily read) header instead of one per attribute
        g = ds.get
        v, t = _values(ds, _INSTANCE_TAGS)
        meta = ds.meta
        sop_class = t[1] or (_text(meta.get(0x00020002)) if meta is not None else "")
        if sop_class == MEDIA_STORAGE_DIRECTORY:
            return "a DICOMDIR (a media directory, not an instance)"
        sop_uid = t[2] or (_text(meta.get(0x00020003)) if meta is not None else "")
        if not sop_uid:
            return "no SOP Instance UID"
        share = self._share
        # -- patient
        patient_id = t[7]
        variant = (t[6], t[8], t[9])
        patient = self.patients.get(patient_id)
        if patient is None:
            patient = self.patients[patient_id] = Patient(patient_id, *variant)
        seen = patient.variants.get(variant)
        if seen is None:
            patient.variants[variant] = [1, path]
        else:
            seen[0] += 1
        # -- study
        study_uid = t[10]
        study = patient.studies.get(study_uid)
        if study is None:
            w = [g(t) for t in _STUDY_TAGS]
            study = patient.studies[study_uid] = Study(study_uid, *[_text(x) for x in w])
        # -- series
        series_uid = t[11]
        series = study.series.get(series_uid)
        if series is None:
            w = [g(t) for t in _SERIES_TAGS]
            series = study.series[series_uid] = Series(
                series_uid,
                _int(w[0]),
                _text(w[1]),
                _text(w[2]),
                _text(w[3]),
                _text(w[4]),
                _text(w[5]),
                _text(w[6]),
                _int(w[7]),
                _text(w[8]),
                _text(w[9]),
                _text(w[10]),
            )
        # -- instance
        uids = (patient_id, study_uid, series_uid, sop_uid)
        self._check_uid(Level.INSTANCE, uids, "SOP Instance UID", sop_uid, path)
        if v[3] or v[4] or v[5]:
            self._check_dates(
                Level.INSTANCE,
                uids,
                (
                    (v[3], "Content Date", "DA"),
                    (v[5], "Content Time", "TM"),
                    (v[4], "Acquisition DateTime", "DT"),
                ),
                path,
            )
        image_type = t[0].split("\\")
        localizer = len(image_type) > 2 and image_type[2].strip().upper() == "LOCALIZER"
        fingerprint = zlib.crc32("\x00".join(t).encode("utf-8", "surrogatepass"))
        instance = Instance(
            sop_uid,
            path,
            _int(v[12]),
            _floats(v[13], 3),  # type: ignore[arg-type]
            share(_floats(v[14], 6)),
            _int(v[17]),
            _int(v[18]),
            _int(v[20]),
            _int(v[21]),
            _int(v[22]),
            _int(v[23]),
            share(_floats(v[19], 2)),
            _int(v[16]),
            t[15],
            share(sop_class),
            localizer,
            fingerprint,
        )
        if sop_uid in series.instances:
            series.duplicates.append(instance)
        else:
            series.instances[sop_uid] = instance
        return None

    def _check_uid(self, level: Level, uids: tuple[str, ...], name: str, value: str, path: str) -> None:
        self.findings += _uid_findings(level, uids, name, value, path)

    def _check_dates(
        self, level: Level, uids: tuple[str, ...], items: tuple[tuple[Any, str, str], ...], path: str
    ) -> None:
        self.findings += _date_findings(level, uids, items, path)

    # -- merging ----------------------------------------------------------------------
    def merge(self, other: _Builder) -> None:
        """Add a builder that read the files after this one's (the result is as if one had)."""
        self.files += other.files
        self.skipped += other.skipped
        self.findings += other.findings
        self.warning_count += other.warning_count
        self.warnings += other.warnings[: max(0, MAX_WARNINGS - len(self.warnings))]
        for pid, op in other.patients.items():
            patient = self.patients.get(pid)
            if patient is None:
                self.patients[pid] = op
                continue
            for variant, (count, path) in op.variants.items():
                seen = patient.variants.get(variant)
                if seen is None:
                    patient.variants[variant] = [count, path]
                else:
                    seen[0] += count
            for suid, ost in op.studies.items():
                study = patient.studies.get(suid)
                if study is None:
                    patient.studies[suid] = ost
                    continue
                for seuid, ose in ost.series.items():
                    series = study.series.get(seuid)
                    if series is None:
                        study.series[seuid] = ose
                        continue
                    for uid, inst in ose.instances.items():
                        if uid in series.instances:
                            series.duplicates.append(inst)
                        else:
                            series.instances[uid] = inst
                    series.duplicates += ose.duplicates
                    series._analysis = None


_VALID = {"DA": is_valid_da, "TM": is_valid_tm, "DT": is_valid_dt}


def _uid_findings(level: Level, uids: tuple[str, ...], name: str, value: str, path: str) -> list[Finding]:
    if not value:
        return [Finding(level, Kind.MISSING_UID, uids, f"no {name}", (path,))]
    problem = uid_problem(value)
    if problem is None:
        return []
    return [Finding(level, Kind.MALFORMED_UID, uids, f"{name} {value!r} {problem} (PS3.5 9.1)", (path,))]


def _date_findings(
    level: Level, uids: tuple[str, ...], items: tuple[tuple[Any, str, str], ...], path: str
) -> list[Finding]:
    out = []
    for value, name, vr in items:
        if value is None or value == "":
            continue
        if not (isinstance(value, str) and _VALID[vr](value.strip())):
            text = value if isinstance(value, str) else _text(value)
            out.append(_bad_date(level, uids, name, vr, text, path))
    return out


def _node_findings(p: Patient) -> list[Finding]:
    """The findings about the attributes of a patient, its studies and series (as first seen)."""
    pid = p.patient_id
    out = []
    for (_, birth_date, _), (_, path) in p.variants.items():
        out += _date_findings(Level.PATIENT, (pid,), ((birth_date, "Patient's Birth Date", "DA"),), path)
    for st in p.studies.values():
        first = ""
        for se in st.series.values():
            path = next(iter(se.instances.values())).path if se.instances else ""
            first = first or path
            se_uids = (pid, st.uid, se.uid)
            out += _uid_findings(Level.SERIES, se_uids, "Series Instance UID", se.uid, path)
            out += _date_findings(
                Level.SERIES, se_uids, ((se.date, "Series Date", "DA"), (se.time, "Series Time", "TM")), path
            )
            if se.modality not in MODALITIES:
                if not se.modality:
                    message = "no Modality (0008,0060)"
                elif se.modality in RETIRED_MODALITIES:
                    message = f"Modality {se.modality!r} is a retired defined term (PS3.3 C.7.3.1.1.1)"
                else:
                    message = f"Modality {se.modality!r} is not a defined term (PS3.3 C.7.3.1.1.1)"
                out.append(Finding(Level.SERIES, Kind.UNKNOWN_MODALITY, se_uids, message, (path,)))
        uids = (pid, st.uid)
        out += _uid_findings(Level.STUDY, uids, "Study Instance UID", st.uid, first)
        out += _date_findings(
            Level.STUDY, uids, ((st.date, "Study Date", "DA"), (st.time, "Study Time", "TM")), first
        )
    return out


_FORMS = {"DA": "YYYYMMDD", "TM": "HHMMSS.FFFFFF", "DT": "YYYYMMDDHHMMSS.FFFFFF&ZZXX"}


def _bad_date(level: Level, uids: tuple[str, ...], name: str, vr: str, value: str, path: str) -> Finding:
    return Finding(
        level,
        Kind.MALFORMED_DATETIME,
        uids,
        f"{name} {value!r} is not a valid {vr} value ({_FORMS[vr]}, PS3.5 6.2)",
        (path,),
    )


def _describe(exc: BaseException, path: str) -> str:
    if isinstance(exc, DicomError):
        text = str(exc)
        for prefix in (f"{path}: ", f"{os.path.abspath(path)}: "):
            text = text.removeprefix(prefix)
        return text
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def _scan_chunk(paths: list[str]) -> _Builder:
    builder = _Builder()
    for path in paths:
        builder.add_path(path)
    return builder


def _walk(path: str) -> Iterator[str]:
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


# ---------------------------------------------------------------------------------------
# the hierarchy


class Hierarchy:
    """Patients → studies → series → instances, with findings and the files skipped.

    Iterating gives the patients (sorted by name, then ID); ``studies()``, ``all_series()``
    and ``instances()`` iterate the lower levels in tree order. ``patient(id)``,
    ``study(uid)``, ``series(uid)`` and ``instance(uid)`` look up by identifier
    (``KeyError`` when absent; the first in tree order when a UID is in several places,
    which is a finding).
    """

    def __init__(self, builder: _Builder | None = None, missing: Iterable[str] = ()) -> None:
        b = builder if builder is not None else _Builder()
        self._patients = sorted(b.patients.values(), key=lambda p: (p.name, p.patient_id))
        self.files: int = b.files
        self.skipped: tuple[Skipped, ...] = tuple(sorted(b.skipped))
        #: arguments that were neither a file nor a folder
        self.missing: tuple[str, ...] = tuple(missing)
        self.warnings: tuple[tuple[str, str], ...] = tuple(sorted(b.warnings))
        self.warning_count: int = b.warning_count
        self._studies: dict[str, Study] = {}
        self._series: dict[str, Series] = {}
        self._instances: dict[str, Instance] = {}
        for p in self._patients:
            for st in p:
                self._studies.setdefault(st.uid, st)
                for se in st:
                    self._series.setdefault(se.uid, se)
                    for i in se.instances.values():
                        self._instances.setdefault(i.uid, i)
        #: the findings, patient level first, then study, series and instance; by UIDs within a level
        self.findings: tuple[Finding, ...] = tuple(
            sorted(set(b.findings) | set(self._check()), key=_finding_order)
        )

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | os.PathLike[str]],
        *,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Hierarchy:
        """Read every file under ``paths`` (folders recursively, headers only).

        ``workers``: processes to use on large inputs (default: all cores; 1: this process
        only). ``progress(done, total)`` is called as files are read.
        """
        files: list[str] = []
        missing: list[str] = []
        for arg in paths:
            path = os.fspath(arg)
            if os.path.isdir(path):
                files += _walk(path)
            elif os.path.exists(path):
                files.append(path)
            else:
                missing.append(path)
        total = len(files)
        if workers is None:
            workers = os.cpu_count() or 1
        builder: _Builder | None = None
        if workers > 1 and total >= PARALLEL_THRESHOLD:
            builder = _scan_parallel(files, workers, progress)
        if builder is None:
            builder = _Builder()
            step = max(1, total // 200)
            for n, path in enumerate(files, 1):
                builder.add_path(path)
                if progress is not None and (n % step == 0 or n == total):
                    progress(n, total)
        return cls(builder, missing)

    @classmethod
    def from_datasets(cls, datasets: Iterable[Dataset | tuple[Dataset, str]]) -> Hierarchy:
        """Build from data sets in memory; each optionally paired with a name used as its path."""
        builder = _Builder()
        for n, item in enumerate(datasets):
            ds, name = item if isinstance(item, tuple) else (item, f"<dataset {n}>")
            builder.files += 1
            try:
                reason = builder.add(ds, name)
            except (DicomError, ValueError, TypeError) as exc:
                reason = f"unreadable: {_describe(exc, name)}"
            if reason is not None:
                builder.skipped.append(Skipped(name, reason))
        return cls(builder)

    # -- access -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Patient]:
        return iter(self._patients)

    def __len__(self) -> int:
        return len(self._patients)

    @property
    def patients(self) -> tuple[Patient, ...]:
        return tuple(self._patients)

    def studies(self) -> Iterator[Study]:
        for p in self._patients:
            yield from p

    def all_series(self) -> Iterator[Series]:
        for st in self.studies():
            yield from st

    def instances(self) -> Iterator[Instance]:
        for se in self.all_series():
            yield from se

    def patient(self, patient_id: str) -> Patient:
        for p in self._patients:
            if p.patient_id == patient_id:
                return p
        raise KeyError(patient_id)

    def study(self, uid: str) -> Study:
        return self._studies[uid]

    def series(self, uid: str) -> Series:
        return self._series[uid]

    def instance(self, uid: str) -> Instance:
        return self._instances[uid]

    @property
    def counts(self) -> Counts:
        studies = series = instances = 0
        for p in self._patients:
            studies += len(p.studies)
            for st in p.studies.values():
                series += len(st.series)
                instances += sum(len(se.instances) for se in st.series.values())
        return Counts(len(self._patients), studies, series, instances)

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<Hierarchy {c.patients} patients, {c.studies} studies, {c.series} series, "
            f"{c.instances} instances; {len(self.findings)} findings, {len(self.skipped)} skipped>"
        )

    # -- checks across the tree -------------------------------------------------------
    def _check(self) -> list[Finding]:
        out: list[Finding] = []
        study_places: dict[str, list[str]] = {}
        series_places: dict[str, list[tuple[str, str]]] = {}
        sop_places: dict[str, list[tuple[tuple[str, ...], Instance]]] = {}
        for p in self._patients:
            pid = p.patient_id
            out += _node_findings(p)
            if len(p.variants) > 1 and pid:  # files without a Patient ID are not one patient
                out.append(_patient_conflict(p))
            for st in p.studies.values():
                study_places.setdefault(st.uid, []).append(pid)
                for se in st.series.values():
                    series_places.setdefault(se.uid, []).append((pid, st.uid))
                    uids = (pid, st.uid, se.uid)
                    for i in se.instances.values():
                        sop_places.setdefault(i.uid, []).append((uids, i))
                    for i in se.duplicates:
                        sop_places[i.uid].append((uids, i))
                    _, _, problems = se._analyse()
                    problems = problems + _geometry.instance_number_problems(list(se.instances.values()))
                    for kind, message, sops in problems:
                        paths = tuple(se.instances[s].path for s in sops[:4] if s in se.instances)
                        out.append(Finding(Level.SERIES, kind, uids, message, paths))
        for uid, pids in study_places.items():
            if len(pids) > 1 and uid:
                out.append(
                    Finding(
                        Level.STUDY,
                        Kind.STUDY_UNDER_PATIENTS,
                        (uid,),
                        f"Study Instance UID under {len(pids)} patients: Patient IDs "
                        + ", ".join(repr(x) for x in sorted(pids)),
                    )
                )
        for uid, places in series_places.items():
            studies = sorted({st for _, st in places})
            if len(studies) > 1 and uid:
                out.append(
                    Finding(
                        Level.SERIES,
                        Kind.SERIES_UNDER_STUDIES,
                        (uid,),
                        f"Series Instance UID under {len(studies)} studies: "
                        + ", ".join(repr(x) for x in studies),
                    )
                )
        for uid, copies in sop_places.items():
            if len(copies) < 2:
                continue
            paths = tuple(sorted(i.path for _, i in copies))
            same = len({(u, i.fingerprint) for u, i in copies}) == 1
            where = copies[0][0] if same else (uid,)
            if same:
                kind, message = Kind.DUPLICATE_INSTANCE, f"the same instance in {len(copies)} files"
            else:
                n_series = len({u for u, _ in copies})
                kind = Kind.CONFLICTING_INSTANCE
                message = f"one SOP Instance UID in {len(copies)} files with different content" + (
                    f" (in {n_series} series)" if n_series > 1 else ""
                )
            out.append(Finding(Level.INSTANCE, kind, (*where, uid) if same else where, message, paths[:8]))
        return out

    # -- output -----------------------------------------------------------------------
    def to_json(self, *, level: str = "series") -> dict[str, Any]:
        """The whole hierarchy as JSON-ready data, down to ``level``."""
        depth = ("patient", "study", "series", "instance").index(level)
        patients = []
        for p in self._patients:
            pj = p.attributes()
            if depth >= 1:
                studies = []
                for st in p:
                    sj = st.attributes()
                    if depth >= 2:
                        series = []
                        for se in st:
                            ej = se.attributes()
                            ej["NumberOfInstances"] = len(se)
                            g = se.geometry
                            ej["geometry"] = g.to_json() if g is not None else None
                            if depth >= 3:
                                ej["instances"] = [i.to_json() for i in se]
                            series.append(ej)
                        sj["series"] = series
                    else:
                        sj["NumberOfSeries"] = len(st)
                    studies.append(sj)
                pj["studies"] = studies
            else:
                pj["NumberOfStudies"] = len(p)
            patients.append(pj)
        return {
            "counts": self.counts._asdict(),
            "files": self.files,
            "patients": patients,
            "findings": [f.to_json() for f in self.findings],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }


_LEVEL_RANK = {Level.PATIENT: 0, Level.STUDY: 1, Level.SERIES: 2, Level.INSTANCE: 3}


def _finding_order(f: Finding) -> tuple[Any, ...]:
    return (_LEVEL_RANK[f.level], f.uids, f.kind, f.message, f.paths)


def _patient_conflict(p: Patient) -> Finding:
    variants = list(p.variants.items())
    parts = []
    for k, name in enumerate(("names", "birth dates", "sexes")):
        values: dict[str, int] = {}
        for key, (count, _) in variants:
            values[key[k]] = values.get(key[k], 0) + count
        if len(values) > 1:
            listed = ", ".join(f"{v!r} ({c} file{'s' if c != 1 else ''})" for v, c in values.items())
            parts.append(f"{len(values)} different {name}: {listed}")
    return Finding(
        Level.PATIENT,
        Kind.PATIENT_CONFLICT,
        (p.patient_id,),
        f"Patient ID {p.patient_id!r} has " + "; ".join(parts),
        tuple(path for _, (_, path) in variants[:8]),
    )


def _scan_parallel(
    files: list[str], workers: int, progress: Callable[[int, int], None] | None
) -> _Builder | None:
    """Scan in worker processes (fork on Linux); None when they cannot be started or died."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    total = len(files)
    size = max(64, min(2000, math.ceil(total / (workers * 8))))
    chunks = [files[i : i + size] for i in range(0, total, size)]
    method = "fork" if sys.platform == "linux" else None
    context = multiprocessing.get_context(method)
    builder = _Builder()
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
            for part in pool.map(_scan_chunk, chunks):
                builder.merge(part)
                if progress is not None:
                    progress(builder.files, total)
    except (OSError, BrokenProcessPool):  # no processes here (e.g. no /dev/shm): scan in this one
        return None
    return builder
