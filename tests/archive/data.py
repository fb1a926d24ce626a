"""Test data for the archive: small CT instances with known hierarchy, written with dicomkit."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import dicomkit
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.dictionary import tag_for_keyword, vr_of

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
ROOT = "1.2.826.0.1.3680043.8.498.77"

DEFAULTS: dict[str, Any] = {
    "SOPClassUID": CT,
    "StudyDate": "20240311",
    "StudyTime": "093012",
    "Modality": "CT",
    "PatientName": "Doe^Jane",
    "PatientID": "P1",
    "PatientBirthDate": "19700101",
    "PatientSex": "F",
    "Rows": 4,
    "Columns": 4,
    "BitsAllocated": 16,
    "BitsStored": 12,
    "HighBit": 11,
    "PixelRepresentation": 0,
    "SamplesPerPixel": 1,
    "PhotometricInterpretation": "MONOCHROME2",
}


def uid(*parts: object) -> str:
    return ".".join([ROOT, *map(str, parts)])


def element(keyword: str, value: Any) -> DataElement:
    tag = tag_for_keyword(keyword)
    vr = (vr_of(tag) or "UN").split(" or ")[0]
    if keyword == "PixelData":
        vr = "OW"
    if vr == "SQ":
        items = []
        for item in value:
            ds = Dataset()
            for k, v in item.items():
                ds[tag_for_keyword(k)] = element(k, v)
            items.append(ds)
        return DataElement(tag, vr, Sequence(items))
    return DataElement(tag, vr, tuple(value) if isinstance(value, list) else value)


def dataset(study: int = 0, series: int = 0, number: int = 0, **attrs: Any) -> Dataset:
    """A CT image: DEFAULTS, UIDs from (study, series, number), then ``attrs`` (None removes)."""
    values: dict[str, Any] = {
        **DEFAULTS,
        "StudyInstanceUID": uid(study),
        "SeriesInstanceUID": uid(study, series),
        "SOPInstanceUID": uid(study, series, number),
        "InstanceNumber": number + 1,
        "PixelData": bytes(32),
        **attrs,
    }
    ds = Dataset()
    for keyword, value in values.items():
        if value is not None:
            ds[tag_for_keyword(keyword)] = element(keyword, value)
    return ds


def encode(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    dicomkit.write(ds, buf)
    return buf.getvalue()


def write(path: Path, study: int = 0, series: int = 0, number: int = 0, **attrs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(dataset(study, series, number, **attrs)))
    return path


def tree(folder: Path, shape: list[list[int]], **attrs: Any) -> list[Path]:
    """Files for studies × series × instances: ``shape[s][k]`` instances in series k of study s;
    patient of study s is ``P{s % 2}``, series k has modality CT (even k) or MR (odd k)."""
    out = []
    for s, series_sizes in enumerate(shape):
        for k, n in enumerate(series_sizes):
            for i in range(n):
                out.append(
                    write(
                        folder / f"s{s}" / f"se{k}" / f"{i}.dcm",
                        s,
                        k,
                        i,
                        PatientID=f"P{s % 2}",
                        Modality="CT" if k % 2 == 0 else "MR",
                        SOPClassUID=CT if k % 2 == 0 else MR,
                        **attrs,
                    )
                )
    return out
