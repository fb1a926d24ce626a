"""``dicomkit dump``: the data elements of DICOM files, in the manner of DCMTK's dcmdump.

One line per element::

    (0010,0010) PN [Müller^Jürgen]                          #  14, 1 PatientName

tag, VR, value (text in ``[brackets]``, numbers plain, binary as hex bytes or words, all
values of a multi-valued element separated by ``\\``), then ``# length, VM keyword``.
Items of a sequence are indented under ``(FFFE,E000) na (Item with … length #=n)`` lines,
with item and sequence delimitation lines where the lengths are undefined; encapsulated
pixel data shows its fragments. Values longer than the width are cut with ``...``.

Lengths: the value length in the file; for a sequence or item of defined length, the
length it encodes to (the data model keeps the bytes of values, not of items). Items read
from a file are shown with the length form they had (``Sequence.has_undefined_length``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from dicomkit.cli import Output, Segments, describe_error
from dicomkit.codec.reader import read
from dicomkit.codec.writer import encoded_length
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.dictionary import uid_info
from dicomkit.errors import DicomWarning, EncodeError
from dicomkit.tag import Tag
from dicomkit.uid import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, transfer_syntax

__all__ = ["DumpOptions", "DumpResult", "dump_file", "fragments", "render", "render_file", "run"]

VALUE_COLUMN = 40
_NO_VALUE = "(no value available)"
_BINARY_UNIT = {"OB": 1, "UN": 1, "OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}
_INTEGER_VRS = frozenset({"US", "SS", "UL", "SL", "SV", "UV"})
_ITEM_TAG = Tag(0xFFFEE000)
_ITEM_DELIMITER_TAG = Tag(0xFFFEE00D)
_SEQUENCE_DELIMITER_TAG = Tag(0xFFFEE0DD)

# styles (used only when colour is on)
_S_TAG = "cyan"
_S_VR = "magenta"
_S_TEXT = "green"
_S_NUMBER = "yellow"
_S_BINARY = "blue"
_S_MARK = "bold"
_S_COMMENT = "dim"
_S_HEADER = "bold dim"


@dataclass(frozen=True, slots=True)
class DumpOptions:
    """How values are shown: ``width`` (None = in full) and the data set's encoding."""

    width: int | None = 80
    little: bool = True
    implicit: bool = False


# ---------------------------------------------------------------------------------------
# rendering


def render(ds: Dataset, opts: DumpOptions, lines: list[Segments], depth: int = 0) -> None:
    """Append the lines of every element of ``ds`` (and of its items) to ``lines``."""
    for elem in ds:
        _element(elem, opts, lines, depth)


def _keyword(elem: DataElement) -> str:
    keyword = elem.keyword
    if keyword:
        return keyword
    return "PrivateTag" if elem.tag.is_private else "UnknownTag"


def _line(
    depth: int, tag: Tag, vr: str, value: str, style: str, length: int | str, vm: int, name: str
) -> Segments:
    pad = " " * max(VALUE_COLUMN - len(value), 0)
    return [
        ("  " * depth, ""),
        (str(tag), _S_TAG),
        (" ", ""),
        (vr, _S_VR),
        (" ", ""),
        (value, style),
        (pad + " ", ""),
        (f"# {length:>3},{vm:>2} {name}", _S_COMMENT),
    ]


def _element(elem: DataElement, opts: DumpOptions, lines: list[Segments], depth: int) -> None:
    vr = str(elem.VR)
    name = _keyword(elem)
    if vr == "SQ":
        _sequence(elem, opts, lines, depth, name)
        return
    raw = elem.raw
    if elem.undefined_length and vr in _BINARY_UNIT and raw is not None:
        _encapsulated(elem, raw, opts, lines, depth, name)
        return
    value, style = _value(elem, vr, opts)
    length = len(raw) if raw is not None else _encoded_length(elem, opts)
    lines.append(_line(depth, elem.tag, vr, value, style, length, elem.VM, name))


def _sequence(elem: DataElement, opts: DumpOptions, lines: list[Segments], depth: int, name: str) -> None:
    items = elem.value or ()
    undefined = elem.undefined_length
    kind = "undefined" if undefined else "explicit"
    length: int | str = "u/l" if undefined else _encoded_length(elem, opts)
    lines.append(
        _line(
            depth, elem.tag, "SQ", f"(Sequence with {kind} length #={len(items)})", _S_MARK, length, 1, name
        )
    )
    from_file = elem._source is not None and isinstance(elem.value, Sequence)
    for item in items:
        # items read from a file keep their own length form; in-memory ones follow the sequence
        item_undefined = elem.value.has_undefined_length(item) if from_file else undefined
        ikind = "undefined" if item_undefined else "explicit"
        ilen: int | str = "u/l" if item_undefined else _encoded_length(item, opts)
        marker = f"(Item with {ikind} length #={len(item)})"
        lines.append(_line(depth + 1, _ITEM_TAG, "na", marker, _S_MARK, ilen, 1, "Item"))
        render(item, opts, lines, depth + 2)
        if item_undefined:
            lines.append(_delimiter(depth + 1, _ITEM_DELIMITER_TAG, "ItemDelimitationItem"))
    if undefined:
        lines.append(_delimiter(depth, _SEQUENCE_DELIMITER_TAG, "SequenceDelimitationItem"))


def _delimiter(depth: int, tag: Tag, name: str) -> Segments:
    return _line(depth, tag, "na", f"({name})", _S_MARK, 0, 0, name)


def _encoded_length(obj: DataElement | Dataset, opts: DumpOptions) -> int | str:
    """The encoded length of a sequence, item or in-memory value ("?" if it cannot be encoded)."""
    ts = IMPLICIT_VR_LITTLE_ENDIAN if opts.implicit else EXPLICIT_VR_LITTLE_ENDIAN
    try:
        return encoded_length(obj, ts)
    except EncodeError:
        return "?"


def fragments(raw: bytes) -> list[bytes]:
    """The items of encapsulated pixel data (PS3.5 A.4), always Little Endian."""
    out = []
    pos = 0
    while pos + 8 <= len(raw):
        group, element, length = struct.unpack_from("<HHL", raw, pos)
        if (group, element) != (0xFFFE, 0xE000):
            break
        out.append(raw[pos + 8 : pos + 8 + length])
        pos += 8 + length
    return out


def _encapsulated(
    elem: DataElement, raw: bytes, opts: DumpOptions, lines: list[Segments], depth: int, name: str
) -> None:
    frags = fragments(raw)
    lines.append(
        _line(depth, elem.tag, str(elem.VR), f"(PixelSequence #={len(frags)})", _S_MARK, "u/l", 1, name)
    )
    for frag in frags:
        text = _binary(frag, "OB", True, opts.width) if frag else _NO_VALUE
        lines.append(_line(depth + 1, _ITEM_TAG, "pi", text, _S_BINARY, len(frag), 1, "Item"))
    lines.append(_delimiter(depth, _SEQUENCE_DELIMITER_TAG, "SequenceDelimitationItem"))


def _value(elem: DataElement, vr: str, opts: DumpOptions) -> tuple[str, str]:
    """The shown value of a non-sequence element and its style."""
    value = elem.value
    if vr in _BINARY_UNIT:
        data = value if isinstance(value, bytes | bytearray | memoryview) else elem.raw
        if not data:
            return _NO_VALUE, _S_COMMENT
        return _binary(bytes(data), vr, opts.little, opts.width), _S_BINARY
    if value is None or (isinstance(value, str | tuple) and len(value) == 0):
        return _NO_VALUE, _S_COMMENT
    values = value if isinstance(value, tuple) else (value,)
    if vr in _INTEGER_VRS:
        text, style = "\\".join(str(v) for v in values), _S_NUMBER
    elif vr == "FL":
        text, style = "\\".join(_float32(v) for v in values), _S_NUMBER
    elif vr == "FD":
        text, style = "\\".join(_float64(v) for v in values), _S_NUMBER
    elif vr == "AT":
        text, style = "\\".join(str(Tag(v)) for v in values), _S_NUMBER
    else:
        text, style = "[" + "\\".join(_escape("" if v is None else str(v)) for v in values) + "]", _S_TEXT
    return _cut(text, opts.width), style


def _cut(text: str, width: int | None) -> str:
    if width is not None and len(text) > width:
        return text[: width - 3] + "..."
    return text


def _escape(text: str) -> str:
    """Control characters (CR, LF, ... in LT/ST/UT) as escapes, so one element is one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _CONTROL.get(c) or _code_point(c) for c in text)


def _code_point(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _float32(v: Any) -> str:
    """The shortest text that reads back as the same 32-bit float."""
    f = float(v)
    if not math.isfinite(f):
        return repr(f)
    packed = struct.pack("<f", f)
    for digits in range(1, 10):
        text = f"{f:.{digits}g}"
        try:
            if struct.pack("<f", float(text)) == packed:
                return text
        except (OverflowError, struct.error):  # rounded past the largest float32
            continue
    return repr(f)


def _float64(v: Any) -> str:
    """The shortest text that reads back as the same double, without a trailing ".0"."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _binary(data: bytes, vr: str, little: bool, width: int | None) -> str:
    """Binary values as hex units (bytes for OB/UN, words for OW, …) or floats for OF/OD."""
    unit = _BINARY_UNIT[vr]
    count = len(data) // unit or (1 if data else 0)
    if width is not None:
        count = min(count, width // (2 * unit + 1) + 1)
    order: Literal["little", "big"] = "little" if little else "big"
    parts: list[str] = []
    if vr in ("OF", "OD"):
        fmt = ("<" if little else ">") + ("f" if vr == "OF" else "d")
        for i in range(min(count, len(data) // unit)):
            (f,) = struct.unpack_from(fmt, data, i * unit)
            parts.append(_float32(f) if vr == "OF" else _float64(f))
    else:
        for i in range(count):
            chunk = data[i * unit : (i + 1) * unit]
            parts.append(int.from_bytes(chunk, order).to_bytes(len(chunk), "big").hex())
    text = "\\".join(parts)
    if width is not None and (len(text) > width or count * unit < len(data) // unit * unit):
        return text[: width - 3] + "..."
    return text


# ---------------------------------------------------------------------------------------
# files


def _ts_name(uid: str | None) -> str:
    if not uid:
        return "unknown (no Transfer Syntax UID)"
    ts = transfer_syntax(uid)
    if ts is not None:
        return ts.name
    info = uid_info(uid)
    return info.name if info is not None else f"unknown ({uid})"


def _header(text: str) -> Segments:
    return [(text, _S_HEADER)]


def render_file(ds: Dataset, path: str, width: int | None, lines: list[Segments]) -> None:
    """The whole dump of one file: its name, the File Meta Information, then the data set."""
    lines.append(_header(f"# File: {path}"))
    meta = ds.meta
    ts_uid: str | None = None
    if meta is not None:
        uid = meta.get(0x00020010)
        ts_uid = str(uid) if uid else None
        lines.append(_header("# Dicom-Meta-Information-Header"))
        lines.append(_header("# Used TransferSyntax: Explicit VR Little Endian"))
        render(meta, DumpOptions(width, True, False), lines)
        lines.append([])
    ts = transfer_syntax(ts_uid) if ts_uid else None
    lines.append(_header("# Dicom-Data-Set"))
    if meta is None:
        lines.append(_header("# Used TransferSyntax: none given (no File Meta Information)"))
    else:
        lines.append(_header(f"# Used TransferSyntax: {_ts_name(ts_uid)}"))
    little = ts.little_endian if ts is not None else True
    implicit = ts.implicit_vr if ts is not None else False
    render(ds, DumpOptions(width, little, implicit), lines)


@dataclass
class DumpResult:
    """What dumping one file gave: the lines or the JSON text, an error, the warnings."""

    lines: list[Segments]
    json_text: str | None
    error: str | None
    warnings: list[str]


def dump_file(
    path: str,
    *,
    json_mode: bool = False,
    width: int | None = 80,
    stop_before_pixels: bool = False,
    strict: bool = False,
    charset: tuple[str, ...] | None = None,
    debug: bool = False,
) -> DumpResult:
    """Read and render one file; never raises for a bad file (the error is in the result)."""
    lines: list[Segments] = []
    json_text: str | None = None
    error: str | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(path)
            source: Any = sys.stdin.buffer if path == "-" else path
            ds = read(source, stop_before_pixels=stop_before_pixels, strict=strict, charset=charset)
            if json_mode:
                from dicomkit.codec.json import to_json_dict

                obj = to_json_dict(ds)
                json_text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            else:
                render_file(ds, path, width, lines)
        except IsADirectoryError:
            error = "is a directory (use 'dicomkit tree' for folders)"
        except Exception as exc:  # DicomError, OSError; anything else is a bug, still one line
            if debug:
                raise
            error = describe_error(exc, path)
    messages = [str(w.message) for w in caught]
    if error is None:
        loss = next(
            (w.message for w in caught if isinstance(w.message, DicomWarning) and w.message.data_loss), None
        )
        if loss is not None:
            error = f"truncated or damaged: {loss}"
            json_text = None
    if error is not None:
        messages = []  # one line per bad file: the other fix-ups follow from the same damage
    return DumpResult(lines, json_text, error, messages)


def run(args: argparse.Namespace, out: Output) -> int:
    charset = tuple(args.charset.split("\\")) if args.charset else None
    width = None if args.all else args.width
    status = 0
    first = True
    for path in args.files:
        result = dump_file(
            path,
            json_mode=args.json,
            width=width,
            stop_before_pixels=args.stop_before_pixels,
            strict=args.strict,
            charset=charset,
            debug=args.debug,
        )
        if result.json_text is not None:
            out.text(result.json_text)
        elif result.lines:
            if not first:
                out.text()
            first = False
            for segments in result.lines:
                out.line(segments)
        out.stdout.flush()
        for message in result.warnings:
            out.warning(path, message)
        if result.error is not None:
            out.error(path, result.error)
            status = 1
    return status
