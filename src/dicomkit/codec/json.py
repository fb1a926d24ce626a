"""The DICOM JSON Model (PS3.18 Annex F.2): data sets to and from JSON.

:func:`to_json_dict` / :func:`to_json` turn a :class:`~dicomkit.dataset.Dataset` into the
DICOM JSON Model; :func:`from_json_dict` / :func:`from_json` build a data set from it.

Encoding rules (PS3.18 F.2.2 - F.2.7, 2024 edition):

* Each attribute is keyed by its tag as eight uppercase hex digits, in ascending order;
  Group Length (gggg,0000) attributes are left out (F.2.2).
* ``{"vr": ..., "Value": [...]}`` with one JSON value per DICOM value (F.2.4): PN as an
  object with the non-empty component groups ``Alphabetic``/``Ideographic``/``Phonetic``,
  AT as eight hex digits, SQ as a list of item objects (empty items as ``{}``), IS, DS,
  SL, SS, SV, UL, US, UV, FL, FD as JSON numbers, everything else as strings.
* An empty attribute has no ``Value`` (F.2.5); an empty value inside a multi-valued
  attribute is ``null``. A sequence with no items is empty too and has no ``Value``.
* OB, OD, OF, OL, OV, OW and UN values are ``InlineBinary`` (base64 of the value bytes,
  F.2.7), or ``BulkDataURI`` (F.2.6) from the ``bulk_data_uri`` callback (see
  :func:`to_json_dict`). Encapsulated pixel data is the bytes of its items (as pydicom).
  The JSON model has no transfer syntax, so OW, OF, OL, OD and OV values read from a
  big-endian data set are written in little-endian order (PS3.5 7.3; F.2.7 applies the
  PS3.5 byte-ordering rules), as DCMTK's dcm2json does.

Choices where the standard leaves room:

* DS is written as a JSON number (the float value). Table F.2.3-1 allows a JSON String for
  IS, DS, SV and UV; dicomkit writes one (the original text) only for an IS or DS value that
  is not a valid number in PS3.5 6.2 terms: text the reader kept because it did not parse,
  and non-finite values such as ``NaN`` or ``inf`` (no DS may spell them, and JSON numbers
  cannot hold them).
* FL and FD values that are NaN or infinite cannot be JSON numbers and have no string
  alternative in Table F.2.3-1: :class:`~dicomkit.errors.EncodeError` naming the tag.
* :func:`from_json_dict` accepts JSON strings for IS, DS, SV and UV, numbers given as
  :class:`decimal.Decimal` (what :func:`from_json` parses them to, so a DS keeps its text),
  and applies the dictionary's multiplicity rule: a scalar when the VM is "1", a tuple
  otherwise (one value of an unknown/private tag is a scalar), exactly as the reader does.
  Like the reader it is tolerant by default (an IS/DS string that is not a number is kept
  as text, a missing "vr" comes from the dictionary, each with a DicomWarning);
  ``strict=True`` makes those a DecodeError.

How this differs from pydicom's ``Dataset.to_json_dict`` is listed, with the sections of
PS3.18 involved, in docs/conformance.md and checked by tests/interop/test_pydicom_diff.py.
"""

from __future__ import annotations

import array
import base64
import binascii
import json
import math
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from dicomkit import dictionary
from dicomkit.codec.values import DA, DT, TM, DecimalString, PersonName, decode_value
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.errors import DecodeError, DicomWarning, EncodeError
from dicomkit.tag import Tag
from dicomkit.vr import VR

__all__ = ["from_json", "from_json_dict", "to_json", "to_json_dict"]

#: VRs whose value is a base64 ``InlineBinary`` (PS3.18 F.2.7).
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
#: Other VRs that may be sent as a ``BulkDataURI`` (PS3.18 F.2.2 and F.2.6).
BULK_ELIGIBLE_VRS = frozenset(
    {"DS", "FL", "FD", "IS", "LT", "SL", "SS", "ST", "SV", "UC", "UL", "US", "UT", "UV"}
)
_WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_ARRAY_CODE = {2: "H", 4: "L" if array.array("L").itemsize == 4 else "I", 8: "Q"}
_INT_VRS = frozenset({"SL", "SS", "SV", "UL", "US", "UV"})
_FLOAT_VRS = frozenset({"FL", "FD"})
_PN_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")
_TEXT_TYPES: dict[str, Callable[[str], Any]] = {"DA": DA, "TM": TM, "DT": DT, "PN": PersonName}
_BIN_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "SV": 8, "UV": 8, "AT": 4}

BulkDataURI = Callable[[DataElement], str]
BulkDataLoader = Callable[[Tag, VR, str], bytes]


# ---------------------------------------------------------------------------------------
# Dataset -> JSON


def to_json_dict(
    ds: Dataset,
    *,
    bulk_data_threshold: int | None = None,
    bulk_data_uri: BulkDataURI | None = None,
) -> dict[str, Any]:
    """The DICOM JSON Model object of ``ds`` (PS3.18 F.2) as plain Python data.

    Without ``bulk_data_uri`` every binary value is ``InlineBinary``. With it, the callback
    gives the ``BulkDataURI`` of: every non-empty OB/OD/OF/OL/OV/OW/UN value when
    ``bulk_data_threshold`` is None, else those longer than ``bulk_data_threshold`` bytes, and
    also (only when a threshold is given) the values longer than it of the other VRs F.2.6
    allows (DS, FL, FD, IS, LT, SL, SS, ST, SV, UC, UL, US, UT, UV; e.g. LUT Data).

    Raises :class:`~dicomkit.errors.EncodeError` naming the tag for a value the model cannot
    hold (a non-finite FL/FD, a value of the wrong type for its VR).
    """
    out: dict[str, Any] = {}
    for elem in ds:
        tag = elem.tag
        if not tag & 0xFFFF:
            continue  # Group Length: never in the JSON model (F.2.2)
        out[f"{tag:08X}"] = _element_json(elem, bulk_data_threshold, bulk_data_uri)
    return out


def to_json(
    ds: Dataset,
    *,
    bulk_data_threshold: int | None = None,
    bulk_data_uri: BulkDataURI | None = None,
    indent: int | None = None,
) -> str:
    """The DICOM JSON Model of ``ds`` as JSON text (strict JSON: no NaN, UTF-8 safe)."""
    obj = to_json_dict(ds, bulk_data_threshold=bulk_data_threshold, bulk_data_uri=bulk_data_uri)
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=indent)


def _element_json(elem: DataElement, threshold: int | None, uri: BulkDataURI | None) -> dict[str, Any]:
    vr = str(elem.VR)
    out: dict[str, Any] = {"vr": vr}
    value = elem.value
    if vr == "SQ":
        if value:
            if not isinstance(value, list):
                raise EncodeError(
                    f"SQ value must be a sequence of data sets, not {type(value).__name__}",
                    tag=elem.tag,
                    vr=vr,
                )
            items = []
            for item in value:
                if not isinstance(item, Dataset):
                    raise EncodeError(
                        f"SQ item is a {type(item).__name__}, not a Dataset", tag=elem.tag, vr=vr
                    )
                items.append(to_json_dict(item, bulk_data_threshold=threshold, bulk_data_uri=uri))
            out["Value"] = items
        return out
    if vr in BINARY_VRS:
        if value is None or len(value) == 0:
            return out
        if not isinstance(value, bytes | bytearray | memoryview):
            raise EncodeError(f"value must be bytes, not {type(value).__name__}", tag=elem.tag, vr=vr)
        if uri is not None and (threshold is None or len(value) > threshold):
            out["BulkDataURI"] = uri(elem)
        else:
            out["InlineBinary"] = base64.b64encode(_little_endian(elem, vr, value)).decode("ascii")
        return out
    values = _as_list(value)
    if not values or (len(values) == 1 and _is_empty(values[0])):
        return out
    if (
        uri is not None
        and threshold is not None
        and vr in BULK_ELIGIBLE_VRS
        and _value_length(elem, values) > threshold
    ):
        out["BulkDataURI"] = uri(elem)
        return out
    convert: Callable[[Any], Any] = _TO_JSON.get(vr, _json_text)
    try:
        out["Value"] = [None if _is_empty(v) else convert(v) for v in values]
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(str(exc), tag=elem.tag, vr=vr) from None
    return out


def _little_endian(elem: DataElement, vr: str, value: bytes | bytearray | memoryview) -> bytes:
    """The value bytes in little-endian order: words of a value read from a big-endian data set
    are swapped (PS3.5 7.3; OB and UN are byte streams and never swapped)."""
    size = _WORD_SIZE.get(vr)
    source = elem._source  # the reader's decode context knows the byte order it read
    if size is None or source is None or getattr(source, "little", True):
        return bytes(value)
    whole = len(value) - len(value) % size
    words = array.array(_ARRAY_CODE[size], bytes(value[:whole]))
    words.byteswap()
    return words.tobytes() + bytes(value[whole:])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, tuple | list):
        return list(value)
    return [value]


def _is_empty(v: Any) -> bool:
    return v is None or v == ""


def _value_length(elem: DataElement, values: list[Any]) -> int:
    """The value length in bytes (as read, else estimated from the values)."""
    raw = elem.raw
    if raw is not None:
        return len(raw)
    size = _BIN_SIZE.get(str(elem.VR))
    if size is not None:
        return size * len(values)
    return len("\\".join("" if v is None else str(v) for v in values).encode("utf-8"))


def _json_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{v!r} is not an integer")
    return int(v)


def _json_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError(f"{v!r} is not a number")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{f!r} cannot be a JSON number (PS3.18 Table F.2.3-1 allows no string here)")
    return f


def _json_is(v: Any) -> int | str:
    if isinstance(v, str):
        return str(v)  # text the reader could not read as an integer: a JSON String (Table F.2.3-1)
    return _json_int(v)


def _json_ds(v: Any) -> float | str:
    if isinstance(v, str):
        return str(v)  # text the reader could not read as a decimal: a JSON String (Table F.2.3-1)
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise TypeError(f"{v!r} is not a number")
    f = float(v)
    if not math.isfinite(f):
        # "NaN"/"inf" are not decimal strings (PS3.5 6.2) and not JSON numbers: keep the text
        return v.original if isinstance(v, DecimalString) else str(v)
    return f


def _json_at(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
        raise TypeError(f"{v!r} is not a tag")
    return f"{v:08X}"


def _json_pn(v: Any) -> dict[str, str]:
    if not isinstance(v, str):
        raise TypeError(f"{v!r} is not a person name")
    groups = v.split("=")
    if len(groups) > 3:
        raise ValueError(f"person name {v!r} has more than three component groups")
    return {name: text for name, text in zip(_PN_GROUPS, groups, strict=False) if text}


def _json_text(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"{v!r} is not text")
    return str(v)


_TO_JSON: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(_INT_VRS, _json_int),
    **dict.fromkeys(_FLOAT_VRS, _json_float),
    "IS": _json_is,
    "DS": _json_ds,
    "AT": _json_at,
    "PN": _json_pn,
}


# ---------------------------------------------------------------------------------------
# JSON -> Dataset


def from_json(
    text: str | bytes, *, bulk_data_loader: BulkDataLoader | None = None, strict: bool = False
) -> Dataset:
    """A data set from DICOM JSON text. Numbers are parsed exactly, so a DS keeps its text."""
    try:
        obj = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise DecodeError(f"not JSON: {exc}") from None
    return from_json_dict(obj, bulk_data_loader=bulk_data_loader, strict=strict)


def from_json_dict(
    obj: Any, *, bulk_data_loader: BulkDataLoader | None = None, strict: bool = False
) -> Dataset:
    """A data set from a DICOM JSON Model object (PS3.18 F.2).

    Values are the decoded Python values the reader gives (``PersonName``, ``DecimalString``,
    ``Tag``, ``DA``/``TM``/``DT``, int, float, bytes, ``Sequence``), with the dictionary's
    multiplicity rule: a scalar when the VM is "1", else a tuple.

    ``bulk_data_loader(tag, vr, uri)`` returns the little-endian value bytes of a
    ``BulkDataURI``; without it a ``BulkDataURI`` raises :class:`~dicomkit.errors.DecodeError`.
    An IS or DS string that is not a number is kept as text with a
    :class:`~dicomkit.errors.DicomWarning`, as the reader does (``strict=True``:
    :class:`~dicomkit.errors.DecodeError`). Malformed input raises
    :class:`~dicomkit.errors.DecodeError` naming the tag.
    """
    if not isinstance(obj, dict):
        raise DecodeError(f"a DICOM JSON data set is an object, not {type(obj).__name__}")
    ds = Dataset()
    for key, attr in obj.items():
        if not isinstance(key, str) or len(key) != 8:
            raise DecodeError(f"attribute name {key!r} is not eight hex digits")
        try:
            tag = Tag(int(key, 16))
        except ValueError:
            raise DecodeError(f"attribute name {key!r} is not eight hex digits") from None
        ds[tag] = _element_from_json(tag, attr, bulk_data_loader, strict)
    return ds


def _element_from_json(tag: Tag, attr: Any, loader: BulkDataLoader | None, strict: bool) -> DataElement:
    if not isinstance(attr, dict):
        raise DecodeError(f"attribute is a {type(attr).__name__}, not an object", tag=tag)
    vr_text = attr.get("vr")
    if vr_text is None:  # "vr" is required (F.2.2): tolerated with the dictionary's VR
        if strict:
            raise DecodeError('attribute has no "vr"', tag=tag)
        vr_text = _dictionary_vr(tag)
        warnings.warn(
            f'attribute {tag} has no "vr"; {vr_text} from the dictionary', DicomWarning, stacklevel=4
        )
    try:
        vr = VR(vr_text)
    except ValueError:
        raise DecodeError(f"unknown VR {vr_text!r}", tag=tag) from None
    present = [k for k in ("Value", "InlineBinary", "BulkDataURI") if k in attr]
    if len(present) > 1:
        raise DecodeError(f"attribute has both {present[0]} and {present[1]}", tag=tag)
    # the reader's multiplicity rule: private tags have no dictionary VM (one value = scalar)
    vm = None if tag & 0x10000 else dictionary.vm_of(tag)
    scalar = None if vm is None else vm == "1"
    if not present:
        return DataElement(tag, vr, _empty_value(tag, vr, scalar))
    kind = present[0]
    if kind == "InlineBinary":
        data = attr["InlineBinary"]
        if not isinstance(data, str):
            raise DecodeError("InlineBinary is not a string", tag=tag)
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise DecodeError("InlineBinary is not valid base64", tag=tag) from None
        return _element_from_bytes(tag, vr, raw, scalar, strict)
    if kind == "BulkDataURI":
        uri = attr["BulkDataURI"]
        if not isinstance(uri, str):
            raise DecodeError("BulkDataURI is not a string", tag=tag)
        if loader is None:
            raise DecodeError(f"BulkDataURI {uri!r} given but no bulk_data_loader", tag=tag)
        return _element_from_bytes(tag, vr, loader(tag, vr, uri), scalar, strict)
    values = attr["Value"]
    if not isinstance(values, list):
        raise DecodeError("Value is not an array", tag=tag)
    if vr is VR.SQ:
        seq = Sequence()
        for item in values:
            seq.append(from_json_dict({} if item is None else item, bulk_data_loader=loader, strict=strict))
        return DataElement(tag, vr, seq)
    if vr.value in BINARY_VRS:
        raise DecodeError(f"{vr} values are InlineBinary or BulkDataURI, not Value (F.2.7)", tag=tag)
    if not values:
        return DataElement(tag, vr, _empty_value(tag, vr, scalar))
    if vr.value in _SINGLE_TEXT and len(values) > 1:
        raise DecodeError(f"{vr} has one value, not {len(values)}", tag=tag)
    convert: Callable[[Any], Any] = _FROM_JSON.get(vr.value, _py_text)
    out = []
    for v in values:
        if v is None:
            out.append(_py_empty(vr.value))
            continue
        try:
            out.append(convert(v))
        except _NotANumber as exc:
            if strict:
                raise DecodeError(str(exc), tag=tag) from None
            warnings.warn(f"{exc} at {tag}; kept as text", DicomWarning, stacklevel=4)
            out.append(v)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise DecodeError(f"{vr} value: {exc}", tag=tag) from None
    if len(out) == 1 and scalar is not False:
        return DataElement(tag, vr, out[0])
    return DataElement(tag, vr, tuple(out))


class _NotANumber(ValueError):
    """An IS or DS JSON String that is not a number: kept as text when tolerant."""


def _dictionary_vr(tag: int) -> str:
    vr = dictionary.vr_of(tag) or "UN"
    return vr.split(" or ")[0]


def _empty_value(tag: int, vr: VR, scalar: bool | None) -> Any:
    """The value the reader gives an element of zero length."""
    if vr is VR.SQ:
        return Sequence()
    return decode_value(tag, vr, b"", little=True, charset=None, scalar=scalar, strict=False)


def _element_from_bytes(tag: Tag, vr: VR, raw: bytes, scalar: bool | None, strict: bool) -> DataElement:
    if vr is VR.SQ:
        raise DecodeError("an SQ value cannot be binary", tag=tag)
    if vr.value not in BINARY_VRS:
        # bulk data of another VR (F.2.6) is its little-endian value field
        value = decode_value(tag, vr, raw, little=True, charset=None, scalar=scalar, strict=strict)
        return DataElement(tag, vr, value)
    return DataElement(tag, vr, raw)


def _py_empty(vr: str) -> Any:
    """A null in a multi-valued attribute (F.2.5): the reader's value for an empty value."""
    if vr in ("IS", "DS", "AT") or vr in _INT_VRS or vr in _FLOAT_VRS:
        return None
    conv = _TEXT_TYPES.get(vr)
    return conv("") if conv is not None else ""


def _py_int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError(f"{v!r} is not an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        return int(v.strip())  # SV and UV may be JSON Strings (Table F.2.3-1)
    raise TypeError(f"{v!r} is not an integer")


def _py_is(v: Any) -> int:
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            raise _NotANumber(f"IS value {v!r} is not an integer") from None
    return _py_int(v)


def _py_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise TypeError(f"{v!r} is not a number")
    return float(v)


def _py_ds(v: Any) -> DecimalString:
    if isinstance(v, bool):
        raise TypeError(f"{v!r} is not a number")
    if isinstance(v, str):
        text = v.strip()
        try:
            return DecimalString(text)  # the reader's rule: what float() accepts
        except ValueError:
            raise _NotANumber(f"DS value {v!r} is not a decimal number") from None
    if isinstance(v, Decimal | int):
        return DecimalString(str(v))
    if isinstance(v, float):
        return DecimalString(repr(v))
    raise TypeError(f"{v!r} is not a number")


def _py_at(v: Any) -> Tag:
    if not isinstance(v, str) or len(v) != 8:
        raise TypeError(f"{v!r} is not eight hex digits")
    return Tag(int(v, 16))


def _py_pn(v: Any) -> PersonName:
    if isinstance(v, str):
        return PersonName(v)  # tolerated: a name given as a plain string
    if not isinstance(v, dict):
        raise TypeError(f"{v!r} is not a person name object")
    unknown = set(v) - set(_PN_GROUPS)
    if unknown:
        raise ValueError(f"unknown person name component group {sorted(unknown)[0]!r}")
    groups = [v.get(name) or "" for name in _PN_GROUPS]
    if not all(isinstance(g, str) for g in groups):
        raise TypeError(f"{v!r} has a component group that is not a string")
    while groups and not groups[-1]:
        groups.pop()
    return PersonName("=".join(groups))


def _py_text(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"{v!r} is not a string")
    return v


def _typed_text(kind: Callable[[str], Any]) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        return kind(_py_text(v))

    return convert


_SINGLE_TEXT = frozenset({"LT", "ST", "UT", "UR"})
_FROM_JSON: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(_INT_VRS, _py_int),
    **dict.fromkeys(_FLOAT_VRS, _py_float),
    "IS": _py_is,
    "DS": _py_ds,
    "AT": _py_at,
    "PN": _py_pn,
    "DA": _typed_text(DA),
    "TM": _typed_text(TM),
    "DT": _typed_text(DT),
}
