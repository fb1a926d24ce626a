"""dicomkit: a DICOM toolkit and archive.

The facade: ``read`` (PS3.10 files and bare data sets), ``Dataset``, ``DataElement``,
``Sequence``, ``Tag``, ``VR``, ``UID``, the generated ``tags`` and ``uids`` constants and
the ``errors`` tree. Everything else lives in its layer's module (see README).
"""

from __future__ import annotations

from dicomkit import errors, tags, uids
from dicomkit.codec.reader import read, read_dataset
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

__version__ = "0.1.0"

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
]
