"""Findings: what is wrong or suspicious in a pile of DICOM files, as structured data.

A :class:`Finding` is a frozen value (kind, level, uids, message, paths); building a
hierarchy never raises for bad data, it records findings. This module also holds the value
rules the findings use: UIDs (PS3.5 9.1), DA / TM / DT (PS3.5 6.2, Table 6.2-1) and the
defined terms of Modality (PS3.3 C.7.3.1.1.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dicomkit.uid import is_valid_uid

__all__ = [
    "MODALITIES",
    "RETIRED_MODALITIES",
    "Finding",
    "Kind",
    "Level",
    "is_valid_da",
    "is_valid_dt",
    "is_valid_tm",
    "uid_problem",
]


class Level(StrEnum):
    """The level of the information model a finding is about."""

    PATIENT = "patient"
    STUDY = "study"
    SERIES = "series"
    INSTANCE = "instance"


class Kind(StrEnum):
    """What a finding reports."""

    PATIENT_CONFLICT = "patient-conflict"  # one Patient ID, different name / birth date / sex
    STUDY_UNDER_PATIENTS = "study-under-patients"  # one Study Instance UID under several Patient IDs
    SERIES_UNDER_STUDIES = "series-under-studies"  # one Series Instance UID under several studies
    DUPLICATE_INSTANCE = "duplicate-instance"  # one SOP Instance UID in several files, same content
    CONFLICTING_INSTANCE = "conflicting-instance"  # one SOP Instance UID, different content
    MISSING_UID = "missing-uid"
    MALFORMED_UID = "malformed-uid"
    MALFORMED_DATETIME = "malformed-datetime"  # a DA, TM or DT value
    UNKNOWN_MODALITY = "unknown-modality"
    MISSING_SLICE = "missing-slice"
    DUPLICATE_POSITION = "duplicate-position"
    UNEVEN_SPACING = "uneven-spacing"
    MIXED_ORIENTATION = "mixed-orientation"
    INSTANCE_NUMBER_GAP = "instance-number-gap"
    INSTANCE_NUMBER_REPEAT = "instance-number-repeat"


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One finding.

    ``uids`` locate it: ``(patient ID,)``, ``(patient ID, study UID)``, ``(…, series UID)`` or
    ``(…, SOP Instance UID)`` by ``level`` (a Study/Series UID conflict names the UID alone).
    ``paths`` are the files involved (at most a few).
    """

    level: Level
    kind: Kind
    uids: tuple[str, ...]
    message: str
    paths: tuple[str, ...] = ()

    def line(self) -> str:
        """One line of text: ``kind level uid: message``."""
        where = self.uids[-1] if self.uids else ""
        return f"{self.kind} {self.level} {where or '(none)'}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "level": str(self.level),
            "uids": list(self.uids),
            "message": self.message,
            "paths": list(self.paths),
        }


# ---------------------------------------------------------------------------------------
# value rules


def uid_problem(value: str) -> str | None:
    """Why ``value`` is not a valid UID (PS3.5 9.1), or None when it is."""
    if is_valid_uid(value):
        return None
    if len(value) > 64:
        return f"is {len(value)} characters long (at most 64)"
    if not value:
        return "is empty"
    if any(c not in "0123456789." for c in value):
        return "has characters other than digits and dots"
    parts = value.split(".")
    if any(not p for p in parts):
        return "has an empty component"
    return "has a component with a leading zero"


_DA = re.compile(r"(\d{4})(\d{2})(\d{2})\Z")
_TM = re.compile(r"([01]\d|2[0-3])(?:([0-5]\d)(?:([0-5]\d|60)(?:\.\d{1,6})?)?)?\Z")
_DT = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:([01]\d|2[0-3])(?:([0-5]\d)(?:([0-5]\d|60)(?:\.\d{1,6})?)?)?)?)?)?"
    r"(?:([+-])(\d{2})(\d{2}))?\Z"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date_ok(year: int, month: int | None, day: int | None) -> bool:
    if month is None:
        return True
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= (_DAYS[month - 1] if month != 2 or leap else 28)


def is_valid_da(value: str) -> bool:
    """A DA value ``YYYYMMDD`` naming a real calendar date (empty is valid: no value)."""
    if not value:
        return True
    m = _DA.match(value)
    return m is not None and _date_ok(int(m[1]), int(m[2]), int(m[3]))


def is_valid_tm(value: str) -> bool:
    """A TM value ``HH[MM[SS[.F{1,6}]]]`` in range (empty is valid)."""
    return not value or _TM.match(value) is not None


def is_valid_dt(value: str) -> bool:
    """A DT value ``YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]`` in range (empty is valid)."""
    if not value:
        return True
    m = _DT.match(value)
    if m is None:
        return False
    month = int(m[2]) if m[2] else None
    day = int(m[3]) if m[3] else None
    if not _date_ok(int(m[1]), month, day):
        return False
    if m[7]:
        offset = int(m[8]) * 60 + int(m[9])
        if int(m[9]) > 59 or offset > (840 if m[7] == "+" else 720):
            return False
    return True


#: The defined terms of Modality (0008,0060), PS3.3 C.7.3.1.1.1 (2024 editions).
MODALITIES = frozenset(
    {
        "ANN", "AR", "ASMT", "AU", "BDUS", "BI", "BMD", "CFM", "CR", "CT", "CTPROTOCOL", "DMS", "DG", "DOC",
        "DX", "ECG", "EEG", "EMG", "EOG", "EPS", "ES", "FID", "GM", "HC", "HD", "IO", "IOL", "IVOCT",
        "IVUS", "KER", "KO", "LEN", "LS", "MG", "MR", "M3D", "NM", "OAM", "OCT", "OP", "OPM", "OPT",
        "OPTBSV", "OPTENF", "OPV", "OSS", "OT", "PA", "PLAN", "POS", "PR", "PT", "PX", "REG", "RESP",
        "RF", "RG", "RTDOSE", "RTIMAGE", "RTINTENT", "RTPLAN", "RTRAD", "RTRECORD", "RTSEGANN",
        "RTSTRUCT", "RWV", "SEG", "SM", "SMR", "SR", "SRF", "STAIN", "TEXTUREMAP", "TG", "US", "VA",
        "XA", "XAPROTOCOL", "XC",
    }
)  # fmt: skip

#: Retired defined terms of Modality (PS3.3 C.7.3.1.1.1): still found in old files.
RETIRED_MODALITIES = frozenset(
    {
        "AS",
        "CD",
        "CF",
        "CP",
        "CS",
        "DD",
        "DF",
        "DM",
        "DS",
        "EC",
        "FA",
        "FS",
        "LP",
        "MA",
        "MS",
        "OPR",
        "ST",
        "VF",
    }
)
