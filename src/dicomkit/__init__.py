"""dicomkit: a DICOM toolkit and archive.

The facade: ``read`` and ``write`` (PS3.10 files and bare data sets), ``Dataset``, ``DataElement``,
``Sequence``, ``Tag``, ``VR``, ``UID``, the generated ``tags`` and ``uids`` constants and
the ``errors`` tree. Everything else lives in its layer's module (see README).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dicomkit import errors
from dicomkit.codec.reader import read, read_dataset
from dicomkit.codec.writer import write, write_dataset
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.errors import (
    DecodeError,
    DicomError,
    DicomWarning,
    EncodeError,
    InvalidDicomError,
    KeywordError,
    UnsupportedTransferSyntaxError,
)
from dicomkit.tag import Tag
from dicomkit.uid import UID, generate_uid
from dicomkit.vr import VR

if TYPE_CHECKING:
    from dicomkit import tags, uids

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the generated constant modules (5,000+ names each) load on first use: import time matters
    if name in ("tags", "uids"):
        import importlib

        return importlib.import_module(f"dicomkit.{name}")
    raise AttributeError(f"module 'dicomkit' has no attribute {name!r}")


__all__ = [
    "UID",
    "VR",
    "DataElement",
    "Dataset",
    "DecodeError",
    "DicomError",
    "DicomWarning",
    "EncodeError",
    "InvalidDicomError",
    "KeywordError",
    "Sequence",
    "Tag",
    "UnsupportedTransferSyntaxError",
    "errors",
    "generate_uid",
    "read",
    "read_dataset",
    "tags",
    "uids",
    "write",
    "write_dataset",
]
