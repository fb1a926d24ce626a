"""Synthetic archive content for the scale benchmark: patients, studies, series and small instances.

``ScaleShape`` (default 10,000 patients x 2 studies x 5 series x 10 instances = 20,000 studies,
100,000 series, 1,000,000 instances) is turned into PS3.10 files held in memory as ``bytes``:
**header-only** files (no Pixel Data; ~1.3 KiB, ~45 elements each) with realistic attribute
values drawn from a seeded RNG: patient names from common surnames and given names (so wildcard
queries match many patients, as in a real archive), birth dates 1930-2020, study dates
2005-2025, study types with their series modalities (CT, MR, PET-CT, CR/DX, US, MG, NM, plus SR
and PR series), accession numbers, referring physicians, institutions, manufacturers, SOP
Classes by modality, instance numbers and image positions.

Speed matters (a million files): each series is encoded once with ``dicomkit.write`` with
fixed-width placeholders, and its instances are copies of those bytes with the SOP Instance UID,
Instance Number and position patched in place (UID components are offset so that every UID of a
given shape has the same length).

The generator also keeps, per study, what a study-level query can match (Patient's Name, Study
Date, Modalities in Study) so that the benchmark can check each query's result count against an
independent in-memory evaluation, and it generates the varied study-level queries themselves
(PatientName wildcard + StudyDate range + ModalitiesInStudy).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

UID_ROOT = "1.2.826.0.1.3680043.8.498.71"  # pydicom's org root + a benchmark-private arc
SOP_PLACEHOLDER_DIGIT = "9"
NUMBER_PLACEHOLDER = "987654"  # IS, 6 characters, patched with the zero-padded instance number
Z_PLACEHOLDER = "+98765.43"  # DS, 9 characters

SURNAMES = [
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "MARTIN",
    "LEE",
    "PEREZ",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "SANCHEZ",
    "CLARK",
    "RAMIREZ",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
    "WRIGHT",
    "SCOTT",
    "TORRES",
    "NGUYEN",
    "HILL",
    "FLORES",
    "GREEN",
    "ADAMS",
    "NELSON",
    "BAKER",
    "HALL",
    "RIVERA",
    "CAMPBELL",
    "MITCHELL",
    "CARTER",
    "ROBERTS",
    "MUELLER",
    "SCHMIDT",
    "SCHNEIDER",
    "FISCHER",
    "WEBER",
    "MEYER",
    "WAGNER",
    "BECKER",
    "SCHULZ",
    "HOFFMANN",
    "DUPONT",
    "DURAND",
    "LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFEBVRE",
    "MICHEL",
    "ROSSI",
    "RUSSO",
    "FERRARI",
    "ESPOSITO",
    "BIANCHI",
    "ROMANO",
    "COLOMBO",
    "RICCI",
    "MARINO",
    "GRECO",
    "JANSEN",
    "DEVRIES",
    "VANDIJK",
    "BAKKER",
    "VISSER",
    "SMIT",
    "MEIJER",
    "DEJONG",
    "NOWAK",
    "KOWALSKI",
    "WISNIEWSKI",
    "KIM",
    "PARK",
    "CHOI",
    "TANAKA",
    "SUZUKI",
    "SATO",
    "WATANABE",
    "ITO",
    "YAMAMOTO",
    "NAKAMURA",
    "CHEN",
    "WANG",
    "ZHANG",
    "LIU",
    "YANG",
    "HUANG",
    "ZHAO",
    "WU",
    "ZHOU",
    "SILVA",
    "SANTOS",
    "OLIVEIRA",
    "SOUZA",
]
GIVEN_NAMES = [
    "JAMES",
    "MARY",
    "ROBERT",
    "PATRICIA",
    "JOHN",
    "JENNIFER",
    "MICHAEL",
    "LINDA",
    "DAVID",
    "ELIZABETH",
    "WILLIAM",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "THOMAS",
    "SARAH",
    "CHARLES",
    "KAREN",
    "CHRISTOPHER",
    "LISA",
    "DANIEL",
    "NANCY",
    "MATTHEW",
    "BETTY",
    "ANTHONY",
    "MARGARET",
    "MARK",
    "SANDRA",
    "ANNA",
    "PETER",
    "HANS",
    "MARIE",
    "JEAN",
    "LUCA",
    "GIULIA",
    "SOFIA",
    "YUKI",
    "HIROSHI",
    "WEI",
    "MIN",
    "JOAO",
    "ANA",
    "PIOTR",
    "KATARZYNA",
    "JAN",
    "EMMA",
    "NOAH",
    "OLIVIA",
    "LIAM",
    "AVA",
]
INSTITUTIONS = (
    "GENERAL HOSPITAL",
    "ST MARY MEDICAL CENTER",
    "UNIVERSITY CLINIC",
    "CITY IMAGING CENTER",
    "REGIONAL CANCER INSTITUTE",
)
MANUFACTURERS = (
    ("SIEMENS", "SOMATOM Force"),
    ("GE MEDICAL SYSTEMS", "Revolution CT"),
    ("Philips", "Ingenia"),
    ("CANON_MEC", "Aquilion ONE"),
)
SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",
    "NM": "1.2.840.10008.5.1.4.1.1.20",
    "SR": "1.2.840.10008.5.1.4.1.1.88.22",
    "PR": "1.2.840.10008.5.1.4.1.1.11.1",
}
#: (weight, study description, body part, series modalities and descriptions, cycled over the series)
STUDY_TYPES: tuple[tuple[int, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        20,
        "CT CHEST W CONTRAST",
        "CHEST",
        (
            ("CT", "Topogram"),
            ("CT", "Chest 1.0 Br40"),
            ("CT", "Chest 5.0 Lung"),
            ("CT", "MPR cor"),
            ("SR", "Dose Report"),
        ),
    ),
    (
        12,
        "CT ABDOMEN PELVIS",
        "ABDOMEN",
        (
            ("CT", "Scout"),
            ("CT", "Arterial"),
            ("CT", "Portal venous"),
            ("CT", "Delayed"),
            ("PR", "Key images"),
        ),
    ),
    (
        15,
        "MR BRAIN W/O CONTRAST",
        "HEAD",
        (("MR", "t1_mprage"), ("MR", "t2_tse_tra"), ("MR", "flair"), ("MR", "dwi")),
    ),
    (8, "MR KNEE", "KNEE", (("MR", "pd_tse_sag"), ("MR", "pd_fs_cor"), ("MR", "t1_tse_cor"))),
    (
        6,
        "PET-CT WHOLE BODY",
        "WHOLEBODY",
        (("CT", "CT AC"), ("PT", "PET AC"), ("PT", "PET NAC"), ("CT", "CT Dx")),
    ),
    (
        15,
        "XR CHEST 2 VIEWS",
        "CHEST",
        (("CR", "PA"), ("CR", "LAT"), ("DX", "PA"), ("DX", "LAT"), ("PR", "GSPS")),
    ),
    (
        10,
        "US ABDOMEN",
        "ABDOMEN",
        (("US", "Liver"), ("US", "Kidneys"), ("US", "Spleen"), ("SR", "Measurements")),
    ),
    (
        9,
        "MAMMO SCREENING BILATERAL",
        "BREAST",
        (("MG", "R CC"), ("MG", "L CC"), ("MG", "R MLO"), ("MG", "L MLO")),
    ),
    (
        5,
        "NM BONE SCAN",
        "WHOLEBODY",
        (("NM", "Whole body"), ("NM", "SPECT"), ("CT", "Localizer"), ("SR", "Report")),
    ),
)
MODALITIES = tuple(sorted({m for _, _, _, series in STUDY_TYPES for m, _ in series}))
DATE_FIRST = dt.date(2005, 1, 1)
DATE_LAST = dt.date(2025, 12, 31)


@dataclass(frozen=True)
class ScaleShape:
    patients: int = 10_000
    studies: int = 2
    series: int = 5
    instances: int = 10

    @property
    def total_studies(self) -> int:
        return self.patients * self.studies

    @property
    def total_series(self) -> int:
        return self.total_studies * self.series

    @property
    def total(self) -> int:
        return self.total_series * self.instances

    @property
    def per_patient(self) -> int:
        return self.studies * self.series * self.instances

    @property
    def label(self) -> str:
        return f"{self.patients}x{self.studies}x{self.series}x{self.instances}"


@dataclass(frozen=True)
class StudyFacts:
    """What a study-level query on name, date and modality can match."""

    patient_name: str
    study_date: str
    modalities: frozenset[str]


@dataclass
class Generator:
    """Deterministic content for ``shape``; ``patient(p)`` gives the files of patient ``p``."""

    shape: ScaleShape
    seed: int = 20240601
    studies: dict[str, StudyFacts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.shape
        self._w_patient = len(str(max(s.patients - 1, 1)))
        self._w_study = len(str(max(s.studies - 1, 1)))
        self._w_series = len(str(max(s.series - 1, 1)))
        self._w_instance = len(str(max(s.instances - 1, 1)))
        self._types = [t for t in STUDY_TYPES for _ in range(t[0])]
        self._days = (DATE_LAST - DATE_FIRST).days

    @staticmethod
    def _fixed(value: int, width: int) -> str:
        """A UID component of exactly ``width + 1`` digits, never with a leading zero."""
        return str(10**width + value)

    def study_uid(self, p: int, s: int) -> str:
        return f"{UID_ROOT}.{self._fixed(p, self._w_patient)}.{self._fixed(s, self._w_study)}"

    def patient(self, p: int, *, encode: bool = True) -> Iterator[bytes]:
        """Every instance of patient ``p`` as a PS3.10 file (bytes); with ``encode=False`` only
        the study facts are recorded (the same random draws, nothing yielded)."""
        rng = random.Random(self.seed * 1_000_003 + p)
        surname = rng.choice(SURNAMES)
        given = rng.choice(GIVEN_NAMES)
        name = f"{surname}^{given}" + (f"^{rng.choice(GIVEN_NAMES)[0]}" if rng.random() < 0.3 else "")
        patient = {
            "PatientName": name,
            "PatientID": f"P{p + 1:07d}",
            "PatientBirthDate": f"{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
            "PatientSex": rng.choice("MMFFO"),
        }
        for s in range(self.shape.studies):
            weight_type = rng.choice(self._types)
            _, description, body_part, series_types = weight_type
            date = DATE_FIRST + dt.timedelta(days=rng.randrange(self._days + 1))
            study_date = date.strftime("%Y%m%d")
            study_uid = self.study_uid(p, s)
            study = {
                "StudyInstanceUID": study_uid,
                "StudyDate": study_date,
                "StudyTime": f"{rng.randint(7, 19):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}",
                "AccessionNumber": f"A{rng.randrange(10**9):09d}",
                "StudyID": str(s + 1),
                "StudyDescription": description,
                "ReferringPhysicianName": f"{rng.choice(SURNAMES)}^{rng.choice(GIVEN_NAMES)}",
                "InstitutionName": rng.choice(INSTITUTIONS),
            }
            manufacturer, model = rng.choice(MANUFACTURERS)
            modalities = set()
            for r in range(self.shape.series):
                modality, series_description = series_types[r % len(series_types)]
                modalities.add(modality)
                series = {
                    "SeriesInstanceUID": f"{study_uid}.{self._fixed(r, self._w_series)}",
                    "SeriesNumber": str(r + 1),
                    "Modality": modality,
                    "SeriesDescription": series_description,
                    "BodyPartExamined": body_part,
                    "SeriesDate": study_date,
                    "SeriesTime": study["StudyTime"],
                    "Manufacturer": manufacturer,
                    "ManufacturerModelName": model,
                    "StationName": f"{modality}{rng.randrange(1, 9):02d}",
                    "ProtocolName": f"{description} / {series_description}",
                }
                if encode:
                    yield from self._series(patient, study, series)
            self.studies[study_uid] = StudyFacts(name, study_date, frozenset(modalities))

    def _series(
        self, patient: dict[str, str], study: dict[str, str], series: dict[str, str]
    ) -> Iterator[bytes]:
        series_uid = series["SeriesInstanceUID"]
        sop_prefix = f"{series_uid}."
        sop_placeholder = sop_prefix + SOP_PLACEHOLDER_DIGIT * (self._w_instance + 1)
        data = bytearray(_encode(patient, study, series, sop_placeholder))
        sop_at = _offsets(data, sop_placeholder.encode())
        number_at = _offsets(data, NUMBER_PLACEHOLDER.encode())
        z_at = _offsets(data, Z_PLACEHOLDER.encode())
        for i in range(self.shape.instances):
            uid = (sop_prefix + self._fixed(i, self._w_instance)).encode()
            for at in sop_at:
                data[at : at + len(uid)] = uid
            number = f"{i + 1:06d}".encode()
            for at in number_at:
                data[at : at + 6] = number
            z = f"{-2.5 * i:+09.2f}".encode()
            for at in z_at:
                data[at : at + 9] = z
            yield bytes(data)


def _offsets(data: bytearray, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    if not out:
        raise AssertionError(f"placeholder {needle!r} not found in the encoded template")
    return out


def _encode(patient: dict[str, str], study: dict[str, str], series: dict[str, str], sop_uid: str) -> bytes:
    import dicomkit
    from dicomkit.dataset import DataElement, Dataset
    from dicomkit.dictionary import tag_for_keyword

    modality = series["Modality"]
    elements: list[tuple[str, str, Any]] = [
        ("SpecificCharacterSet", "CS", "ISO_IR 100"),
        ("ImageType", "CS", ("ORIGINAL", "PRIMARY", "AXIAL")),
        ("InstanceCreationDate", "DA", study["StudyDate"]),
        ("SOPClassUID", "UI", SOP_CLASSES[modality]),
        ("SOPInstanceUID", "UI", sop_uid),
        ("StudyDate", "DA", study["StudyDate"]),
        ("SeriesDate", "DA", series["SeriesDate"]),
        ("ContentDate", "DA", study["StudyDate"]),
        ("StudyTime", "TM", study["StudyTime"]),
        ("SeriesTime", "TM", series["SeriesTime"]),
        ("AccessionNumber", "SH", study["AccessionNumber"]),
        ("Modality", "CS", modality),
        ("Manufacturer", "LO", series["Manufacturer"]),
        ("InstitutionName", "LO", study["InstitutionName"]),
        ("ReferringPhysicianName", "PN", study["ReferringPhysicianName"]),
        ("StationName", "SH", series["StationName"]),
        ("StudyDescription", "LO", study["StudyDescription"]),
        ("SeriesDescription", "LO", series["SeriesDescription"]),
        ("ManufacturerModelName", "LO", series["ManufacturerModelName"]),
        ("PatientName", "PN", patient["PatientName"]),
        ("PatientID", "LO", patient["PatientID"]),
        ("PatientBirthDate", "DA", patient["PatientBirthDate"]),
        ("PatientSex", "CS", patient["PatientSex"]),
        ("BodyPartExamined", "CS", series["BodyPartExamined"]),
        ("ProtocolName", "LO", series["ProtocolName"]),
        ("StudyInstanceUID", "UI", study["StudyInstanceUID"]),
        ("SeriesInstanceUID", "UI", series["SeriesInstanceUID"]),
        ("StudyID", "SH", study["StudyID"]),
        ("SeriesNumber", "IS", series["SeriesNumber"]),
        ("InstanceNumber", "IS", NUMBER_PLACEHOLDER),
        ("ImagePositionPatient", "DS", ("-160", "-160", Z_PLACEHOLDER)),
        ("ImageOrientationPatient", "DS", ("1", "0", "0", "0", "1", "0")),
        ("FrameOfReferenceUID", "UI", f"{study['StudyInstanceUID']}.0"),
        ("SamplesPerPixel", "US", 1),
        ("PhotometricInterpretation", "CS", "MONOCHROME2"),
        ("Rows", "US", 512),
        ("Columns", "US", 512),
        ("PixelSpacing", "DS", ("0.7", "0.7")),
        ("BitsAllocated", "US", 16),
        ("BitsStored", "US", 12),
        ("HighBit", "US", 11),
        ("PixelRepresentation", "US", 0),
    ]
    ds = Dataset()
    for keyword, vr, value in elements:
        tag = tag_for_keyword(keyword)
        ds[tag] = DataElement(tag, vr, value)
    buf = io.BytesIO()
    dicomkit.write(ds, buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class StudyQuery:
    params: dict[str, str]

    def expected(self, studies: dict[str, StudyFacts]) -> int:
        """How many of ``studies`` match, evaluated here independently of the archive (PS3.4 C.2.2.2)."""
        pattern = self.params["PatientName"]
        low, _, high = self.params["StudyDate"].partition("-")
        modality = self.params["ModalitiesInStudy"]
        return sum(
            1
            for f in studies.values()
            if fnmatch.fnmatchcase(f.patient_name, pattern)
            and (not low or f.study_date >= low)
            and (not high or f.study_date <= high)
            and modality in f.modalities
        )


def study_queries(count: int, seed: int = 7) -> list[StudyQuery]:
    """``count`` varied study-level queries: a PatientName wildcard (surname prefix of 1-4 letters,
    sometimes with a given-name prefix), a StudyDate range (closed, 2 weeks to 5 years, or open on one
    side) and one ModalitiesInStudy value."""
    rng = random.Random(seed)
    days = (DATE_LAST - DATE_FIRST).days
    out = []
    for _ in range(count):
        surname = rng.choice(SURNAMES)
        name = surname[: rng.randint(1, 4)] + "*"
        if rng.random() < 0.25:
            name = f"{surname}^{rng.choice(GIVEN_NAMES)[: rng.randint(1, 2)]}*"
        start = DATE_FIRST + dt.timedelta(days=rng.randrange(days))
        end = start + dt.timedelta(days=rng.randint(14, 5 * 365))
        kind = rng.random()
        if kind < 0.1:
            dates = f"{start:%Y%m%d}-"
        elif kind < 0.2:
            dates = f"-{end:%Y%m%d}"
        else:
            dates = f"{start:%Y%m%d}-{end:%Y%m%d}"
        out.append(
            StudyQuery({"PatientName": name, "StudyDate": dates, "ModalitiesInStudy": rng.choice(MODALITIES)})
        )
    return out
