"""A small writer of test corpora with known structure (``dicomkit.write``, Explicit VR LE).

The corpora plant malformed values (bad dates and UIDs, missing SOP Instance UIDs):
they are written with ``validate=False``, which writes such values verbatim."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dicomkit
from dicomkit.dataset import DataElement, Dataset
from dicomkit.dictionary import tag_for_keyword, vr_of

CT = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.8.498.4242"

DEFAULTS: dict[str, Any] = {
    "SOPClassUID": CT,
    "ImageType": ("ORIGINAL", "PRIMARY", "AXIAL"),
    "StudyDate": "20240311",
    "StudyTime": "093012",
    "Modality": "CT",
    "PatientName": "Doe^Jane",
    "PatientID": "P1",
    "PatientBirthDate": "19700101",
    "PatientSex": "F",
    "ImageOrientationPatient": ("1", "0", "0", "0", "1", "0"),
    "Rows": 4,
    "Columns": 4,
    "PixelSpacing": ("0.5", "0.5"),
    "BitsAllocated": 16,
    "BitsStored": 12,
    "HighBit": 11,
    "PixelRepresentation": 0,
}


def uid(*parts: object) -> str:
    return ".".join([ROOT, *map(str, parts)])


def dataset(**attrs: Any) -> Dataset:
    """A CT image data set: DEFAULTS overridden by ``attrs`` (None removes an attribute)."""
    values = {**DEFAULTS, **attrs}
    ds = Dataset()
    for keyword, value in values.items():
        if value is None:
            continue
        tag = tag_for_keyword(keyword)
        vr = (vr_of(tag) or "UN").split(" or ")[0]
        if keyword == "PixelData":
            vr = "OW"
        ds[tag] = DataElement(tag, vr, tuple(value) if isinstance(value, list) else value)
    return ds


def write(path: Path, **attrs: Any) -> Path:
    """Write one file (parents made); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = dataset(PixelData=bytes(32), **attrs)
    dicomkit.write(ds, path, transfer_syntax="1.2.840.10008.1.2.1", validate=False)
    return path


def slices(
    folder: Path,
    study: str,
    series: str,
    zs: list[float],
    *,
    numbers: list[int] | None = None,
    name: str = "IM",
    **attrs: Any,
) -> list[Path]:
    """An axial series: one file per z, SOP Instance UIDs ``series.n``, Instance Numbers 1.. (or ``numbers``)."""
    out = []
    for k, z in enumerate(zs):
        n = numbers[k] if numbers is not None else k + 1
        out.append(
            write(
                folder / f"{name}{k + 1:03d}.dcm",
                StudyInstanceUID=study,
                SeriesInstanceUID=series,
                SOPInstanceUID=f"{series}.{k + 1}",
                InstanceNumber=n,
                ImagePositionPatient=("-10", "-10", f"{z:g}"),
                **attrs,
            )
        )
    return out
