"""A compact Part 10 encoder for the command line's sample data and element lengths.

dicomkit has no writer yet (a later issue adds ``dicomkit.write``); ``dicomkit demo`` needs
one to emit its sample, and ``dicomkit dump`` needs the encoded length of a sequence or
item read with a defined length (the data model keeps the bytes of values, not of items).
This module does exactly that and nothing more:

* PS3.10 7.1: 128-byte preamble, ``DICM``, File Meta Information (group 0002, Explicit VR
  Little Endian) with a correct (0002,0000) group length, then the data set;
* PS3.5 7.1: Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR Big Endian;
  elements in ascending tag order, every value padded to an even length with the VR's
  padding byte (PS3.5 6.2); sequences and items of defined or undefined length (7.5);
* text in the default repertoire, ISO_IR 100 (Latin-1) or ISO_IR 192 (UTF-8) -- the
  sample needs no more; other character sets raise :class:`EncodeError`.

Values that still hold the bytes they were read with (``DataElement.raw``) are re-emitted
unchanged; only values made in memory are encoded.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

from dicomkit.dataset import DataElement, Dataset
from dicomkit.errors import EncodeError
from dicomkit.tag import Tag
from dicomkit.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, transfer_syntax
from dicomkit.vr import BINARY_NUMBER_FORMATS, BYTES_VRS, CHARSET_VRS, LONG_HEADER_VRS

__all__ = ["encode_dataset", "encode_file", "item_length", "value_length", "write_atomic"]

UNDEFINED = 0xFFFFFFFF
_ITEM = (0xFFFE, 0xE000)
_ITEM_DELIMITER = (0xFFFE, 0xE00D)
_SEQUENCE_DELIMITER = (0xFFFE, 0xE0DD)
_CHARSET_TAG = 0x00080005

#: Python codecs for the Specific Character Set values this encoder supports.
_CODECS = {"": "ascii", "ISO_IR 6": "ascii", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}
#: Bytes per swapped unit of the binary VRs, for Big Endian (PS3.5 7.3).
_SWAP_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


class _Encoder:
    """Encodes data sets in one transfer syntax's byte order and VR rule."""

    def __init__(self, *, little: bool, implicit: bool) -> None:
        self.little = little
        self.implicit = implicit
        self.order = "<" if little else ">"

    def dataset(self, ds: Dataset, codec: str) -> bytes:
        if _CHARSET_TAG in ds:
            codec = _codec_of(ds[_CHARSET_TAG])
        return b"".join(self.element(elem, codec) for elem in ds)

    def element(self, elem: DataElement, codec: str) -> bytes:
        vr = elem.stored_vr or str(elem.VR)
        if str(elem.VR) == "SQ":
            value = self.sequence(elem.value or (), codec, undefined=elem.undefined_length)
            if elem.undefined_length:
                return self.header(elem.tag, vr, UNDEFINED) + value
            return self.header(elem.tag, vr, len(value)) + value
        raw = elem.raw
        value = raw if raw is not None else self.value(elem, codec)
        if elem.undefined_length and vr in BYTES_VRS:
            # encapsulated pixel data: the items as held, then the sequence delimiter
            return self.header(elem.tag, vr, UNDEFINED) + value + self.tag_header(*_SEQUENCE_DELIMITER, 0)
        return self.header(elem.tag, vr, len(value)) + value

    def sequence(self, items: Any, codec: str, *, undefined: bool) -> bytes:
        out = []
        for item in items:
            body = self.dataset(item, codec)
            if undefined:
                out += [self.tag_header(*_ITEM, UNDEFINED), body, self.tag_header(*_ITEM_DELIMITER, 0)]
            else:
                out += [self.tag_header(*_ITEM, len(body)), body]
        if undefined:
            out.append(self.tag_header(*_SEQUENCE_DELIMITER, 0))
        return b"".join(out)

    def tag_header(self, group: int, element: int, length: int) -> bytes:
        return struct.pack(self.order + "HHL", group, element, length)

    def header(self, tag: int, vr: str, length: int) -> bytes:
        group, element = tag >> 16, tag & 0xFFFF
        if self.implicit and group != 0x0002:
            return self.tag_header(group, element, length)
        if vr in LONG_HEADER_VRS:
            return struct.pack(self.order + "HH2sHL", group, element, vr.encode(), 0, length)
        if length > 0xFFFF:
            raise EncodeError(f"value of {length} bytes is too long for a 16-bit length", tag=tag, vr=vr)
        return struct.pack(self.order + "HH2sH", group, element, vr.encode(), length)

    def value(self, elem: DataElement, codec: str) -> bytes:
        """The value bytes of an element made in memory, padded to an even length."""
        vr = str(elem.VR)
        v = elem.value
        if v is None:
            return b""
        if vr in BYTES_VRS:
            data = bytes(v)
            size = _SWAP_SIZE.get(vr)
            if not self.little and size:  # held little endian; Big Endian swaps each unit
                data = b"".join(data[i : i + size][::-1] for i in range(0, len(data) - size + 1, size))
            return data + b"\x00" * (len(data) & 1)
        values = v if isinstance(v, tuple) else (v,)
        fmt = BINARY_NUMBER_FORMATS.get(vr)
        if vr in CHARSET_VRS and not codec:
            raise EncodeError(
                "the Specific Character Set is not supported by this encoder", tag=elem.tag, vr=vr
            )
        try:
            if fmt is not None:
                return struct.pack(f"{self.order}{len(values)}{fmt}", *values)
            if vr == "AT":
                return b"".join(struct.pack(self.order + "HH", t >> 16, t & 0xFFFF) for t in map(Tag, values))
            text = "\\".join(_text(x) for x in values)
            data = text.encode(codec if vr in CHARSET_VRS else "ascii")
        except (struct.error, UnicodeEncodeError, TypeError, ValueError) as exc:
            raise EncodeError(f"cannot encode {v!r}: {exc}", tag=elem.tag, vr=vr) from None
        if len(data) & 1:
            data += b"\x00" if vr == "UI" else b" "
        return data


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)  # a DecimalString gives back its original text


def _codec_of(elem: DataElement) -> str:
    """The Python codec for a Specific Character Set element, or "" when not supported
    (an error only if text must be encoded: values read from a file keep their bytes)."""
    value = elem.value
    terms = value if isinstance(value, tuple) else (value or "",)
    codec = _CODECS.get(str(terms[0]).strip()) if len(terms) == 1 else None
    return codec or ""


def encode_dataset(ds: Dataset, *, little: bool = True, implicit: bool = False) -> bytes:
    """The bytes of a bare data set in the given encoding."""
    return _Encoder(little=little, implicit=implicit).dataset(ds, "ascii")


def value_length(elem: DataElement, *, implicit: bool) -> int:
    """The value length of ``elem`` as encoded (for a sequence: all its items)."""
    enc = _Encoder(little=True, implicit=implicit)
    if str(elem.VR) == "SQ":
        return len(enc.sequence(elem.value or (), "utf-8", undefined=elem.undefined_length))
    raw = elem.raw
    return len(raw) if raw is not None else len(enc.value(elem, "utf-8"))


def item_length(item: Dataset, *, implicit: bool) -> int:
    """The length of an item's content as encoded."""
    return len(_Encoder(little=True, implicit=implicit).dataset(item, "utf-8"))


def encode_file(ds: Dataset, transfer_syntax_uid: str, *, source_ae: str = "DICOMKIT") -> bytes:
    """A PS3.10 file: preamble, ``DICM``, File Meta Information, then ``ds``.

    The meta group is built from ``ds``'s SOP Class and SOP Instance UIDs.
    """
    ts = transfer_syntax(transfer_syntax_uid)
    if ts is None or ts.deflated or ts.encapsulated:
        raise EncodeError(f"transfer syntax {transfer_syntax_uid} is not supported by this encoder")
    meta = Dataset(
        [
            DataElement(0x00020001, "OB", b"\x00\x01"),
            DataElement(0x00020002, "UI", ds.get(0x00080016)),
            DataElement(0x00020003, "UI", ds.get(0x00080018)),
            DataElement(0x00020010, "UI", ts.uid),
            DataElement(0x00020012, "UI", IMPLEMENTATION_CLASS_UID),
            DataElement(0x00020013, "SH", IMPLEMENTATION_VERSION_NAME),
            DataElement(0x00020016, "AE", source_ae),
        ]
    )
    meta_enc = _Encoder(little=True, implicit=False)
    body = meta_enc.dataset(meta, "ascii")
    group_length = meta_enc.element(DataElement(0x00020000, "UL", len(body)), "ascii")
    data = _Encoder(little=ts.little_endian, implicit=ts.implicit_vr).dataset(ds, "ascii")
    return b"\x00" * 128 + b"DICM" + group_length + body + data


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
