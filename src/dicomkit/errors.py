"""The dicomkit exception tree and its one warning class.

Every error dicomkit raises derives from :class:`DicomError` and also from the builtin
exception a user would naturally catch::

    DicomError(Exception)
    ├── InvalidDicomError(DicomError, ValueError)      not DICOM / unusable file meta
    ├── DecodeError(DicomError, ValueError)            malformed bytes: .offset, .tag
    ├── EncodeError(DicomError, ValueError)            value not encodable for its VR: .tag, .vr
    ├── KeywordError(DicomError, KeyError)             unknown keyword or bad tag key
    ├── UnsupportedTransferSyntaxError(DicomError, NotImplementedError)
    ├── PixelDataError(DicomError, ValueError)
    ├── QueryError(DicomError, ValueError)
    ├── ArchiveError(DicomError)
    │   ├── NotFoundError(ArchiveError, LookupError)
    │   └── DuplicateInstanceError(ArchiveError)
    └── NetworkError(DicomError, ConnectionError)
        ├── AssociationRejectedError, AssociationAbortedError
        ├── ProtocolError
        └── NetworkTimeoutError(NetworkError, TimeoutError)

Tolerant reading reports each fix-up it makes with :class:`DicomWarning`; with
``strict=True`` the same condition raises :class:`DecodeError` instead.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "AssociationAbortedError",
    "AssociationRejectedError",
    "DecodeError",
    "DicomError",
    "DicomWarning",
    "DuplicateInstanceError",
    "EncodeError",
    "InvalidDicomError",
    "KeywordError",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "PixelDataError",
    "ProtocolError",
    "QueryError",
    "UnsupportedTransferSyntaxError",
]


def _fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class DicomError(Exception):
    """Base class of every dicomkit error."""


class DicomWarning(UserWarning):
    """A fix-up made while reading tolerantly (``strict=False``).

    ``tag`` and ``offset`` say where (when known); ``data_loss`` is True when bytes of the
    input are missing (a truncated file), as opposed to a problem that was repaired.
    """

    def __init__(
        self, message: str = "", *, tag: int | None = None, offset: int | None = None, data_loss: bool = False
    ) -> None:
        super().__init__(message)
        self.tag = tag
        self.offset = offset
        self.data_loss = data_loss


class _Located(DicomError):
    """An error that may name the tag and byte offset where it happened."""

    def __init__(self, message: str, *, tag: int | None = None, offset: int | None = None) -> None:
        self.reason = message
        self.tag = tag
        self.offset = offset
        where = []
        if tag is not None:
            where.append(f"tag {_fmt_tag(tag)}")
        if offset is not None:
            where.append(f"offset {offset}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class InvalidDicomError(_Located, ValueError):
    """The input is not DICOM, or its File Meta Information is unusable."""


class DecodeError(_Located, ValueError):
    """Malformed bytes: ``.tag`` and ``.offset`` say where."""


class EncodeError(DicomError, ValueError):
    """A value cannot be encoded for its VR or character set."""

    def __init__(self, message: str, *, tag: int | None = None, vr: str | None = None) -> None:
        self.reason = message
        self.tag = tag
        self.vr = vr
        prefix = _fmt_tag(tag) + " " if tag is not None else ""
        prefix += f"{vr}: " if vr else (": " if prefix else "")
        super().__init__(prefix + message)


class KeywordError(DicomError, KeyError):
    """An unknown keyword or an unusable tag key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnsupportedTransferSyntaxError(DicomError, NotImplementedError):
    """The transfer syntax (or a conversion to it) is not supported."""


class PixelDataError(DicomError, ValueError):
    """Pixel data or its describing attributes are missing or inconsistent."""


class QueryError(DicomError, ValueError):
    """A query key is unsupported or malformed."""


class ArchiveError(DicomError):
    """An archive operation failed."""


class NotFoundError(ArchiveError, LookupError):
    """The requested object is not in the archive."""


class DuplicateInstanceError(ArchiveError):
    """An instance with the same SOP Instance UID is already stored."""


class NetworkError(DicomError, ConnectionError):
    """A DICOM network operation failed."""


class AssociationRejectedError(NetworkError):
    """The peer rejected the association."""


class AssociationAbortedError(NetworkError):
    """The association was aborted."""


class ProtocolError(NetworkError):
    """The peer violated the DICOM Upper Layer or DIMSE protocol."""


class NetworkTimeoutError(NetworkError, TimeoutError):
    """A network operation timed out."""
