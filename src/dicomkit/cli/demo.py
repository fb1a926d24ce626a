"""``dicomkit demo``: write a small, realistic sample, show it, and index it in an archive.

The demo writes the sample, runs ``dump`` on one file and ``tree`` on the folder, then
``import --link`` into an archive inside the sample folder (``DIR/archive``: the files are indexed
where they are, so ``tree`` still sees each instance once) and shows what the archive holds with
``archive stats`` and a study-level ``query``. Running it again rewrites the same files and
imports nothing new (every instance is a duplicate).

The sample (:func:`sample`) is synthetic and deterministic -- the same UIDs, dates and
pixels every run, so running the demo again rewrites identical files:

* 2 patients, 3 studies, 5 series, 24 images: a CT chest study (topogram + axial series)
  and an MR brain study (T1 + T2) for ``Müller^Jürgen`` (Specific Character Set
  ``ISO_IR 192``, UTF-8), a CT abdomen study for ``Smith^Alice`` (default repertoire);
* 64×64 MONOCHROME2 pixel data, 16 bits allocated, 12 stored (phantoms drawn below);
* in every image a nested sequence (Request Attributes Sequence, undefined length, holding
  a Scheduled Protocol Code Sequence of defined length) and a private block
  (creator ``DICOMKIT DEMO`` in group 0009);
* one file in Implicit VR Little Endian and one in Explicit VR Big Endian, the others in
  Explicit VR Little Endian; plus a ``README.txt`` that ``tree`` reports as skipped.

Files are written through a temporary name and ``os.replace``; files other than the
sample's in the folder are left alone.
"""

from __future__ import annotations

import argparse
import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomkit.cli import Output
from dicomkit.dataset import Dataset
from dicomkit.errors import DicomError
from dicomkit.uid import transfer_syntax

__all__ = ["SampleFile", "run", "sample", "write_sample"]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
PRIVATE_CREATOR = "DICOMKIT DEMO"
SIZE = 64
_NAMESPACE = uuid.UUID("6f1c3c52-2a57-4b8e-9a43-3a1f0e9b6d21")

README = """\
This folder was written by `dicomkit demo`: a small synthetic DICOM sample.

  2 patients, 3 studies, 5 series, 24 images (CT and MR, 64x64, 16 bits allocated)
  Patient Müller^Jürgen (Specific Character Set ISO_IR 192): CT chest, MR brain
  Patient Smith^Alice: CT abdomen
  one file in Implicit VR Little Endian, one in Explicit VR Big Endian

Try:  dicomkit dump FILE      dicomkit dump --json FILE      dicomkit tree {dir}

This README is not DICOM: `dicomkit tree` counts it as skipped.
Running `dicomkit demo` again rewrites the same files.
"""


@dataclass(frozen=True, slots=True)
class _Series:
    number: int
    modality: str
    description: str
    count: int
    kind: str  # which phantom: topogram, chest, abdomen, t1, t2
    slug: str


@dataclass(frozen=True, slots=True)
class _Study:
    study_id: str
    date: str
    time: str
    description: str
    accession: str
    code: tuple[str, str]  # Scheduled Protocol Code: value, meaning (scheme 99DICOMKIT)
    slug: str
    body_part: str
    series: tuple[_Series, ...]


@dataclass(frozen=True, slots=True)
class _Patient:
    id: str
    name: str
    birth_date: str
    sex: str
    charset: str | None
    institution: str
    studies: tuple[_Study, ...]


PATIENTS = (
    _Patient(
        "DK-0001",
        "Müller^Jürgen",
        "19610412",
        "M",
        "ISO_IR 192",
        "Klinikum Süd",
        (
            _Study(
                "1001",
                "20240311",
                "093012",
                "CT CHEST WITH CONTRAST",
                "ACC1001",
                ("CTCHEST", "CT chest with contrast"),
                "ct_chest",
                "CHEST",
                (
                    _Series(1, "CT", "Topogram", 2, "topogram", "topogram"),
                    _Series(2, "CT", "Chest 5mm", 6, "chest", "chest_5mm"),
                ),
            ),
            _Study(
                "1002",
                "20240402",
                "141503",
                "MR BRAIN",
                "ACC1002",
                ("MRBRAIN", "MR brain without contrast"),
                "mr_brain",
                "HEAD",
                (
                    _Series(1, "MR", "T1 SE axial", 5, "t1", "t1_se_axial"),
                    _Series(2, "MR", "T2 TSE axial", 5, "t2", "t2_tse_axial"),
                ),
            ),
        ),
    ),
    _Patient(
        "DK-0002",
        "Smith^Alice",
        "19790823",
        "F",
        None,
        "General Hospital",
        (
            _Study(
                "2001",
                "20231120",
                "080544",
                "CT ABDOMEN",
                "ACC2001",
                ("CTABD", "CT abdomen"),
                "ct_abdomen",
                "ABDOMEN",
                (_Series(1, "CT", "Abdomen 5mm", 6, "abdomen", "abdomen_5mm"),),
            ),
        ),
    ),
)

#: (patient ID, study ID, series number, instance number) -> transfer syntax, if not Explicit VR LE.
SPECIAL_SYNTAXES = {
    ("DK-0002", "2001", 1, 1): IMPLICIT_LE,
    ("DK-0001", "1002", 2, 5): EXPLICIT_BE,
}


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One file of the sample: where it goes, how it is encoded, what it holds."""

    path: str  # relative, with forward slashes
    transfer_syntax: str
    dataset: Dataset


def uid(*parts: object) -> str:
    """A deterministic UID under 2.25 (PS3.5 B.2) for the named sample object."""
    return f"2.25.{uuid.uuid5(_NAMESPACE, '/'.join(map(str, parts))).int}"


def _age(birth: str, on: str) -> str:
    years = int(on[:4]) - int(birth[:4]) - ((on[4:]) < (birth[4:]))
    return f"{years:03d}Y"


def _time(start: str, seconds: int) -> str:
    total = int(start[:2]) * 3600 + int(start[2:4]) * 60 + int(start[4:6]) + seconds
    return f"{total // 3600 % 24:02d}{total // 60 % 60:02d}{total % 60:02d}"


def _dataset(
    elements: list[tuple[str, Any]],
    *,
    undefined: frozenset[str] = frozenset(),
    private: tuple[tuple[int, str, Any], ...] = (),
) -> Dataset:
    """A data set set by keyword (VRs from the dictionary), with the ``private`` elements
    (offset, VR, value) in the ``DICOMKIT DEMO`` block of group 0009; the sequences named
    in ``undefined`` (and their items) are written with undefined lengths."""
    ds = Dataset()
    for keyword, value in elements:
        setattr(ds, keyword, value)
        if keyword in undefined:  # the sequence and its items
            elem = ds[keyword]
            elem.undefined_length = True
            for item in elem.value:
                elem.value.mark_undefined_length(item)
    if private:
        block = ds.private_block(0x0009, PRIVATE_CREATOR, create=True)
        for offset, vr, value in private:
            block.add(offset, vr, value)
    return ds


# ---------------------------------------------------------------------------------------
# phantoms: 12-bit values, row by row


def _inside(x: float, y: float, cx: float, cy: float, rx: float, ry: float) -> bool:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1.0


def _ct(kind: str, t: float, x: float, y: float) -> int:
    """Hounsfield units of the CT phantoms at (x, y) in [-1, 1]², ``t`` = depth in the volume."""
    if not _inside(x, y, 0, 0.05, 0.86, 0.62):
        return -1000
    hu = -90 if not _inside(x, y, 0, 0.05, 0.80, 0.56) else 40  # subcutaneous fat, then soft tissue
    if _inside(x, y, 0, 0.42, 0.10, 0.10):
        return 30 if _inside(x, y, 0, 0.42, 0.04, 0.04) else 700  # vertebra and cord
    if kind == "chest":
        lung = 0.32 + 0.06 * (1 - abs(2 * t - 1))
        for side in (-1, 1):
            if _inside(x, y, side * 0.38, 0.02, 0.26, lung):
                return -850
        if _inside(x, y, 0.08, -0.05, 0.22, 0.20):
            return 45  # heart
    elif kind == "abdomen":
        if _inside(x, y, -0.32, -0.02, 0.30, 0.30 - 0.1 * t):
            return 60  # liver
        for side in (-1, 1):
            if _inside(x, y, side * 0.30, 0.26, 0.09, 0.13):
                return 160  # kidneys with contrast
        if _inside(x, y, 0.05, 0.28, 0.05, 0.05):
            return 180  # aorta
    return hu


def _mr(kind: str, t: float, x: float, y: float) -> int:
    """Signal of the MR brain phantoms (T1 or T2 weighted)."""
    t1 = kind == "t1"
    scale = 1.0 - 0.25 * abs(2 * t - 1)
    if not _inside(x, y, 0, 0, 0.70 * scale + 0.05, 0.85 * scale + 0.05):
        return 0
    if not _inside(x, y, 0, 0, 0.70 * scale, 0.85 * scale):
        return 900 if t1 else 700  # scalp fat
    if not _inside(x, y, 0, 0, 0.64 * scale, 0.78 * scale):
        return 120 if t1 else 80  # skull
    for side in (-1, 1):
        if _inside(x, y, side * 0.10, -0.05, 0.06, 0.22 * scale):
            return 250 if t1 else 1900  # ventricles (CSF)
    if not _inside(x, y, 0, 0, 0.52 * scale, 0.66 * scale):
        return 560 if t1 else 900  # grey matter
    return 760 if t1 else 620  # white matter


def _topogram(x: float, y: float) -> int:
    """A frontal projection: attenuation summed through the body, darker over the lungs."""
    if abs(x) > 0.72 - 0.12 * abs(y) ** 2:
        return -1000
    value = 250.0
    for side in (-1, 1):
        if _inside(x, y, side * 0.32, -0.25, 0.22, 0.40):
            value = -500.0
    if abs(x) < 0.06:
        value = 900.0  # spine
    return int(value)


def pixels(kind: str, index: int, count: int, seed: int) -> bytes:
    """The 64×64 little-endian 16-bit pixel data of one image."""
    rnd = random.Random(seed)
    t = (index + 0.5) / count
    out = bytearray()
    for row in range(SIZE):
        y = (row - (SIZE - 1) / 2) / (SIZE / 2)
        for col in range(SIZE):
            x = (col - (SIZE - 1) / 2) / (SIZE / 2)
            if kind in ("t1", "t2"):
                value = _mr(kind, t, x, y)
                if value:
                    value += rnd.randint(-15, 15)
            else:
                hu = _topogram(x, y) if kind == "topogram" else _ct(kind, t, x, y)
                value = hu + 1024 + (rnd.randint(-10, 10) if hu > -1000 else 0)
            out += max(0, min(4095, value)).to_bytes(2, "little")
    return bytes(out)


# ---------------------------------------------------------------------------------------
# the sample


def _image(p: _Patient, st: _Study, se: _Series, n: int) -> Dataset:
    ct = se.modality == "CT"
    sop_uid = uid(p.id, st.study_id, se.number, n)
    series_time = _time(st.time, 300 * se.number)
    content_time = _time(series_time, 7 * n)
    topogram = se.kind == "topogram"
    spacing = 5.0 if ct else 3.75
    corner = -spacing * SIZE / 2
    z = -40.0 - 5.0 * (n - 1) if ct else 30.0 - 5.0 * (n - 1)
    if topogram:  # a frontal (coronal) plane
        position = (f"{corner:g}", "0", f"{-corner:g}")
        orientation = ("1", "0", "0", "0", "0", "-1")
    else:
        position = (f"{corner:g}", f"{corner:g}", f"{z:g}")
        orientation = ("1", "0", "0", "0", "1", "0")
    request = _dataset(
        [
            ("ScheduledProcedureStepDescription", st.code[1]),
            (
                "ScheduledProtocolCodeSequence",
                [
                    _dataset(
                        [
                            ("CodeValue", st.code[0]),
                            ("CodingSchemeDesignator", "99DICOMKIT"),
                            ("CodeMeaning", st.code[1]),
                        ]
                    )
                ],
            ),
            ("ScheduledProcedureStepID", f"SPS{st.study_id}"),
            ("RequestedProcedureID", f"RP{st.study_id}"),
        ]
    )
    elements: list[tuple[str, Any]] = [
        ("ImageType", ("ORIGINAL", "PRIMARY", "LOCALIZER" if topogram else "AXIAL" if ct else "OTHER")),
        ("InstanceCreationDate", st.date),
        ("InstanceCreationTime", content_time),
        ("SOPClassUID", CT_IMAGE_STORAGE if ct else MR_IMAGE_STORAGE),
        ("SOPInstanceUID", sop_uid),
        ("StudyDate", st.date),
        ("SeriesDate", st.date),
        ("ContentDate", st.date),
        ("StudyTime", st.time),
        ("SeriesTime", series_time),
        ("ContentTime", content_time),
        ("AccessionNumber", st.accession),
        ("Modality", se.modality),
        ("Manufacturer", "dicomkit"),
        ("InstitutionName", p.institution),
        ("ReferringPhysicianName", ""),
        ("StudyDescription", st.description),
        ("SeriesDescription", se.description),
        ("ManufacturerModelName", "synthetic phantom"),
        ("PatientName", p.name),
        ("PatientID", p.id),
        ("PatientBirthDate", p.birth_date),
        ("PatientSex", p.sex),
        ("PatientAge", _age(p.birth_date, st.date)),
        ("BodyPartExamined", st.body_part),
        ("SliceThickness", "5"),
        ("PatientPosition", "HFS"),
        ("StudyInstanceUID", uid(p.id, st.study_id)),
        ("SeriesInstanceUID", uid(p.id, st.study_id, se.number)),
        ("StudyID", st.study_id),
        ("SeriesNumber", se.number),
        ("AcquisitionNumber", 1),
        ("InstanceNumber", n),
        ("ImagePositionPatient", position),
        ("ImageOrientationPatient", orientation),
        ("FrameOfReferenceUID", uid(p.id, st.study_id, "frame-of-reference")),
        ("PositionReferenceIndicator", ""),
        ("SamplesPerPixel", 1),
        ("PhotometricInterpretation", "MONOCHROME2"),
        ("Rows", SIZE),
        ("Columns", SIZE),
        ("PixelSpacing", (f"{spacing:g}", f"{spacing:g}")),
        ("BitsAllocated", 16),
        ("BitsStored", 12),
        ("HighBit", 11),
        ("PixelRepresentation", 0),
        ("RequestAttributesSequence", [request]),
        ("PixelData", pixels(se.kind, n - 1, se.count, int(st.study_id) * 1000 + se.number * 100 + n)),
    ]
    if p.charset:
        elements.append(("SpecificCharacterSet", p.charset))
    if not topogram:
        elements.append(("SliceLocation", f"{z:g}"))
    if ct:
        elements += [
            ("KVP", "120"),
            ("RescaleIntercept", "-1024"),
            ("RescaleSlope", "1"),
            ("RescaleType", "HU"),
            ("WindowCenter", ("40", "-600")),
            ("WindowWidth", ("400", "1500")),
            ("WindowCenterWidthExplanation", ("SOFT TISSUE", "LUNG")),
        ]
    else:
        t1 = se.kind == "t1"
        elements += [
            ("ScanningSequence", "SE"),
            ("SequenceVariant", "NONE" if t1 else "SK"),
            ("ScanOptions", ""),
            ("MRAcquisitionType", "2D"),
            ("RepetitionTime", "500" if t1 else "4000"),
            ("EchoTime", "12" if t1 else "100"),
            ("EchoTrainLength", 1 if t1 else 12),
            ("MagneticFieldStrength", "1.5"),
            ("WindowCenter", "600" if t1 else "900"),
            ("WindowWidth", "1200" if t1 else "1800"),
        ]
    private = ((0x01, "LO", f"{se.kind} phantom"), (0x02, "US", n), (0x03, "DS", ("0.5", "1.25")))
    return _dataset(elements, undefined=frozenset({"RequestAttributesSequence"}), private=private)


def sample() -> list[SampleFile]:
    """The sample's files, in a stable order (the same every call)."""
    files = []
    for p in PATIENTS:
        for st in p.studies:
            for se in st.series:
                for n in range(1, se.count + 1):
                    ts = SPECIAL_SYNTAXES.get((p.id, st.study_id, se.number, n), EXPLICIT_LE)
                    path = f"{p.id}/{st.date}_{st.slug}/{se.number:02d}_{se.slug}/IM{n:04d}.dcm"
                    files.append(SampleFile(path, ts, _image(p, st, se, n)))
    return files


def write_sample(root: Path, files: list[SampleFile]) -> None:
    """Write the files (and the README) under ``root``, each atomically."""
    import dicomkit

    for f in files:
        path = root.joinpath(*f.path.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        ds = f.dataset.copy()
        ds.meta = Dataset()
        ds.meta.SourceApplicationEntityTitle = "DICOMKIT_DEMO"
        # the in-memory pixel bytes are little endian (no transfer syntax in ds.meta): the writer
        # swaps them for the big-endian file
        dicomkit.write(ds, path, transfer_syntax=f.transfer_syntax)
    _write_text(root / "README.txt", README.format(dir=root))


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) through a temporary name and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import archive_run, dump, importer, tree

    root = Path(args.dir)
    archive = getattr(args, "archive", None) or str(root / "archive")
    files = sample()
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(f"{root} exists and is not a directory")
        write_sample(root, files)
    except (OSError, DicomError) as exc:
        out.error(str(root), f"cannot write the sample: {exc}")
        return 1
    counts = _counts(files)
    special = {
        f.transfer_syntax: str(root.joinpath(*f.path.split("/")))
        for f in files
        if f.transfer_syntax != EXPLICIT_LE
    }
    out.text(
        f"dicomkit demo: wrote {len(files)} DICOM files and README.txt to {root}/ "
        f"({counts['patients']} patients, {counts['studies']} studies, {counts['series']} series; "
        f"CT and MR, {SIZE}×{SIZE}, 16 bits allocated)"
    )
    for ts_uid, path in sorted(special.items()):
        ts = transfer_syntax(ts_uid)
        out.text(f"  {ts.name if ts else ts_uid}: {path}")
    out.text("  every other file: Explicit VR Little Endian")
    shown = str(root.joinpath(*files[2].path.split("/")))
    steps: list[tuple[str, Callable[[argparse.Namespace, Output], int], argparse.Namespace]] = [
        (
            f"dicomkit dump {shown}",
            dump.run,
            argparse.Namespace(
                files=[shown],
                json=False,
                all=False,
                width=80,
                stop_before_pixels=False,
                strict=False,
                charset=None,
                quiet=False,
                debug=args.debug,
            ),
        ),
        (
            f"dicomkit tree {root}",
            tree.run,
            argparse.Namespace(paths=[str(root)], json=False, verbose=False, debug=args.debug),
        ),
        (
            f"dicomkit import --link --archive {archive} {root}",
            importer.run,
            argparse.Namespace(
                paths=[str(root)],
                archive=archive,
                database=None,
                link=True,
                duplicates="ignore",
                workers=None,
                report=None,
                quiet=False,
                debug=args.debug,
            ),
        ),
        (
            f"dicomkit archive stats --archive {archive}",
            archive_run.run_stats,
            argparse.Namespace(archive=archive, database=None, json=False, debug=args.debug),
        ),
        (
            f"dicomkit query --archive {archive} --level study",
            archive_run.run_query,
            argparse.Namespace(
                params=[],
                archive=archive,
                database=None,
                level="study",
                return_keys=[],
                order_by=None,
                limit=None,
                offset=0,
                fuzzy=False,
                json=False,
                debug=args.debug,
            ),
        ),
    ]
    status = 0
    for command, function, namespace in steps:
        out.text()
        out.line([(f"$ {command}", "bold")])
        status |= function(namespace, out)
    out.text()
    out.text(
        "Next: 'dicomkit dump --json FILE' prints the DICOM JSON model; "
        "'dicomkit tree PATH' works on any folder of DICOM files; "
        f"'dicomkit query --archive {archive} PatientName=\"M*\" ModalitiesInStudy=MR' searches the archive."
    )
    return status


def _counts(files: list[SampleFile]) -> dict[str, int]:
    def distinct(keyword: str) -> int:
        return len({f.dataset.get(keyword) for f in files})

    return {
        "patients": distinct("PatientID"),
        "studies": distinct("StudyInstanceUID"),
        "series": distinct("SeriesInstanceUID"),
        "instances": distinct("SOPInstanceUID"),
    }
