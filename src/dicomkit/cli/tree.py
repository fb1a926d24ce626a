"""``dicomkit tree``: the patient / study / series hierarchy of files and folders.

A first version, kept simple on purpose: the information model (``dicomkit.model``) will
replace the grouping below. Each file is read with ``stop_before_pixels=True``; instances
are grouped by Patient ID (the name when there is no ID), Study Instance UID and Series
Instance UID, and counted by SOP Instance UID (a file stored twice counts once).
Files that are not DICOM, cannot be read, are DICOMDIRs or have no SOP Instance UID are
skipped and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dicomkit.cli import Output, describe_error
from dicomkit.codec.reader import read
from dicomkit.dataset import Dataset
from dicomkit.errors import InvalidDicomError

__all__ = ["Hierarchy", "collect", "run"]

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


@dataclass
class Series:
    uid: str
    number: int | None = None
    modality: str = ""
    description: str = ""
    instances: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "SeriesInstanceUID": self.uid,
            "SeriesNumber": self.number,
            "Modality": self.modality,
            "SeriesDescription": self.description,
            "instances": len(self.instances),
        }


@dataclass
class Study:
    uid: str
    date: str = ""
    description: str = ""
    series: dict[str, Series] = field(default_factory=dict)

    def sorted_series(self) -> list[Series]:
        return sorted(self.series.values(), key=lambda s: (s.number is None, s.number or 0, s.uid))

    def to_json(self) -> dict[str, Any]:
        return {
            "StudyInstanceUID": self.uid,
            "StudyDate": self.date,
            "StudyDescription": self.description,
            "series": [s.to_json() for s in self.sorted_series()],
        }


@dataclass
class Patient:
    id: str
    name: str = ""
    studies: dict[str, Study] = field(default_factory=dict)

    def sorted_studies(self) -> list[Study]:
        return sorted(self.studies.values(), key=lambda s: (s.date, s.uid))

    def to_json(self) -> dict[str, Any]:
        return {
            "PatientName": self.name,
            "PatientID": self.id,
            "studies": [s.to_json() for s in self.sorted_studies()],
        }


@dataclass
class Hierarchy:
    """Patients → studies → series, with what was skipped on the way."""

    patients: dict[tuple[str, str], Patient] = field(default_factory=dict)
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    missing: list[tuple[str, str]] = field(default_factory=list)  # arguments that are not there

    def sorted_patients(self) -> list[Patient]:
        return sorted(self.patients.values(), key=lambda p: (p.name, p.id))

    def counts(self) -> dict[str, int]:
        studies = [st for p in self.patients.values() for st in p.studies.values()]
        series = [se for st in studies for se in st.series.values()]
        return {
            "patients": len(self.patients),
            "studies": len(studies),
            "series": len(series),
            "instances": sum(len(se.instances) for se in series),
        }

    def add(self, ds: Dataset, path: str) -> str | None:
        """Add one data set; returns why it was skipped, or None."""
        meta = ds.meta
        sop_class = _text(ds.get(0x00080016)) or (_text(meta.get(0x00020002)) if meta is not None else "")
        if sop_class == MEDIA_STORAGE_DIRECTORY:
            return "a DICOMDIR (a media directory, not an instance)"
        sop_uid = _text(ds.get(0x00080018)) or (_text(meta.get(0x00020003)) if meta is not None else "")
        if not sop_uid:
            return "no SOP Instance UID"
        patient_id, name = _text(ds.get(0x00100020)), _text(ds.get(0x00100010))
        key = (patient_id, "" if patient_id else name)
        patient = self.patients.get(key)
        if patient is None:
            patient = self.patients[key] = Patient(patient_id, name)
        study_uid = _text(ds.get(0x0020000D))
        study = patient.studies.get(study_uid)
        if study is None:
            study = patient.studies[study_uid] = Study(
                study_uid, _text(ds.get(0x00080020)), _text(ds.get(0x00081030))
            )
        series_uid = _text(ds.get(0x0020000E))
        series = study.series.get(series_uid)
        if series is None:
            number = ds.get(0x00200011)
            series = study.series[series_uid] = Series(
                series_uid,
                number if isinstance(number, int) else None,
                _text(ds.get(0x00080060)),
                _text(ds.get(0x0008103E)),
            )
        series.instances.add(sop_uid)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "files": self.files,
            "patients": [p.to_json() for p in self.sorted_patients()],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "\\".join(_text(v) for v in value)
    return str(value).strip()


def _walk(path: str) -> Iterator[str]:
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


def collect(paths: list[str], *, debug: bool = False) -> Hierarchy:
    """Read every file under ``paths`` into a :class:`Hierarchy`."""
    h = Hierarchy()
    for arg in paths:
        if os.path.isdir(arg):
            files: Iterator[str] = _walk(arg)
        elif os.path.exists(arg):
            files = iter([arg])
        else:
            h.missing.append((arg, "no such file or directory"))
            continue
        for path in files:
            h.files += 1
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    ds = read(path, stop_before_pixels=True)
                    reason = h.add(ds, path)
                except InvalidDicomError:
                    reason = "not DICOM"
                except Exception as exc:  # DicomError, OSError; anything else is a bug
                    if debug:
                        raise
                    reason = f"unreadable: {describe_error(exc, path)}"
            if reason is not None:
                h.skipped.append((path, reason))
            else:
                h.warnings += [(path, str(w.message)) for w in caught]
    return h


_PLURALS = {"study": "studies", "series": "series"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else _PLURALS.get(word, word + 's')}"


def _date(da: str) -> str:
    if len(da) == 8 and da.isdigit():
        return f"{da[:4]}-{da[4:6]}-{da[6:]}"
    return da or "(no date)"


def print_tree(h: Hierarchy, out: Output, title: str) -> None:
    """The hierarchy as a rich Tree."""
    from rich.text import Text
    from rich.tree import Tree

    c = h.counts()
    label = Text.assemble(
        (title, "bold"),
        f": {_plural(c['patients'], 'patient')}, {_plural(c['studies'], 'study')}, "
        f"{_plural(c['series'], 'series')}, {_plural(c['instances'], 'instance')}",
    )
    root = Tree(label, guide_style="dim")
    for patient in h.sorted_patients():
        p_node = root.add(
            Text.assemble(
                ("Patient ", "bold"),
                (patient.name or "(no name)", "green"),
                "  ID ",
                (patient.id or "(none)", "cyan"),
            )
        )
        for study in patient.sorted_studies():
            st_node = p_node.add(
                Text.assemble(
                    ("Study ", "bold"),
                    (_date(study.date), "yellow"),
                    "  ",
                    (study.description or "(no description)", ""),
                    "  ",
                    (study.uid or "(no Study Instance UID)", "dim"),
                )
            )
            for series in study.sorted_series():
                number = "?" if series.number is None else str(series.number)
                st_node.add(
                    Text.assemble(
                        ("Series ", "bold"),
                        (number, "cyan"),
                        "  ",
                        (series.modality or "??", "magenta"),
                        "  ",
                        (series.description or "(no description)", ""),
                        "  ",
                        (_plural(len(series.instances), "instance"), "yellow"),
                    )
                )
    out.console.print(root)


def run(args: argparse.Namespace, out: Output) -> int:
    h = collect(args.paths, debug=args.debug)
    for path, reason in h.missing:
        out.error(path, reason)
    if args.json:
        out.text(json.dumps(h.to_json(), ensure_ascii=False, indent=2))
    else:
        title = args.paths[0] if len(args.paths) == 1 else f"{len(args.paths)} paths"
        print_tree(h, out, title)
        if h.skipped:
            n = len(h.skipped)
            hint = "" if args.verbose else f"; --verbose lists {'it' if n == 1 else 'them'}"
            out.text(f"skipped {_plural(n, 'file')}: not DICOM, unreadable or not an instance{hint}")
    if args.verbose:
        for path, reason in h.skipped:
            out.stderr.write(f"skipped: {path}: {reason}\n")
        for path, message in h.warnings:
            out.warning(path, message)
    return 1 if h.missing else 0
