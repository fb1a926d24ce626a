"""Unique identifiers (PS3.5 chapter 9) and the transfer syntax descriptors (PS3.5 chapter 10).

``UID`` is a ``str`` that knows its registered name (from the generated PS3.6 Annex A
table) and whether it is a valid UID (PS3.5 9.1: at most 64 characters, components of
digits separated by dots, no leading zero in a multi-digit component).
``TransferSyntax`` describes how a data set is encoded; ``transfer_syntax(uid)`` finds it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

__all__ = [
    "DICOMKIT_ROOT",
    "IMPLEMENTATION_CLASS_UID",
    "IMPLEMENTATION_VERSION_NAME",
    "UID",
    "TransferSyntax",
    "generate_uid",
    "is_valid_uid",
    "transfer_syntax",
]

_VALID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\Z")

#: dicomkit's UID root: a UUID-derived root under 2.25 (PS3.5 B.2), fixed for this project.
DICOMKIT_ROOT = "2.25.224447069452342436463911357405405287489."
IMPLEMENTATION_CLASS_UID = DICOMKIT_ROOT + "1"
IMPLEMENTATION_VERSION_NAME = "DICOMKIT_010"


def is_valid_uid(value: str) -> bool:
    """PS3.5 9.1: 1..64 characters, digits and dots, no empty or leading-zero component."""
    return 0 < len(value) <= 64 and _VALID.match(value) is not None


class UID(str):
    """A UID string with its registry information."""

    __slots__ = ()

    @property
    def name(self) -> str:
        from dicomkit.dictionary import uid_info

        info = uid_info(self)
        return info.name if info else str(self)

    @property
    def keyword(self) -> str:
        from dicomkit.dictionary import uid_info

        info = uid_info(self)
        return info.keyword if info else ""

    @property
    def is_valid(self) -> bool:
        return is_valid_uid(self)

    @property
    def is_transfer_syntax(self) -> bool:
        return str(self) in _TRANSFER_SYNTAXES

    def __repr__(self) -> str:
        return f"UID({str(self)!r})"


def generate_uid(prefix: str | None = DICOMKIT_ROOT) -> UID:
    """A new UID: ``prefix`` + digits from a random UUID, or ``2.25.<uuid>`` with ``prefix=None``."""
    u = uuid.uuid4().int
    if prefix is None:
        return UID(f"2.25.{u}")
    if not prefix.endswith(".") or not is_valid_uid(prefix[:-1]):
        raise ValueError(f"UID prefix must be a valid UID followed by '.', got {prefix!r}")
    room = 64 - len(prefix)
    if room < 1:
        raise ValueError(f"UID prefix {prefix!r} leaves no room")
    return UID(prefix + str(u)[:room].lstrip("0") or "1")


@dataclass(frozen=True, slots=True)
class TransferSyntax:
    """How a data set is encoded (PS3.5 chapter 10). Name and retirement come from the
    PS3.6 registry; ``fallback_name`` only names syntaxes newer than the registry tables."""

    uid: str
    fallback_name: str
    implicit_vr: bool = False
    little_endian: bool = True
    deflated: bool = False
    encapsulated: bool = False

    @property
    def name(self) -> str:
        from dicomkit.dictionary import uid_info

        info = uid_info(self.uid)
        return info.name if info else self.fallback_name

    @property
    def retired(self) -> bool:
        from dicomkit.dictionary import uid_info

        info = uid_info(self.uid)
        return bool(info and info.retired)

    @property
    def is_native(self) -> bool:
        return not self.encapsulated


def _ts(uid: str, name: str, **kw: bool) -> TransferSyntax:
    return TransferSyntax(uid, name, **kw)


_E = {"encapsulated": True}
_TRANSFER_SYNTAXES: dict[str, TransferSyntax] = {
    ts.uid: ts
    for ts in (
        _ts("1.2.840.10008.1.2", "Implicit VR Little Endian", implicit_vr=True),
        _ts("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
        _ts("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", **_E),
        _ts("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", deflated=True),
        _ts("1.2.840.10008.1.2.2", "Explicit VR Big Endian", little_endian=False),
        _ts("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", **_E),
        _ts("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", **_E),
        _ts("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", **_E),
        _ts(
            "1.2.840.10008.1.2.4.70",
            "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
            **_E,
        ),
        _ts("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", **_E),
        _ts("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", **_E),
        _ts("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", **_E),
        _ts("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", **_E),
        _ts(
            "1.2.840.10008.1.2.4.92",
            "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
            **_E,
        ),
        _ts("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression", **_E),
        _ts("1.2.840.10008.1.2.4.94", "JPIP Referenced", **_E),
        _ts("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", deflated=True, **_E),
        _ts("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level", **_E),
        _ts("1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile / Main Level", **_E),
        _ts("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level", **_E),
        _ts("1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile / High Level", **_E),
        _ts("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", **_E),
        _ts("1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1", **_E),
        _ts("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", **_E),
        _ts(
            "1.2.840.10008.1.2.4.103.1",
            "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
            **_E,
        ),
        _ts("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile For 2D Video", **_E),
        _ts("1.2.840.10008.1.2.4.104.1", "Fragmentable MPEG-4 AVC/H.264 High Profile For 2D Video", **_E),
        _ts("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile For 3D Video", **_E),
        _ts("1.2.840.10008.1.2.4.105.1", "Fragmentable MPEG-4 AVC/H.264 High Profile For 3D Video", **_E),
        _ts("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile", **_E),
        _ts("1.2.840.10008.1.2.4.106.1", "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile", **_E),
        _ts("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", **_E),
        _ts("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", **_E),
        _ts("1.2.840.10008.1.2.4.110", "JPEG XL Lossless", **_E),
        _ts("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression", **_E),
        _ts("1.2.840.10008.1.2.4.112", "JPEG XL", **_E),
        _ts("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)", **_E),
        _ts(
            "1.2.840.10008.1.2.4.202",
            "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
            **_E,
        ),
        _ts("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", **_E),
        _ts("1.2.840.10008.1.2.4.204", "JPIP HTJ2K Referenced", **_E),
        _ts("1.2.840.10008.1.2.4.205", "JPIP HTJ2K Referenced Deflate", deflated=True, **_E),
        _ts("1.2.840.10008.1.2.5", "RLE Lossless", **_E),
        _ts("1.2.840.10008.1.2.6.1", "RFC 2557 MIME encapsulation", **_E),
        _ts("1.2.840.10008.1.2.6.2", "XML Encoding", **_E),
        _ts("1.2.840.10008.1.2.7.1", "SMPTE ST 2110-20 Uncompressed Progressive Active Video", **_E),
        _ts("1.2.840.10008.1.2.7.2", "SMPTE ST 2110-20 Uncompressed Interlaced Active Video", **_E),
        _ts("1.2.840.10008.1.2.7.3", "SMPTE ST 2110-30 PCM Digital Audio", **_E),
        _ts("1.2.840.10008.1.20", "Papyrus 3 Implicit VR Little Endian", implicit_vr=True),
    )
}

IMPLICIT_VR_LITTLE_ENDIAN = _TRANSFER_SYNTAXES["1.2.840.10008.1.2"]
EXPLICIT_VR_LITTLE_ENDIAN = _TRANSFER_SYNTAXES["1.2.840.10008.1.2.1"]
EXPLICIT_VR_BIG_ENDIAN = _TRANSFER_SYNTAXES["1.2.840.10008.1.2.2"]
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = _TRANSFER_SYNTAXES["1.2.840.10008.1.2.1.99"]


def transfer_syntax(uid: str) -> TransferSyntax | None:
    """The descriptor of a known transfer syntax UID (trailing NUL/space ignored), else None."""
    return _TRANSFER_SYNTAXES.get(uid.rstrip("\x00 "))
