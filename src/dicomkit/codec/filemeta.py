"""The File Meta Information of a Part 10 file (PS3.10 section 7.1, Table 7.1-1).

Owns building group 0002 for writing: the user's ``ds.meta`` elements are kept (Source
AE Title, private information, ...), and the required ones are generated or corrected:
File Meta Information Version ``00\\01``, Media Storage SOP Class/Instance UID from the
data set's SOP Class/Instance UID, Transfer Syntax UID, Implementation Class UID and
Version Name. The group length (0002,0000) is computed by the writer when it encodes the
group (always Explicit VR Little Endian, PS3.10 7.1).

Implementation Class UID and Version Name name the writer (dicomkit) except when a data
set read from a file is written back unchanged in the same transfer syntax with a
complete meta: then the file is re-emitted as it was, byte for byte.
"""

from __future__ import annotations

from dicomkit.dataset import DataElement, Dataset
from dicomkit.errors import EncodeError
from dicomkit.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, TransferSyntax
from dicomkit.vr import VR

__all__ = ["build_meta"]

GROUP_LENGTH = 0x00020000
VERSION = 0x00020001
MEDIA_SOP_CLASS = 0x00020002
MEDIA_SOP_INSTANCE = 0x00020003
TRANSFER_SYNTAX = 0x00020010
IMPL_CLASS = 0x00020012
IMPL_VERSION = 0x00020013
SOP_CLASS = 0x00080016
SOP_INSTANCE = 0x00080018
_VERSION_BYTES = b"\x00\x01"


def _text(value: object) -> str:
    return "" if value is None else str(value).strip(" \x00")


def _uid_text(ds: Dataset, tag: int) -> str:
    """A UID element's text: its value, or its raw bytes when it has no decoded value."""
    elem = ds.element(tag) if tag in ds else None
    if elem is None:
        return ""
    value = elem.value
    if value is None and elem.raw is not None:
        return _text(elem.raw.decode("latin-1"))
    return _text(value)


def build_meta(ds: Dataset, ts: TransferSyntax, *, unchanged: bool = False, validate: bool = True) -> Dataset:
    """The File Meta Information to write for ``ds`` in ``ts`` (group length included,
    its value computed on encoding). ``unchanged``: the data set is written as read, so a
    complete, consistent meta is kept as it is. A data set without SOP Class or Instance
    UID is an :class:`EncodeError`; with ``validate=False`` (deliberately broken files,
    e.g. test data) the Media Storage UID is written empty instead."""
    old = ds.meta if isinstance(ds.meta, Dataset) else None
    meta = Dataset()
    fixed = old is None
    if old is not None:
        for elem in old:
            if elem.tag >> 16 != 0x0002:
                raise EncodeError(
                    f"{elem.tag} in ds.meta is not a File Meta Information element", tag=elem.tag
                )
            meta[elem.tag] = elem
    if GROUP_LENGTH not in meta._d:
        meta[GROUP_LENGTH] = DataElement(GROUP_LENGTH, VR.UL, 0)
    version = meta.get(VERSION)
    if version != _VERSION_BYTES:
        meta[VERSION] = DataElement(VERSION, VR.OB, _VERSION_BYTES)
        fixed = True
    for meta_tag, ds_tag, name in (
        (MEDIA_SOP_CLASS, SOP_CLASS, "SOP Class UID"),
        (MEDIA_SOP_INSTANCE, SOP_INSTANCE, "SOP Instance UID"),
    ):
        want = _uid_text(ds, ds_tag)
        have = _uid_text(meta, meta_tag)
        if not want and not have:
            if not validate:
                meta[meta_tag] = DataElement(meta_tag, VR.UI, raw=b"")
                fixed = True
                continue
            raise EncodeError(
                f"the data set has no {name} {_fmt(ds_tag)} for the File Meta Information", tag=meta_tag
            )
        if want and want != have:
            # the data set's UID as it is, even a malformed one (copied, not re-validated)
            raw = want.encode("latin-1")
            meta[meta_tag] = DataElement(meta_tag, VR.UI, raw=raw + b"\0" * (len(raw) % 2))
            fixed = True
    if _text(meta.get(TRANSFER_SYNTAX)) != ts.uid:
        meta[TRANSFER_SYNTAX] = DataElement(TRANSFER_SYNTAX, VR.UI, ts.uid)
        fixed = True
    keep_impl = unchanged and not fixed and IMPL_CLASS in meta._d
    if not keep_impl:
        meta[IMPL_CLASS] = DataElement(IMPL_CLASS, VR.UI, IMPLEMENTATION_CLASS_UID)
        meta[IMPL_VERSION] = DataElement(IMPL_VERSION, VR.SH, IMPLEMENTATION_VERSION_NAME)
    return meta


def _fmt(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
