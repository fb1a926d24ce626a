"""Decoding of element values to Python values, per VR (PS3.5 section 6.2), and the
inverse, :func:`encode_value` (padding, multi-values, repertoire and length checks).

Owns the value types that are more than a builtin: ``PersonName`` (PS3.5 6.2.1),
``DecimalString`` (a float that keeps its text), and the date/time strings ``DA``,
``TM`` and ``DT`` with conversions to :mod:`datetime` (PS3.5 6.2, Table 6.2-1).

Multiplicity is type-stable: when the dictionary VM of a tag is "1" the value is a
scalar (``None``/``""`` when empty); otherwise a tuple (``()`` when empty).
"""

from __future__ import annotations

import datetime as _dt
import re
import struct
import warnings
from collections.abc import Callable
from typing import Any

from dicomkit.codec.charset import DEFAULT_CHARSET, Charset
from dicomkit.errors import DecodeError, DicomWarning, EncodeError
from dicomkit.tag import Tag
from dicomkit.uid import UID

__all__ = [
    "DA",
    "DT",
    "TM",
    "DecimalString",
    "PersonName",
    "decode_value",
    "encode_value",
]

_tag_new = int.__new__


class PersonName(str):
    """A PN value (PS3.5 6.2.1): up to three component groups separated by ``=``
    (alphabetic, ideographic, phonetic), each of five ``^``-separated components."""

    __slots__ = ()

    def _group(self, i: int) -> str:
        groups = self.split("=")
        return groups[i] if i < len(groups) else ""

    @property
    def alphabetic(self) -> str:
        return self._group(0)

    @property
    def ideographic(self) -> str:
        return self._group(1)

    @property
    def phonetic(self) -> str:
        return self._group(2)

    @property
    def components(self) -> tuple[str, ...]:
        """The component groups present, trailing empty groups dropped."""
        groups = self.split("=")
        while groups and not groups[-1]:
            groups.pop()
        return tuple(groups)

    def _component(self, i: int) -> str:
        parts = self.alphabetic.split("^")
        return parts[i] if i < len(parts) else ""

    @property
    def family_name(self) -> str:
        return self._component(0)

    @property
    def given_name(self) -> str:
        return self._component(1)

    @property
    def middle_name(self) -> str:
        return self._component(2)

    @property
    def name_prefix(self) -> str:
        return self._component(3)

    @property
    def name_suffix(self) -> str:
        return self._component(4)


class DecimalString(float):
    """A DS value: a float that remembers the text it was read from (``.original``)."""

    __slots__ = ("original",)
    original: str

    def __new__(cls, text: str) -> DecimalString:
        self = float.__new__(cls, text)
        self.original = text
        return self

    def __repr__(self) -> str:
        return f"DecimalString({self.original!r})"

    def __str__(self) -> str:
        return self.original


_DA_RE = re.compile(r"(\d{4})(\d{2})(\d{2})\Z")
_TM_RE = re.compile(r"(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?\Z")
_DT_RE = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?([+-]\d{4})?\Z"
)


class DA(str):
    """A DA value, kept verbatim (``YYYYMMDD``); ``.to_date()`` converts it."""

    __slots__ = ()

    def to_date(self) -> _dt.date:
        m = _DA_RE.match(self.strip())
        if not m:
            # the ACR-NEMA form YYYY.MM.DD is retired but still found in files
            m = re.match(r"(\d{4})\.(\d{2})\.(\d{2})\Z", self.strip())
        if not m:
            raise ValueError(f"{str(self)!r} is not a DICOM date (YYYYMMDD)")
        return _dt.date(int(m[1]), int(m[2]), int(m[3]))


class TM(str):
    """A TM value, kept verbatim (``HHMMSS.FFFFFF``, trailing parts optional)."""

    __slots__ = ()

    def to_time(self) -> _dt.time:
        text = self.strip()
        m = _TM_RE.match(text)
        if not m:
            m = re.match(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\Z", text)  # retired ACR-NEMA form
        if not m:
            raise ValueError(f"{str(self)!r} is not a DICOM time (HHMMSS.FFFFFF)")
        frac = m[4] or ""
        second = int(m[3] or 0)
        return _dt.time(int(m[1]), int(m[2] or 0), min(second, 59), int(frac.ljust(6, "0")) if frac else 0)


class DT(str):
    """A DT value, kept verbatim (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``, trailing parts optional)."""

    __slots__ = ()

    def to_datetime(self) -> _dt.datetime:
        m = _DT_RE.match(self.strip())
        if not m:
            raise ValueError(f"{str(self)!r} is not a DICOM date time")
        frac = m[7] or ""
        tz = None
        if m[8]:
            sign = -1 if m[8][0] == "-" else 1
            off = _dt.timedelta(hours=int(m[8][1:3]), minutes=int(m[8][3:5]))
            tz = _dt.timezone(sign * off)
        return _dt.datetime(
            int(m[1]),
            int(m[2] or 1),
            int(m[3] or 1),
            int(m[4] or 0),
            int(m[5] or 0),
            min(int(m[6] or 0), 59),
            int(frac.ljust(6, "0")) if frac else 0,
            tzinfo=tz,
        )


# --------------------------------------------------------------------------------------
# decoding


class _Problem(Exception):
    """Internal: a value that cannot be decoded as its VR says."""


def _text_values(raw: bytes, vr: str, charset: Charset | None) -> str:
    """Raw bytes to str: ASCII fast path, else the data set's character set."""
    if 0x1B not in raw:  # ESC starts an ISO 2022 escape sequence: 7-bit, but not ASCII text
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            pass
    if charset is not None and vr in _CHARSET_VRS:
        return charset.decode(raw, vr)
    if charset is not None:
        # Non-ASCII bytes in a VR that uses the default repertoire only: decode with the
        # data set's character set anyway (tolerant), as real files need.
        return charset.decode(raw, "LO")
    return raw.decode("latin-1")


_CHARSET_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})


def _conv_is(s: str) -> int:
    try:
        return int(s)
    except ValueError:
        f = float(s)  # "1.0" is found in real files; an integral float is accepted
        if not f.is_integer():
            raise _Problem(f"IS value {s!r} is not an integer") from None
        return int(f)


def _conv_ds(s: str) -> DecimalString:
    try:
        return DecimalString(s)
    except ValueError:
        raise _Problem(f"DS value {s!r} is not a decimal number") from None


_Decoder = Callable[[int, str, bytes, bool, "Charset | None", "bool | None", bool], Any]


def _dec_bytes(
    tag: int, vr: str, raw: bytes, little: bool, cs: Charset | None, scalar: bool | None, strict: bool
) -> Any:
    return raw


def _make_number(fmt: str, size: int) -> _Decoder:
    le_one = struct.Struct("<" + fmt).unpack
    be_one = struct.Struct(">" + fmt).unpack

    def dec(
        tag: int, vr: str, raw: bytes, little: bool, cs: Charset | None, scalar: bool | None, strict: bool
    ) -> Any:
        n = len(raw)
        if n == size and scalar is not False:
            return (le_one if little else be_one)(raw)[0]
        count, rem = divmod(n, size)
        if rem:
            msg = f"{vr} value length {n} is not a multiple of {size}"
            if strict:
                raise DecodeError(msg, tag=tag)
            warnings.warn(f"{msg} at {Tag(tag)}; trailing bytes ignored", DicomWarning, stacklevel=5)
            raw = raw[: count * size]
        if count == 0:
            return None if scalar or scalar is None else ()
        vals = struct.unpack(("<" if little else ">") + str(count) + fmt, raw)
        if count == 1 and scalar is not False:
            return vals[0]
        return vals

    return dec


def _dec_at(
    tag: int, vr: str, raw: bytes, little: bool, cs: Charset | None, scalar: bool | None, strict: bool
) -> Any:
    n = len(raw) // 4
    if len(raw) % 4:
        msg = f"AT value length {len(raw)} is not a multiple of 4"
        if strict:
            raise DecodeError(msg, tag=tag)
        warnings.warn(f"{msg} at {Tag(tag)}; trailing bytes ignored", DicomWarning, stacklevel=5)
    hw = struct.unpack(("<" if little else ">") + str(n * 2) + "H", raw[: n * 4])
    tags = tuple(_tag_new(Tag, hw[i] << 16 | hw[i + 1]) for i in range(0, 2 * n, 2))
    if n == 1 and scalar is not False:
        return tags[0]
    if n == 0:
        return None if scalar or scalar is None else ()
    return tags


def _dec_single(
    tag: int, vr: str, raw: bytes, little: bool, cs: Charset | None, scalar: bool | None, strict: bool
) -> Any:
    """LT, ST, UT, UR: one value, backslash is an ordinary character."""
    return _text_values(raw, vr, cs).rstrip(" \x00")


def _make_text(strip_both: bool, conv: Callable[[str], Any] | None, empty: Any) -> _Decoder:
    """A decoder for a backslash-separated text VR with its padding rule and converter."""

    def dec(
        tag: int, vr: str, raw: bytes, little: bool, cs: Charset | None, scalar: bool | None, strict: bool
    ) -> Any:
        if 0x1B in raw:  # ISO 2022 code extension (PS3.5 6.1.2.5): decode with the charset
            text = _text_values(raw, vr, cs)
        else:
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                text = _text_values(raw, vr, cs)
        if "\\" not in text:
            v = text.strip(" \x00") if strip_both else text.rstrip(" \x00")
            if not v:
                return () if scalar is False else empty
            if conv is not None:
                v = _convert(tag, vr, conv, v, strict)
            return (v,) if scalar is False else v
        parts = [p.strip(" \x00") if strip_both else p.rstrip(" \x00") for p in text.split("\\")]
        if conv is None:
            return tuple(parts)
        return tuple(_convert(tag, vr, conv, p, strict) if p else empty for p in parts)

    return dec


_DECODERS: dict[str, _Decoder] = {
    **dict.fromkeys(("OB", "OD", "OF", "OL", "OV", "OW", "UN"), _dec_bytes),
    **{vr: _make_number(fmt, struct.calcsize("<" + fmt)) for vr, fmt in
       {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "SV": "q", "UV": "Q"}.items()},
    "AT": _dec_at,
    **dict.fromkeys(("LT", "ST", "UT", "UR"), _dec_single),
    **dict.fromkeys(("AE", "CS", "LO", "SH"), _make_text(True, None, "")),
    "UC": _make_text(False, None, ""),
    "UI": _make_text(False, UID, ""),
    "AS": _make_text(False, None, ""),
    "PN": _make_text(False, PersonName, PersonName("")),
    "DA": _make_text(False, DA, DA("")),
    "TM": _make_text(False, TM, TM("")),
    "DT": _make_text(False, DT, DT("")),
    "IS": _make_text(True, _conv_is, None),
    "DS": _make_text(True, _conv_ds, None),
}  # fmt: skip


def decode_value(
    tag: int,
    vr: str,
    raw: bytes,
    little: bool,
    charset: Charset | None,
    scalar: bool | None,
    strict: bool,
) -> Any:
    """Decode the value bytes ``raw`` of one element.

    ``scalar`` is True when the dictionary VM is "1", False when it allows more values,
    None when unknown (private tags: scalar if one value). Empty values are ``""`` for
    text (``None`` for IS/DS and numbers), ``()`` when the VM allows several values.
    Undecodable values are kept as text with a :class:`DicomWarning` (tolerant) or raise
    :class:`DecodeError` (strict).
    """
    dec = _DECODERS.get(vr)
    if dec is None:
        return raw
    return dec(tag, vr, raw, little, charset, scalar, strict)


def _convert(tag: int, vr: str, conv: Callable[[str], Any], s: str, strict: bool) -> Any:
    try:
        return conv(s)
    except (_Problem, ValueError) as exc:
        msg = str(exc) if isinstance(exc, _Problem) else f"{vr} value {s!r} is invalid"
        if strict:
            raise DecodeError(msg, tag=tag) from None
        warnings.warn(f"{msg} at {Tag(tag)}; kept as text", DicomWarning, stacklevel=5)
        return s


# --------------------------------------------------------------------------------------
# encoding (the inverse of decoding; PS3.5 6.2, 7.1.1)
#
# ``encode_value(tag, vr, value, little=..., charset=...)`` returns the value bytes of one
# element, padded to even length (space for text, NUL for UI and binary). One encoder per
# VR in ``_ENCODERS``; each gets ``(tag, vr, value, little, charset)`` with ``value`` not
# empty and returns the *unpadded* bytes. Problems raise ``_Bad`` (message only); the
# public function adds tag and VR.

_MAX_32 = 0xFFFFFFFE  # the largest even defined length (0xFFFFFFFF means undefined)


class _Bad(Exception):
    """Internal: a value that cannot be encoded; the message says why."""


_Encoder = Callable[[int, str, Any, bool, "Charset | None"], bytes]


def _values(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _join_checked(vr: str, items: tuple[str, ...]) -> str:
    if len(items) == 1:
        return items[0]
    for s in items:
        if "\\" in s:
            raise _Bad(f"value {s!r} contains a backslash, the value delimiter of multi-valued {vr}")
    return "\\".join(items)


def _as_text(vr: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    raise _Bad(f"{vr} needs str values, not {type(v).__name__}")


# -- default-repertoire VRs (PS3.5 6.1.2.3, Table 6.2-1) ---------------------------------

_DIG2 = r"(?:[01]\d|2[0-3])"
_MIN = r"[0-5]\d"
_SEC = r"(?:[0-5]\d|60)"
_DATE = r"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_TIME = rf"{_DIG2}(?:{_MIN}(?:{_SEC}(?:\.\d{{1,6}})?)?)?"
_DTIME = (
    r"\d{4}(?:(?:0[1-9]|1[0-2])(?:(?:0[1-9]|[12]\d|3[01])"
    rf"(?:{_DIG2}(?:{_MIN}(?:{_SEC}(?:\.\d{{1,6}})?)?)?)?)?)?(?:[+-](?:0\d|1[0-4])[0-5]\d)?"
)


def _range_re(one: str) -> re.Pattern[str]:
    """A value, or a range ``a-b`` / ``a-`` / ``-b`` as used in queries (PS3.4 C.2.2.2.5)."""
    return re.compile(rf"(?:{one}|(?:{one})?-(?:{one})?)(?<!^-) *\Z", re.ASCII)


_TEXT_RULES: dict[str, tuple[re.Pattern[str], int, str]] = {
    # VR: (pattern of one value, maximum length of one value, what is allowed)
    "AE": (re.compile(r"(?! *\Z)[ -\[\]-~]*\Z"), 16, "printable ASCII except backslash, not only spaces"),
    "AS": (re.compile(r"[0-9]{3}[DWMY]\Z"), 4, "nnnD, nnnW, nnnM or nnnY"),
    # CS also admits the query wildcards * and ? (PS3.4 C.2.2.2.4) for C-FIND identifiers
    "CS": (re.compile(r"[A-Z0-9 _*?]*\Z"), 16, "uppercase letters, digits, space and underscore"),
    "DA": (_range_re(_DATE), 18, "YYYYMMDD (or a range YYYYMMDD-YYYYMMDD)"),
    "TM": (_range_re(_TIME), 28, "HH[MM[SS[.F{1,6}]]] (or a range)"),
    "DT": (_range_re(_DTIME), 54, "YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX] (or a range)"),
    "UI": (re.compile(r"[0-9.]+\Z"), 64, "digits and dots"),
    "UR": (re.compile(r"[!-~]+ *\Z"), _MAX_32, "printable ASCII without spaces (trailing ones aside)"),
}
_RANGE_LIMITS = {"DA": 8, "TM": 14, "DT": 26}


def _check_text(vr: str, s: str) -> str:
    pattern, limit, allowed = _TEXT_RULES[vr]
    if not pattern.match(s):
        raise _Bad(f"{s!r} is not a valid {vr} value: {allowed}")
    if len(s) > limit or (vr in _RANGE_LIMITS and "-" not in s.strip() and len(s) > _RANGE_LIMITS[vr]):
        raise _Bad(f"{s!r} is longer than the {vr} maximum of {_RANGE_LIMITS.get(vr, limit)} characters")
    return s


def _enc_rule_text(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """AE, AS, CS, UI, UR: str values checked against the VR's pattern and length."""
    if isinstance(value, str):
        if vr == "UR" or "\\" not in value:
            return _check_text(vr, value).encode("ascii")
        raise _Bad(f"value {value!r} contains a backslash; pass several values as a tuple")
    if vr == "UR" or not isinstance(value, tuple | list):
        raise _Bad(f"{vr} needs str values, not {type(value).__name__}")
    items = tuple(_check_text(vr, _as_text(vr, v)) if v is not None and v != "" else "" for v in value)
    return _join_checked(vr, items).encode("ascii")


def _fmt_date(v: _dt.date) -> str:
    return f"{v.year:04d}{v.month:02d}{v.day:02d}"


def _fmt_time(v: _dt.time) -> str:
    if v.tzinfo is not None and v.utcoffset() is not None:
        raise _Bad(f"TM has no time zone; {v!r} has one")
    s = f"{v.hour:02d}{v.minute:02d}{v.second:02d}"
    return s + f".{v.microsecond:06d}" if v.microsecond else s


def _fmt_datetime(v: _dt.datetime) -> str:
    s = _fmt_date(v) + f"{v.hour:02d}{v.minute:02d}{v.second:02d}"
    if v.microsecond:
        s += f".{v.microsecond:06d}"
    off = v.utcoffset()
    if off is not None:
        minutes = int(off.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        h, m = divmod(abs(minutes), 60)
        s += f"{sign}{h:02d}{m:02d}"
    return s


def _date_text(vr: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return _check_text(vr, v) if v else v
    if vr == "DA" and isinstance(v, _dt.date):  # a datetime is a date: its date part
        return _fmt_date(v)
    if vr == "TM":
        if isinstance(v, _dt.datetime):
            return _fmt_time(v.time())
        if isinstance(v, _dt.time):
            return _fmt_time(v)
    if vr == "DT":
        if isinstance(v, _dt.datetime):
            return _check_text(vr, _fmt_datetime(v))
        if isinstance(v, _dt.date):
            return _fmt_date(v)
    raise _Bad(f"{vr} needs str or datetime values, not {type(v).__name__}")


def _enc_date(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """DA, TM, DT: str (checked) or datetime.date / time / datetime."""
    if isinstance(value, tuple | list):
        return _join_checked(vr, tuple(_date_text(vr, v) for v in value)).encode("ascii")
    return _date_text(vr, value).encode("ascii")


# -- IS and DS ------------------------------------------------------------------------------

_IS_RE = re.compile(r" *[+-]?\d+ *\Z", re.ASCII)
_DS_RE = re.compile(r" *[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)? *\Z", re.ASCII)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _is_text(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, str):
        if not _IS_RE.match(v):
            raise _Bad(f"{v!r} is not an integer string")
        if len(v) > 12:
            raise _Bad(f"{v!r} is longer than the IS maximum of 12 characters")
        n = int(v)
    elif isinstance(v, bool):
        raise _Bad("IS needs int values, not bool")
    elif isinstance(v, float):
        if not v.is_integer():
            raise _Bad(f"{v!r} is not an integer")
        n = int(v)
        v = str(n)
    else:
        try:
            n = int(v.__index__())
        except (AttributeError, TypeError):
            raise _Bad(f"IS needs int values, not {type(v).__name__}") from None
        v = str(n)
    if not _INT_MIN <= n <= _INT_MAX:
        raise _Bad(f"{n} is outside the IS range -2**31..2**31-1")
    return v  # type: ignore[no-any-return]


def _format_ds(x: float) -> str:
    """``x`` as a DS string of at most 16 characters: the shortest round-trip ``repr`` when
    it fits, else rounded to the most significant digits that fit (PS3.5 6.2, Table 6.2-1)."""
    if x != x or x in (float("inf"), float("-inf")):
        raise _Bad(f"{x!r} cannot be a DS value (not finite)")
    s = repr(float(x))
    if len(s) <= 16:
        return s
    for p in range(16, 0, -1):
        s = f"{x:.{p}g}"
        if len(s) <= 16 and abs(float(s)) != float("inf"):  # rounding up may overflow
            return s
    raise _Bad(f"{x!r} cannot be written in 16 characters")  # pragma: no cover


def _ds_text(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, DecimalString):
        orig = v.original
        if len(orig) <= 16 and _DS_RE.match(orig):
            return orig
        return _format_ds(float(v))
    if isinstance(v, str):
        if not _DS_RE.match(v):
            raise _Bad(f"{v!r} is not a decimal string")
        if len(v) > 16:
            raise _Bad(f"{v!r} is longer than the DS maximum of 16 characters")
        return v
    if isinstance(v, bool):
        raise _Bad("DS needs numbers, not bool")
    if isinstance(v, float):
        return _format_ds(v)
    if isinstance(v, int):
        s = str(v)
        return s if len(s) <= 16 else _format_ds(float(v))
    try:
        f = float(v)  # Decimal, Fraction, numpy floats
    except (TypeError, ValueError):
        raise _Bad(f"DS needs numbers, not {type(v).__name__}") from None
    s = str(v)
    return s if len(s) <= 16 and _DS_RE.match(s) else _format_ds(f)


def _enc_is(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    if isinstance(value, tuple | list):
        return "\\".join([_is_text(v) for v in value]).encode("ascii")
    return _is_text(value).encode("ascii")


def _enc_ds(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    if isinstance(value, tuple | list):
        return "\\".join([_ds_text(v) for v in value]).encode("ascii")
    return _ds_text(value).encode("ascii")


# -- charset VRs: SH LO UC PN (multi-valued), ST LT UT (single) ------------------------------

_CTRL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")  # control characters other than ESC
_CTRL_LONG = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")  # LT ST UT: TAB LF FF CR allowed
_CHARSET_LIMITS = {"SH": 16, "LO": 64, "UC": _MAX_32, "ST": 1024, "LT": 10240, "UT": _MAX_32}


def _charset_bytes(vr: str, text: str, cs: Charset | None) -> bytes:
    if text.isascii():  # ASCII is itself in every DICOM character set
        return text.encode("ascii")
    return (cs or DEFAULT_CHARSET).encode(text, vr)


def _check_line(vr: str, s: str) -> str:
    if _CTRL.search(s):
        raise _Bad(f"control character {_CTRL.search(s)[0]!r} in {s!r}")  # type: ignore[index]
    if len(s) > _CHARSET_LIMITS[vr]:
        raise _Bad(f"{len(s)} characters is more than the {vr} maximum of {_CHARSET_LIMITS[vr]}")
    return s


def _enc_line(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """SH, LO, UC: backslash-separated values through the character set."""
    if isinstance(value, str):
        if "\\" in value:
            raise _Bad(f"value {value!r} contains a backslash; pass several values as a tuple")
        return _charset_bytes(vr, _check_line(vr, value), cs)
    if not isinstance(value, tuple | list):
        raise _Bad(f"{vr} needs str values, not {type(value).__name__}")
    items = tuple(_check_line(vr, _as_text(vr, v)) for v in value)
    return _charset_bytes(vr, _join_checked(vr, items), cs)


def _enc_long_text(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """ST, LT, UT: one value; backslash is an ordinary character."""
    if isinstance(value, tuple | list):
        if len(value) != 1:
            raise _Bad(f"{vr} holds one value, not {len(value)}")
        value = value[0]
    s = _as_text(vr, value)
    bad = _CTRL_LONG.search(s)
    if bad:
        raise _Bad(f"control character {bad[0]!r} is not allowed in {vr}")
    if len(s) > _CHARSET_LIMITS[vr]:
        raise _Bad(f"{len(s)} characters is more than the {vr} maximum of {_CHARSET_LIMITS[vr]}")
    return _charset_bytes(vr, s, cs)


_PN_KEYS = (("alphabetic", "Alphabetic"), ("ideographic", "Ideographic"), ("phonetic", "Phonetic"))


def _pn_text(v: Any) -> str:
    """One PN value: str / PersonName, a dict of component groups (``alphabetic`` etc., or the
    DICOM JSON ``Alphabetic`` keys) or, inside a multi-value, a tuple of component groups."""
    if v is None:
        return ""
    if isinstance(v, str):
        s = v
    elif isinstance(v, dict):
        unknown = set(v) - {k for pair in _PN_KEYS for k in pair}
        if unknown:
            raise _Bad(f"unknown PN component group keys {sorted(unknown)}")
        groups = [str(v.get(a, v.get(b, "")) or "") for a, b in _PN_KEYS]
        s = "=".join(groups).rstrip("=")
    elif isinstance(v, tuple | list) and all(isinstance(g, str) for g in v):
        s = "=".join(v).rstrip("=")
    else:
        raise _Bad(f"PN needs str or PersonName values, not {type(v).__name__}")
    groups = s.split("=")
    if len(groups) > 3:
        raise _Bad(f"{s!r} has {len(groups)} component groups; at most 3")
    for g in groups:
        if g.count("^") > 4:
            raise _Bad(f"component group {g!r} has more than 5 components")
        if len(g) > 64:
            raise _Bad(f"component group {g!r} is longer than 64 characters")
    if _CTRL.search(s):
        raise _Bad(f"control character in {s!r}")
    return s


def _enc_pn(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    if isinstance(value, str):
        if "\\" in value:
            raise _Bad(f"value {value!r} contains a backslash; pass several values as a tuple")
        return _charset_bytes(vr, _pn_text(value), cs)
    if isinstance(value, dict):
        return _charset_bytes(vr, _pn_text(value), cs)
    if not isinstance(value, tuple | list):
        raise _Bad(f"PN needs str or PersonName values, not {type(value).__name__}")
    return _charset_bytes(vr, _join_checked(vr, tuple(_pn_text(v) for v in value)), cs)


# -- binary VRs --------------------------------------------------------------------------------

_INT_RANGES = {
    "US": (0, 0xFFFF),
    "SS": (-0x8000, 0x7FFF),
    "UL": (0, 0xFFFFFFFF),
    "SL": (-(2**31), 2**31 - 1),
    "SV": (-(2**63), 2**63 - 1),
    "UV": (0, 2**64 - 1),
}


def _make_number_encoder(vr: str, fmt: str) -> _Encoder:
    le_one = struct.Struct("<" + fmt).pack
    be_one = struct.Struct(">" + fmt).pack
    is_float = fmt in "fd"

    def explain(values: tuple[Any, ...]) -> _Bad:
        for v in values:
            if isinstance(v, bool | str | bytes) or not hasattr(v, "__float__" if is_float else "__index__"):
                kind = "numbers" if is_float else "int values"
                return _Bad(f"{vr} needs {kind}, not {type(v).__name__} ({v!r})")
            if not is_float:
                lo, hi = _INT_RANGES[vr]
                if not lo <= int(v) <= hi:
                    return _Bad(f"{int(v)} is outside the {vr} range {lo}..{hi}")
            elif vr == "FL" and abs(float(v)) != float("inf") and abs(float(v)) > 3.4028234663852886e38:
                return _Bad(f"{v!r} is outside the FL (float32) range")
        return _Bad(f"cannot encode {values!r} as {vr}")

    def enc(tag: int, vr_: str, value: Any, little: bool, cs: Charset | None) -> bytes:
        if isinstance(value, tuple | list):
            values = tuple(value)
            try:
                if any(type(v) is bool for v in values):
                    raise struct.error
                return struct.pack(("<" if little else ">") + str(len(values)) + fmt, *values)
            except (struct.error, TypeError, OverflowError):
                raise explain(values) from None
        try:
            if type(value) is bool or (not is_float and isinstance(value, float)):
                raise struct.error
            return (le_one if little else be_one)(value)
        except (struct.error, TypeError, OverflowError):
            raise explain((value,)) from None

    return enc


def _enc_at(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """AT: a Tag / int / (group, element), or a tuple/list of them.

    A tuple of exactly two plain ints that are both <= 0xFFFF is one (group, element) pair;
    pass ``Tag`` objects to mean several tags unambiguously."""
    if isinstance(value, tuple | list):
        if len(value) == 2 and all(type(v) is int and 0 <= v <= 0xFFFF for v in value):
            items: list[Any] = [value[0] << 16 | value[1]]
        else:
            items = list(value)
    else:
        items = [value]
    halves: list[int] = []
    for v in items:
        if isinstance(v, tuple | list) and len(v) == 2:
            g, e = v
            if not (type(g) is int and type(e) is int and 0 <= g <= 0xFFFF and 0 <= e <= 0xFFFF):
                raise _Bad(f"{v!r} is not a (group, element) pair")
            halves += (g, e)
            continue
        if isinstance(v, str):
            try:
                v = Tag(v)
            except Exception:
                raise _Bad(f"{v!r} is not a tag") from None
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
            raise _Bad(f"{v!r} is not a tag (an int 0..0xFFFFFFFF, Tag or (group, element))")
        halves += (v >> 16, v & 0xFFFF)
    return struct.pack(("<" if little else ">") + str(len(halves)) + "H", *halves)


_UNITS = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_UNIT_FORMATS = {"OB": "B", "UN": "B", "OW": "H", "OF": "f", "OL": "L", "OD": "d", "OV": "Q"}


def _enc_bytes(tag: int, vr: str, value: Any, little: bool, cs: Charset | None) -> bytes:
    """OB OW OF OD OL OV UN: bytes-like values (already in the target byte order), or a
    tuple/list of numbers packed as the VR's unit in the requested byte order."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, tuple | list):
        fmt = _UNIT_FORMATS[vr]
        try:
            data = struct.pack(("<" if little else ">") + str(len(value)) + fmt, *value)
        except (struct.error, TypeError, OverflowError):
            raise _Bad(f"cannot pack {len(value)} values as {vr} units ({fmt!r})") from None
    elif isinstance(value, str):
        raise _Bad(f"{vr} needs bytes, not str")
    else:
        try:
            data = memoryview(value).cast("B").tobytes()
        except TypeError:
            raise _Bad(f"{vr} needs bytes, not {type(value).__name__}") from None
    unit = _UNITS[vr]
    if unit > 1 and len(data) % unit:
        raise _Bad(f"{vr} value length {len(data)} is not a multiple of {unit}")
    return data


_ENCODERS: dict[str, _Encoder] = {
    **dict.fromkeys(("OB", "OD", "OF", "OL", "OV", "OW", "UN"), _enc_bytes),
    **{vr: _make_number_encoder(vr, fmt) for vr, fmt in
       {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "SV": "q", "UV": "Q"}.items()},
    "AT": _enc_at,
    **dict.fromkeys(("AE", "AS", "CS", "UI", "UR"), _enc_rule_text),
    **dict.fromkeys(("DA", "TM", "DT"), _enc_date),
    "IS": _enc_is,
    "DS": _enc_ds,
    **dict.fromkeys(("SH", "LO", "UC"), _enc_line),
    **dict.fromkeys(("ST", "LT", "UT"), _enc_long_text),
    "PN": _enc_pn,
}  # fmt: skip

_SPACE_PADDED = frozenset(
    ("AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT")
)


def encode_value(
    tag: int, vr: str, value: Any, *, little: bool, charset: Charset | None, validate: bool = True
) -> bytes:
    """Encode one element value to its bytes, padded to even length (PS3.5 6.2, 7.1.1).

    The inverse of :func:`decode_value`. Accepted values per VR:

    * text VRs: ``str``, or a tuple/list of ``str`` for several values (joined with
      backslash; a backslash inside one value is an error except in LT, ST, UT, UR);
      SH LO ST LT UC UT PN go through ``charset`` (the default repertoire when None);
      AE AS CS DA DS DT IS TM UI UR are checked against their VR's characters and length;
    * PN: ``str``/``PersonName``, a dict of component groups or a tuple of groups inside a
      multi-value; DA/TM/DT: also ``datetime.date``/``time``/``datetime``;
    * DS: float/int/``DecimalString`` (its ``.original`` text is kept while valid)/str;
      IS: int/str (-2**31..2**31-1, 12 characters);
    * US SS UL SL SV UV FL FD: numbers (range-checked), packed in the byte order ``little``;
    * AT: ``Tag``/int/(group, element), or several; also packed in ``little`` order;
    * OB OW OF OD OL OV UN: bytes-like, **already in the target byte order** (copied as
      is; OW/OF/OL/OD/OV lengths must be a multiple of the unit), or a tuple of numbers
      packed in ``little`` order.

    Empty values (None, "", (), b"") give b"". SQ is not a value: the writer encodes items.
    Raises :class:`EncodeError` with ``.tag`` and ``.vr`` for a value that cannot be encoded.

    ``validate=False`` writes text values that fail their VR's checks (a malformed date or
    UID, a value too long, a stray character -- test data, or values kept from a faulty
    file) verbatim: each value's ``str()`` joined with backslashes, through ``charset``
    where it can encode them (else UTF-8), padded to even length. Binary VRs are always
    checked (there is no "verbatim" for a number that does not fit).
    """
    if not validate and vr in _TEXT_VRS:
        try:
            return encode_value(tag, vr, value, little=little, charset=charset)
        except EncodeError:
            return _verbatim_text(vr, value, charset)
    if value is None or (isinstance(value, str | bytes | tuple | list | bytearray) and not value):
        return b""
    enc = _ENCODERS.get(vr)
    if enc is None:
        msg = "SQ values are encoded by the writer, item by item" if vr == "SQ" else f"unknown VR {vr!r}"
        raise EncodeError(msg, tag=tag, vr=vr)
    try:
        data = enc(tag, vr, value, little, charset)
    except _Bad as exc:
        raise EncodeError(str(exc), tag=tag, vr=vr) from None
    except EncodeError as exc:  # from the character set: add the tag
        raise EncodeError(exc.reason, tag=tag, vr=vr) from None
    except UnicodeEncodeError as exc:  # pragma: no cover - the checks above admit ASCII only
        raise EncodeError(
            f"character {exc.object[exc.start]!r} is not allowed in {vr}", tag=tag, vr=vr
        ) from None
    n = len(data)
    if n & 1:
        if n >= _MAX_32:
            raise EncodeError(f"value of {n} bytes is too long", tag=tag, vr=vr)
        return data + (b" " if vr in _SPACE_PADDED else b"\x00")
    if n > _MAX_32:
        raise EncodeError(f"value of {n} bytes is too long", tag=tag, vr=vr)
    return data


_TEXT_VRS = _SPACE_PADDED | {"UI"}


def _verbatim_text(vr: str, value: Any, charset: Charset | None) -> bytes:
    """A text value as given, unchecked (``encode_value(..., validate=False)``)."""
    values = value if isinstance(value, tuple | list) else (value,)
    text = "\\".join("" if v is None else str(v) for v in values)
    try:
        data = _charset_bytes(vr, text, charset)
    except (EncodeError, _Bad, UnicodeError):
        data = text.encode("utf-8", "surrogateescape")
    if len(data) & 1:
        data += b" " if vr in _SPACE_PADDED else b"\x00"
    return data
