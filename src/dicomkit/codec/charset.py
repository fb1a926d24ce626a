"""Specific Character Set (0008,0005): decoding and encoding of charset-sensitive text.

This module owns everything that depends on the value of Specific Character Set
(PS3.3 C.12.1.1.2) and on the character repertoire rules of PS3.5 section 6.1:

* reading the Defined Terms into an immutable :class:`Charset`, repairing misspelt or
  misplaced terms tolerantly (one :class:`~dicomkit.errors.DicomWarning` per repaired term,
  :class:`~dicomkit.errors.DecodeError` naming tag (0008,0005) with ``strict=True``);
* :meth:`Charset.decode`: the raw bytes of one element value of a charset-sensitive VR (SH,
  LO, ST, LT, UC, UT, PN; PS3.5 6.1.2.3) to ``str``, following ISO/IEC 2022 code extension
  (PS3.5 6.1.2.5): escape sequences designate sets to G0/G1, and the sets of value 1 become
  active again at every delimiter (PS3.5 6.1.2.5.3): ``^`` and ``=`` in PN, ``\\`` in
  multi-valued VRs and any control character other than ESC (CR, LF, FF, TAB, ...);
* :meth:`Charset.encode`: the inverse, with the minimal escape sequences, returning to the
  value-1 G0 set before every delimiter and at the end of the value.

It does not split values, strip padding or parse person names: the value layer does that on
the *decoded* ``str``, never on raw bytes (a 0x5C byte can be half of a GBK, GB18030 or
Shift_JIS character, and 0x5E half of a JIS X 0208 one).

Repairs made when reading tolerantly (``strict=False``); with ``strict=True`` each one
raises :class:`~dicomkit.errors.DecodeError` instead:

* Undecodable bytes become U+FFFD REPLACEMENT CHARACTER, never backslash escapes (a
  backslash would create a spurious value delimiter). One ``decode`` call emits at most one
  DicomWarning, naming the first problem and its byte offset in the value.
* Bytes >= 0x80 where no G1 set is designated (no (0008,0005) at all, value 1 empty or
  ISO 2022 IR 6) are read with the first G1 set that (0008,0005) declares, else with
  ISO-IR 100 (latin-1), which is what such files almost always mean.
* Escape sequences designating a set that (0008,0005) does not declare are honoured;
  unknown escape sequences become one U+FFFD.
* A single-valued ISO_IR 13 value whose bytes are not JIS X 0201 but are valid Shift_JIS
  (a common mislabelling) is decoded as Shift_JIS.
* Unknown terms: value 1 is read as ISO_IR 100 (latin-1, a superset of the default
  repertoire), later values are dropped; misspellings are normalised; see :func:`_normalise`.

Interpretations that are not repairs (no warning):

* JIS X 0201 Romaji (ISO-IR 14, the G0 set of ISO_IR 13 / ISO 2022 IR 13) is read and
  written as ASCII: 05/12 stays the value delimiter ``\\`` (PS3.5 6.1.2.5.3 names it YEN
  SIGN in ISO-IR 14 but still the delimiter) and 07/14 is ``~``. ESC ( B and ESC ( J are
  therefore accepted whatever (0008,0005) declares.
* After a delimiter the decoder re-activates the value-1 G0 *and* G1 sets even when the
  writer did not switch back (PS3.5 6.1.2.5.3); SPACE (02/00) inside a double-byte G0 run is
  a space (ISO/IEC 2022).
* Leading and trailing spaces of a term are CS padding (PS3.5 6.2).
* A VR outside the charset-sensitive set uses the default repertoire (PS3.5 6.1.2.3).
* Encoding switches G0 back to the value-1 set before writing a GR (G1) character, which
  readers that decode whole ESC $ B runs need; ISO 2022 itself would not require it.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Sequence
from typing import Final

from dicomkit.errors import DecodeError, DicomWarning, EncodeError
from dicomkit.vr import CHARSET_VRS, MULTI_TEXT_VRS

__all__ = ["DEFAULT_CHARSET", "Charset", "charset_decode"]

_SCS_TAG: Final = 0x00080005
_TO_GR: Final = bytes(b | 0x80 for b in range(256))

# Element kinds: single-byte G0 (ASCII-like), single-byte G1, double-byte G0, double-byte G1.
_G0_SB, _G1_SB, _G0_DB, _G1_DB = range(4)


class _Element:
    """One ISO 2022 graphic character set (code element) and how to code one character."""

    __slots__ = ("codec", "emap", "esc", "is_g1", "kind", "name", "table", "width")

    def __init__(self, name: str, esc: bytes, kind: int, codec: str = "", table: str = "") -> None:
        self.name = name
        self.esc = esc
        self.kind = kind
        self.is_g1 = kind in (_G1_SB, _G1_DB)
        self.width = 2 if kind in (_G0_DB, _G1_DB) else 1
        self.codec = codec
        self.table = table
        self.emap = codecs.charmap_build(table) if table else None

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def _decode(self, chunk: bytes, errors: str) -> str:
        if self.kind == _G0_DB:
            high = chunk.translate(_TO_GR)
            if self is _JIS_X_0212:  # EUC-JP reaches JIS X 0212 through SS3 (0x8F)
                high = b"".join(b"\x8f" + high[i : i + 2] for i in range(0, len(high), 2))
            return high.decode("euc_jp", errors)
        if self.table:
            return codecs.charmap_decode(chunk, errors, self.table)[0]
        return chunk.decode(self.codec, errors)

    def decode(self, chunk: bytes, offset: int, issues: _Issues) -> str:
        """Decode ``chunk``: GL bytes only for a G0 set; GL (as ASCII) and GR for a G1 set."""
        try:
            return self._decode(chunk, "strict")
        except UnicodeDecodeError as e:
            start = e.start * 2 // 3 if self is _JIS_X_0212 else e.start
            issues.add(f"bytes not valid in {self.name}", offset + start)
            return self._decode(chunk, "replace")

    def encode_char(self, c: str) -> bytes | None:
        """The bytes of one non-ASCII character in this set (GL for G0, GR for G1), or None."""
        try:
            if self.emap is not None:
                b = codecs.charmap_encode(c, "strict", self.emap)[0]
            else:
                b = c.encode(self.codec)
        except UnicodeEncodeError:
            return None
        kind = self.kind
        if kind == _G1_SB:
            return b if len(b) == 1 and b[0] >= 0xA0 else None
        if kind == _G1_DB:
            return b if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1 else None
        if kind == _G0_DB:
            if self is _JIS_X_0212:
                ok = len(b) == 3 and b[0] == 0x8F and b[1] >= 0xA1 and b[2] >= 0xA1
                return bytes((b[1] & 0x7F, b[2] & 0x7F)) if ok else None
            ok = len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1
            return bytes((b[0] & 0x7F, b[1] & 0x7F)) if ok else None
        return None

    def encode_all(self, text: str) -> bytes:
        """Encode a whole string with this single-byte set (raises UnicodeEncodeError)."""
        if self.emap is not None:
            return codecs.charmap_encode(text, "strict", self.emap)[0]
        return text.encode(self.codec)


def _katakana_table() -> str:
    # JIS X 0201 8-bit code: ASCII in GL (see module docstring) and the half-width
    # katakana U+FF61..U+FF9F at 0xA1..0xDF; all other bytes >= 0x80 are undefined.
    chars = [chr(i) for i in range(0x80)] + ["\ufffe"] * 0x80
    for b in range(0xA1, 0xE0):
        chars[b] = chr(0xFF61 + b - 0xA1)
    return "".join(chars)


_ASCII: Final = _Element("ISO-IR 6 (ASCII)", b"\x1b(B", _G0_SB, "ascii")
_ROMAJI: Final = _Element("ISO-IR 14 (JIS X 0201 Romaji)", b"\x1b(J", _G0_SB, "ascii")
_LATIN1: Final = _Element("ISO-IR 100 (Latin-1)", b"\x1b-A", _G1_SB, "latin_1")
_KATAKANA: Final = _Element("ISO-IR 13 (JIS X 0201 Katakana)", b"\x1b)I", _G1_SB, table=_katakana_table())
_JIS_X_0208: Final = _Element("ISO-IR 87 (JIS X 0208)", b"\x1b$B", _G0_DB, "euc_jp")
_JIS_X_0212: Final = _Element("ISO-IR 159 (JIS X 0212)", b"\x1b$(D", _G0_DB, "euc_jp")
_JIS_C_6226: Final = _Element("ISO-IR 42 (JIS C 6226-1978)", b"\x1b$@", _G0_DB, "euc_jp")
_KS_X_1001: Final = _Element("ISO-IR 149 (KS X 1001)", b"\x1b$)C", _G1_DB, "euc_kr")
_GB_2312: Final = _Element("ISO-IR 58 (GB 2312)", b"\x1b$)A", _G1_DB, "gb2312")

# ISO-IR number -> G1 element of the single-byte sets (PS3.3 Tables C.12-2 and C.12-3).
_SINGLE_BYTE: Final[dict[str, _Element]] = {
    "100": _LATIN1,
    "101": _Element("ISO-IR 101 (Latin-2)", b"\x1b-B", _G1_SB, "iso8859_2"),
    "109": _Element("ISO-IR 109 (Latin-3)", b"\x1b-C", _G1_SB, "iso8859_3"),
    "110": _Element("ISO-IR 110 (Latin-4)", b"\x1b-D", _G1_SB, "iso8859_4"),
    "144": _Element("ISO-IR 144 (Cyrillic)", b"\x1b-L", _G1_SB, "iso8859_5"),
    "127": _Element("ISO-IR 127 (Arabic)", b"\x1b-G", _G1_SB, "iso8859_6"),
    "126": _Element("ISO-IR 126 (Greek)", b"\x1b-F", _G1_SB, "iso8859_7"),
    "138": _Element("ISO-IR 138 (Hebrew)", b"\x1b-H", _G1_SB, "iso8859_8"),
    "148": _Element("ISO-IR 148 (Latin-5)", b"\x1b-M", _G1_SB, "iso8859_9"),
    "203": _Element("ISO-IR 203 (Latin-9)", b"\x1b-b", _G1_SB, "iso8859_15"),
    "166": _Element("ISO-IR 166 (TIS 620-2533)", b"\x1b-T", _G1_SB, "tis_620"),
    "13": _KATAKANA,
}
# ISO-IR number -> element of the multi-byte sets with code extensions (PS3.3 Table C.12-4).
_MULTI_BYTE: Final[dict[str, _Element]] = {
    "87": _JIS_X_0208,
    "159": _JIS_X_0212,
    "149": _KS_X_1001,
    "58": _GB_2312,
}
# Multi-byte sets without code extensions (PS3.3 Table C.12-5; PS3.5 6.1.2.5.4 d).
_STANDALONE: Final[dict[str, str]] = {"ISO_IR 192": "utf_8", "GB18030": "gb18030", "GBK": "gbk"}

# Canonical term -> (G0, G1) for every term that works with ISO 2022 (None: not designated).
_TERMS: Final[dict[str, tuple[_Element | None, _Element | None]]] = {"ISO 2022 IR 6": (_ASCII, None)}
for _n, _e in _SINGLE_BYTE.items():
    _TERMS[f"ISO_IR {_n}"] = _TERMS[f"ISO 2022 IR {_n}"] = (_ROMAJI if _n == "13" else _ASCII, _e)
for _n, _e in _MULTI_BYTE.items():
    _TERMS[f"ISO 2022 IR {_n}"] = (_e, None) if _e.kind == _G0_DB else (None, _e)
del _n, _e

# Escape sequence -> designated element. ESC $ ( B is the long form of ESC $ B (PS3.5 H.1).
_DESIGNATIONS: Final[dict[bytes, _Element]] = {
    e.esc: e for e in (_ASCII, _ROMAJI, _JIS_X_0208, _JIS_X_0212, _JIS_C_6226, *_SINGLE_BYTE.values())
}
_DESIGNATIONS.update({e.esc: e for e in _MULTI_BYTE.values()})
_DESIGNATIONS[b"\x1b$(B"] = _JIS_X_0208


def _key(term: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", term.upper())


# Spelling variants seen in real files -> canonical term.
_ALIASES: Final[dict[str, str]] = {_key(t): t for t in (*_TERMS, *_STANDALONE, "ISO_IR 6")}
_ALIASES.update({f"ISOIR{n}": f"ISO 2022 IR {n}" for n in _MULTI_BYTE})
_ALIASES.update(
    {"ISO2022IR192": "ISO_IR 192", "UTF8": "ISO_IR 192", "ISO2022GBK": "GBK", "ISO202258": "ISO 2022 IR 58"}
)
_ISO_8859_PARTS: Final = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "15")
_ISO_IR_NUMBERS: Final = ("100", "101", "109", "110", "144", "127", "126", "138", "148", "203")
_ALIASES.update({f"ISO8859{p}": f"ISO_IR {n}" for p, n in zip(_ISO_8859_PARTS, _ISO_IR_NUMBERS, strict=True)})

_CTRL: Final = rb"\x00-\x1a\x1c-\x1f\x7f"  # C0 controls except ESC, and DEL
_CTRL_RE: Final = re.compile(b"[" + _CTRL + b"]")
_DELIMS_PN: Final = re.compile(rb"[\\^=" + _CTRL + b"]")
_DELIMS_MULTI: Final = re.compile(rb"[\\" + _CTRL + b"]")
_ESC_SEQ: Final = re.compile(rb"\x1b[\x20-\x2f]*[\x30-\x7e]?")
_MB_TOKENS: Final = re.compile(rb"[\x21-\x7e]+|[\x80-\xff]+| +")


def _warn(message: str, stacklevel: int) -> None:
    warnings.warn(message, DicomWarning, stacklevel=stacklevel + 1)


class _Issues:
    """Problems found while decoding one value: raise at once (strict) or warn once."""

    __slots__ = ("count", "first", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.count = 0
        self.first = ""

    def add(self, message: str, offset: int) -> None:
        if self.strict:
            raise DecodeError(message, offset=offset)
        if not self.count:
            self.first = f"{message} at offset {offset}"
        self.count += 1

    def report(self, vr: str, charset: Charset) -> None:
        if self.count:
            more = f" (and {self.count - 1} more)" if self.count > 1 else ""
            # stack: _warn, report, Charset._decode_slow, Charset.decode, caller
            _warn(f"{vr} value in {charset!r}: {self.first}{more}", 4)


class _Term:
    """One value of (0008,0005) being repaired by :func:`_normalise`."""

    __slots__ = ("canon", "original", "reasons")

    def __init__(self, original: str, canon: str) -> None:
        self.original = original
        self.canon = canon
        self.reasons: list[str] = []


def _normalise(raw_terms: tuple[str, ...], strict: bool) -> tuple[tuple[str, ...], list[str]]:
    """Canonical terms for ``raw_terms`` plus one warning message per repaired term.

    Repairs (PS3.3 C.12.1.1.2, PS3.5 6.1.2.5.4): spelling variants ("ISO-IR 100", "ISO_IR100",
    lower case, "UTF-8", "ISO-8859-1") become the Defined Term; an unknown value 1 becomes
    ISO_IR 100 (ISO 2022 IR 100 when multi-valued), unknown or empty later values are dropped;
    in a multi-valued set "ISO_IR n" becomes "ISO 2022 IR n", ISO_IR 192 / GB18030 / GBK
    drop the other values (value 1) or are dropped (later), duplicates are dropped; a
    multi-byte set as value 1 gets an empty value 1 (ISO-IR 6) put in front of it.
    ``()``, ``("",)`` and ``("ISO_IR 6",)`` all mean the default repertoire: ``()``.
    """
    items: list[_Term] = []
    live: list[_Term] = []  # the terms kept, in order

    def fix(item: _Term, reason: str) -> None:
        if strict:
            raise DecodeError(f"Specific Character Set term {item.original!r}: {reason}", tag=_SCS_TAG)
        item.reasons.append(reason)

    stripped = [t.strip(" \x00") for t in raw_terms]  # CS padding is not significant
    if not any(stripped):
        stripped = []
    multi = len(stripped) > 1
    for i, t in enumerate(stripped):
        item = _Term(t, t)
        items.append(item)
        if t == "" and i == 0:
            live.append(item)  # empty value 1 means ISO 2022 IR 6 (PS3.3 C.12.1.1.2)
            continue
        if t == "":
            fix(item, "empty value ignored")
            continue
        canon = t if t in _TERMS or t in _STANDALONE or t == "ISO_IR 6" else _ALIASES.get(_key(t))
        if canon is None:
            if i == 0:
                item.canon = "ISO 2022 IR 100" if multi else "ISO_IR 100"
                fix(item, f"unknown term, read as {item.canon!r} (latin-1)")
                live.append(item)
            else:
                fix(item, "unknown term ignored")
            continue
        if canon != t:
            fix(item, f"not a Defined Term, read as {canon!r}")
        item.canon = canon
        live.append(item)

    if len(live) > 1:
        first = live[0]
        if first.canon in _STANDALONE:  # PS3.5 6.1.2.5.4 d: no code extensions
            for item in live[1:]:
                fix(item, f"ignored: {first.canon!r} does not allow code extensions (PS3.5 6.1.2.5.4)")
            live = [first]
        else:
            kept: list[_Term] = []
            seen: set[str] = set()
            for item in live:
                if item.canon in _STANDALONE:
                    fix(item, "ignored: cannot be used as a code extension (PS3.5 6.1.2.5.4)")
                    continue
                if item.canon.startswith("ISO_IR "):
                    canon = "ISO 2022 IR " + item.canon[7:]
                    fix(item, f"read as {canon!r}: code extensions need the ISO 2022 form")
                    item.canon = canon
                key = item.canon or "ISO 2022 IR 6"
                if key in seen:
                    fix(item, "duplicate ignored")
                    continue
                seen.add(key)
                kept.append(item)
            live = kept
    if live and live[0].canon[12:] in _MULTI_BYTE and live[0].canon.startswith("ISO 2022 IR "):
        fix(live[0], "a multi-byte set cannot be value 1 (PS3.5 6.1.2.5.4); value 1 read as empty (ISO-IR 6)")
        live.insert(0, _Term("", ""))
    terms = tuple(item.canon for item in live)
    if terms in ((), ("",), ("ISO_IR 6",)):
        terms = ()
    messages = [
        f"Specific Character Set (0008,0005) term {item.original!r}: {'; '.join(item.reasons)}"
        for item in items
        if item.reasons
    ]
    return terms, messages


_CACHE: dict[tuple[tuple[str, ...], bool], Charset] = {}


def _raw_terms(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split("\\"))
    return tuple(value)


def _restore(terms: tuple[str, ...], strict: bool) -> Charset:
    return Charset.from_value(terms, strict=strict)


class Charset:
    """An immutable, interpreted value of Specific Character Set (0008,0005).

    Build it once per data set with :meth:`from_value` (or ``Charset(value)``). ``terms``
    are the canonical Defined Terms after repairs (``()`` for the default repertoire);
    equality and hashing compare ``terms`` only: ``strict`` is a reading policy.
    """

    __slots__ = (
        "_declared",
        "_ext",
        "_fallback",
        "_fast",
        "_g0",
        "_g1",
        "_single",
        "_standalone",
        "_strict",
        "_terms",
    )

    _terms: tuple[str, ...]
    _strict: bool
    _standalone: str
    _g0: _Element
    _g1: _Element | None
    _single: _Element | None
    _ext: tuple[_Element, ...]
    _declared: frozenset[_Element]
    _fallback: _Element
    _fast: str

    def __init__(self, value: str | Sequence[str] | None = None, *, strict: bool = False) -> None:
        raw = _raw_terms(value)
        terms, messages = _normalise(raw, strict)
        for message in messages:
            _warn(message, 2)
        self._setup(terms, strict)

    def _setup(self, terms: tuple[str, ...], strict: bool) -> None:
        put = object.__setattr__
        put(self, "_terms", terms)
        put(self, "_strict", strict)
        standalone = _STANDALONE.get(terms[0], "") if terms else ""
        put(self, "_standalone", standalone)
        g0, g1 = _ASCII, None
        ext: list[_Element] = []
        declared = {_ASCII, _ROMAJI}
        if not standalone:
            if terms and terms[0]:
                g0_, g1 = _TERMS[terms[0]]
                assert g0_ is not None  # value 1 is a single-byte set (see _normalise)
                g0 = g0_
            for term in terms:
                for element in _TERMS.get(term, (None, None)):
                    if element is not None and element.kind != _G0_SB:
                        declared.add(element)
                        if element not in ext:
                            ext.append(element)
        put(self, "_g0", g0)
        put(self, "_g1", g1)
        put(self, "_ext", tuple(ext))
        put(self, "_declared", frozenset(declared))
        put(self, "_fallback", next((e for e in ext if e.is_g1), _LATIN1))
        # Text that never needs an escape sequence is coded by one set in one call.
        single = len(ext) <= 1 and all(e is g1 for e in ext)
        put(self, "_single", (g1 or _ASCII) if single and not standalone else None)
        # The codec that decodes a value without escape sequences in one call, if any.
        put(self, "_fast", standalone or (g1.codec if g1 is not None else "ascii"))

    @classmethod
    def from_value(cls, value: str | Sequence[str] | None, *, strict: bool = False) -> Charset:
        """Interpret a (0008,0005) value: ``None``, ``"ISO_IR 100"``, ``("", "ISO 2022 IR 87")``.

        A backslash in a ``str`` separates values. Repaired terms each emit one DicomWarning;
        with ``strict=True`` any repair raises DecodeError naming tag (0008,0005).
        """
        raw = _raw_terms(value)
        key = (raw, strict)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        terms, messages = _normalise(raw, strict)
        for message in messages:
            _warn(message, 2)
        self = cls.__new__(cls)
        self._setup(terms, strict)
        if not messages and len(_CACHE) < 256:
            _CACHE[key] = self
        return self

    # -- identity -------------------------------------------------------------------------

    @property
    def terms(self) -> tuple[str, ...]:
        """The canonical Defined Terms; ``()`` is the default repertoire."""
        return self._terms

    @property
    def is_default(self) -> bool:
        """True for the default repertoire (no value, ``ISO_IR 6`` or ``ISO 2022 IR 6``)."""
        return self._terms in ((), ("ISO 2022 IR 6",))

    @property
    def strict(self) -> bool:
        return self._strict

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Charset):
            return self._terms == other._terms
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Charset", self._terms))

    def __repr__(self) -> str:
        return f"Charset({self._terms!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Charset is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Charset is immutable")

    def __reduce__(self) -> tuple[object, tuple[tuple[str, ...], bool]]:
        return _restore, (self._terms, self._strict)

    # -- decoding -------------------------------------------------------------------------

    def decode(self, raw: bytes, vr: str) -> str:
        """Decode one element value of VR ``vr``: all its values, delimiters and padding kept.

        Undecodable bytes become U+FFFD with one DicomWarning per call (DecodeError with
        ``strict=True``, ``.offset`` the byte offset in ``raw``).
        """
        # Other VRs use the default repertoire (PS3.5 6.1.2.3).
        cs = self if vr in CHARSET_VRS else _DEFAULT_STRICT if self._strict else DEFAULT_CHARSET
        codec = cs._fast
        # Fast path: one bytes.decode call. ESC (0x1B) starts code extension unless the set
        # is UTF-8, GB18030 or GBK (``int in bytes`` is a single memchr).
        if codec and (cs._standalone or 0x1B not in raw):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                pass
        return cs._decode_slow(raw, vr)

    def _decode_slow(self, raw: bytes, vr: str) -> str:
        issues = _Issues(self._strict)
        codec = self._standalone
        g1 = self._g1
        if codec:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as e:
                issues.add(f"bytes not valid in {self._terms[0]}", e.start)
                text = raw.decode(codec, "replace")
        elif 0x1B in raw:
            text = self._decode_iso2022(raw, vr, issues)
        elif g1 is _KATAKANA and len(self._terms) == 1:
            try:
                text = codecs.charmap_decode(raw, "strict", g1.table)[0]
            except UnicodeDecodeError:
                try:
                    text = raw.decode("shift_jis")
                except UnicodeDecodeError:
                    text = self._run(raw, g1, 0, issues)
                else:
                    issues.add("bytes are not JIS X 0201; read as Shift_JIS", 0)
        else:
            text = self._run(raw, g1, 0, issues)
        issues.report(vr, self)
        return text

    def _run(self, chunk: bytes, g1: _Element | None, offset: int, issues: _Issues) -> str:
        """Decode bytes read with a single-byte G0 set (always ASCII here) and ``g1`` in GR."""
        if g1 is None:
            try:
                return chunk.decode("ascii")
            except UnicodeDecodeError as e:
                g1 = self._fallback
                issues.add(
                    f"byte 0x{chunk[e.start]:02X} with no G1 set designated; read as {g1.name}",
                    offset + e.start,
                )
        return g1.decode(chunk, offset, issues)

    def _decode_iso2022(self, raw: bytes, vr: str, issues: _Issues) -> str:
        delims = _DELIMS_PN if vr == "PN" else _DELIMS_MULTI if vr in MULTI_TEXT_VRS else _CTRL_RE
        init0, init1 = self._g0, self._g1
        g0, g1 = init0, init1
        out: list[str] = []
        pos, n = 0, len(raw)
        while pos < n:
            if raw[pos] == 0x1B:
                m = _ESC_SEQ.match(raw, pos)
                assert m is not None
                seq = m.group()
                element = _DESIGNATIONS.get(seq)
                if element is None:
                    issues.add(f"unknown escape sequence {seq!r}", pos)
                    out.append("\ufffd")
                else:
                    if element not in self._declared:
                        issues.add(f"escape sequence {seq!r} designates {element.name}, not declared", pos)
                    if element.is_g1:
                        g1 = element
                    else:
                        g0 = element
                pos = m.end()
                continue
            end = raw.find(b"\x1b", pos)
            if end < 0:
                end = n
            if g0.width == 1:
                if g1 is init1:  # a delimiter would change nothing: one call for the run
                    out.append(self._run(raw[pos:end], g1, pos, issues))
                    pos = end
                    continue
                m = delims.search(raw, pos, end)
            else:
                # Bytes of a double-byte G0 set include "^", "=" and "\\": only control
                # characters delimit (PS3.5 requires ESC ( B before any other delimiter).
                m = _CTRL_RE.search(raw, pos, end)
            stop = m.start() if m is not None else end
            if stop > pos:
                if g0.width == 1:
                    out.append(self._run(raw[pos:stop], g1, pos, issues))
                else:
                    out.append(self._run_double_g0(raw[pos:stop], g0, g1, pos, issues))
            if m is not None:
                out.append(chr(raw[stop]))
                g0, g1 = init0, init1  # PS3.5 6.1.2.5.3
                pos = stop + 1
            else:
                pos = end
        return "".join(out)

    def _run_double_g0(
        self, chunk: bytes, g0: _Element, g1: _Element | None, offset: int, issues: _Issues
    ) -> str:
        parts: list[str] = []
        for m in _MB_TOKENS.finditer(chunk):
            s = m.group()
            if s[0] == 0x20:  # SPACE is 02/00 whatever 94-set is in G0 (ISO 2022)
                parts.append(s.decode("ascii"))
            elif s[0] < 0x80:
                parts.append(g0.decode(s, offset + m.start(), issues))
            else:
                parts.append(self._run(s, g1, offset + m.start(), issues))
        return "".join(parts)

    # -- encoding -------------------------------------------------------------------------

    def encode(self, text: str, vr: str) -> bytes:
        """Encode one element value (delimiters included, no padding added).

        Raises :class:`~dicomkit.errors.EncodeError` (with ``.vr``) for a character the
        character set cannot represent, and for ESC outside UTF-8/GB18030/GBK.
        """
        if vr not in CHARSET_VRS and self._terms:
            return DEFAULT_CHARSET.encode(text, vr)
        codec = self._standalone
        if codec:
            try:
                return text.encode(codec)
            except UnicodeEncodeError as e:
                raise self._unencodable(text, e.start, vr) from None
        if "\x1b" in text:
            raise EncodeError(f"ESC at index {text.index(chr(27))} is reserved for code extension", vr=vr)
        single = self._single
        if single is not None:
            try:
                return single.encode_all(text)
            except UnicodeEncodeError as e:
                raise self._unencodable(text, e.start, vr) from None
        return self._encode_iso2022(text, vr)

    def _unencodable(self, text: str, index: int, vr: str) -> EncodeError:
        terms = "\\".join(self._terms) or "default repertoire"
        return EncodeError(f"character {text[index]!r} at index {index} is not in {terms}", vr=vr)

    def _encode_iso2022(self, text: str, vr: str) -> bytes:
        delims = "\\^=" if vr == "PN" else "\\" if vr in MULTI_TEXT_VRS else ""
        init0, init1 = self._g0, self._g1
        g0, g1 = init0, init1
        out = bytearray()
        for i, c in enumerate(text):
            o = ord(c)
            if o < 0x80:
                if o < 0x20 or o == 0x7F or c in delims:
                    if g0 is not init0:  # PS3.5 6.1.2.5.3: value-1 set before a delimiter
                        out += init0.esc
                    g0, g1 = init0, init1
                elif g0.width != 1:
                    out += init0.esc
                    g0 = init0
                out.append(o)
                continue
            if g1 is not None:
                b = g1.encode_char(c)
                if b is not None:
                    if g0.width != 1:  # keep GR use in a single-byte G0 context (interop)
                        out += init0.esc
                        g0 = init0
                    out += b
                    continue
            if g0.width != 1:
                b = g0.encode_char(c)
                if b is not None:
                    out += b
                    continue
            for element in self._ext:
                b = element.encode_char(c)
                if b is not None:
                    if element.is_g1:
                        if g0.width != 1:
                            out += init0.esc
                            g0 = init0
                        g1 = element
                    else:
                        g0 = element
                    out += element.esc
                    out += b
                    break
            else:
                raise self._unencodable(text, i, vr)
        if g0 is not init0:
            out += init0.esc
        return bytes(out)


DEFAULT_CHARSET: Final = Charset.from_value(None)
_DEFAULT_STRICT: Final = Charset.from_value(None, strict=True)


def charset_decode(raw: bytes, vr: str, charset: Charset | None) -> str:
    """Decode ``raw`` of VR ``vr`` with ``charset``, or the default repertoire when None."""
    return (charset or DEFAULT_CHARSET).decode(raw, vr)
