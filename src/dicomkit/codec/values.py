"""Decoding of element values to Python values, per VR (PS3.5 section 6.2).

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

from dicomkit.codec.charset import Charset
from dicomkit.errors import DecodeError, DicomWarning
from dicomkit.tag import Tag
from dicomkit.uid import UID

__all__ = [
    "DA",
    "DT",
    "TM",
    "DecimalString",
    "PersonName",
    "decode_value",
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
