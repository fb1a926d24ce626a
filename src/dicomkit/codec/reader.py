"""Reading Part 10 files and bare data sets (PS3.10 section 7.1; PS3.5 chapter 7, Annex A).

One pass over the bytes: the 128-byte preamble and ``DICM`` prefix, the File Meta
Information (group 0002, always Explicit VR Little Endian), then the data set in the
transfer syntax that (0002,0010) names: Implicit VR LE, Explicit VR LE/BE, Deflated
Explicit VR LE, and the encapsulated syntaxes (pixel data kept as fragments, PS3.5 A.4).

Element headers are scanned by a tight loop (in C, ``dicomkit.codec._scan``, when the optional
extension was built; else the same loop in Python with precompiled ``struct``s); each element is
stored as a compact raw entry and decoded only when used (see :mod:`dicomkit.dataset`);
:func:`raw_elements` gives (tag, VR, value bytes) without building elements. Files are
read in chunks: ``stop_before_pixels`` never reads the pixel data, and a large value is
read straight into its own buffer, so pixel bytes are copied once.

Tolerance (``strict=False``): each fix-up is reported with one :class:`DicomWarning`;
``strict=True`` turns the same condition into :class:`DecodeError`/:class:`InvalidDicomError`.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from dicomkit import dictionary
from dicomkit.codec.charset import Charset
from dicomkit.codec.values import _DECODERS
from dicomkit.dataset import _MISSING, DataElement, Dataset, RawEntry, Sequence
from dicomkit.errors import DecodeError, DicomWarning, InvalidDicomError
from dicomkit.tag import Tag
from dicomkit.uid import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    TransferSyntax,
    transfer_syntax,
)
from dicomkit.vr import VR

__all__ = ["ReadOptions", "raw_elements", "read", "read_dataset"]

UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
ITEM = 0xFFFEE000
ITEM_DELIM = 0xFFFEE00D
SEQ_DELIM = 0xFFFEE0DD
CHARSET_TAG = 0x00080005
# each nesting level costs the parser 4-5 Python frames: 128 levels stay well inside the
# default recursion limit of 1000 (DecodeError, never RecursionError)
MAX_DEPTH = 128
MAX_WARNINGS = 100  # fix-up warnings reported per parsed buffer; the rest are counted only
MAX_INFLATED_SIZE = 1 << 28  # default bound on an inflated Deflated Explicit VR LE data set (256 MiB)
BIG_VALUE = 1 << 16  # values at least this large are read into their own buffer
_MAX_PROBED_ITEMS = 64  # encapsulated pixel data with more items is read chunk by chunk
FIRST_CHUNK = 1 << 14
_NEXT, _STOP, _END_ITEM = object(), object(), object()
_NO_STOP = 0xFFFE0000  # item and delimiter tags always take the slow path

_LONG = frozenset(
    v.encode() for v in ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV")
)
_SHORT = frozenset(
    v.encode()
    for v in (
        "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN",
        "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US",
    )
)  # fmt: skip
_VR_BY_BYTES: dict[Any, VR] = {v.value.encode(): v for v in VR}
_VR_BY_BYTES.update({v.value: v for v in VR})

_S_HDR = {True: struct.Struct("<HH2sH").unpack_from, False: struct.Struct(">HH2sH").unpack_from}
_S_IMPL = {True: struct.Struct("<HHL").unpack_from, False: struct.Struct(">HHL").unpack_from}
_S_HDR4 = {True: struct.Struct("<HHHH").unpack_from, False: struct.Struct(">HHHH").unpack_from}
# explicit VR codes as the 16-bit integers the header struct yields in each byte order
_SHORT_CODES = {
    le: frozenset(int.from_bytes(v, "little" if le else "big") for v in _SHORT) for le in (True, False)
}
_LONG_CODES = {
    le: frozenset(int.from_bytes(v, "little" if le else "big") for v in _LONG) for le in (True, False)
}
_LONG_VR_SET = frozenset(v for v in VR if v.long_header)
_VR_BY_CODE = {
    le: {int.from_bytes(v.value.encode(), "little" if le else "big"): v for v in VR} for le in (True, False)
}
_SQ_CODE = {True: int.from_bytes(b"SQ", "little"), False: int.from_bytes(b"SQ", "big")}
_S_UL = {True: struct.Struct("<L").unpack_from, False: struct.Struct(">L").unpack_from}
_S_US = {True: struct.Struct("<H").unpack_from, False: struct.Struct(">H").unpack_from}
_tag_new = int.__new__
_elem_new = object.__new__
_UN = VR.UN
_SQ = VR.SQ


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Per-call reading options (there is no global configuration)."""

    stop_before_pixels: bool = False
    specific_tags: frozenset[int] | None = None
    stop_before: int | None = None
    strict: bool = False
    charset: tuple[str, ...] | None = None
    max_depth: int = MAX_DEPTH
    max_inflated_size: int = MAX_INFLATED_SIZE


# ---------------------------------------------------------------------------------------
# decode context: one per character-set scope


class _Context:
    """Decodes the elements of the data sets that share one character set scope."""

    __slots__ = (
        "_charset",
        "_cs_done",
        "_hdr4",
        "_ul",
        "_us",
        "_vr_by_code",
        "base",
        "charset_raw",
        "deflated",
        "depth",
        "implicit",
        "little",
        "opts",
        "parent",
        "pending",
        "stopped_at",
        "strict",
    )

    def __init__(
        self, little: bool, opts: ReadOptions, parent: _Context | None = None, implicit: bool = False
    ) -> None:
        self.little = little
        self.implicit = implicit
        self.opts = opts
        self.strict = opts.strict
        self.parent = parent
        self.charset_raw: bytes | None = None
        #: the compressed stream of a Deflated Explicit VR LE data set as read (the writer re-emits
        #: it when the data set is written unchanged in the same transfer syntax)
        self.deflated: bytes | None = None
        self._charset: Charset | None = None
        self._cs_done = False
        self._ul = _S_UL[little]
        self._us = _S_US[little]
        self._hdr4 = _S_HDR4[little]
        self._vr_by_code = _VR_BY_CODE[little]
        #: file offset of the buffer the data sets of this context index (for messages)
        self.base: int = 0 if parent is None else parent.base
        #: sequence nesting depth of the data sets of this context
        self.depth: int = 0 if parent is None else parent.depth
        #: a top-level data set scanned lazily: (parser, position, final stop tag)
        self.pending: tuple[_Parser, int, int] | None = None
        #: file offset of the element a top-level read stopped at (``stop_before_pixels``: the
        #: Pixel Data header), once the scan has got there; None otherwise
        self.stopped_at: int | None = None

    def child(
        self, charset_raw: bytes | None, *, little: bool | None = None, implicit: bool | None = None
    ) -> _Context:
        """A context for nested data sets: own character set and/or another encoding."""
        c = _Context(
            self.little if little is None else little,
            self.opts,
            self,
            self.implicit if implicit is None else implicit,
        )
        c.charset_raw = charset_raw
        return c

    @property
    def charset(self) -> Charset | None:
        """The character set in force (own (0008,0005), else the enclosing data set's)."""
        if self._cs_done:
            return self._charset
        opts = self.opts
        cs: Charset | None = None
        if opts.charset is not None:
            cs = Charset.from_value(opts.charset, strict=opts.strict)
        elif self.charset_raw is not None:
            text = self.charset_raw.decode("latin-1").rstrip(" \x00")
            terms = tuple(t.strip(" \x00") for t in text.split("\\"))
            cs = Charset.from_value(terms if any(terms) else None, strict=opts.strict)
        elif self.parent is not None:
            cs = self.parent.charset
        self._charset = cs
        self._cs_done = True
        return cs

    # ElementSource protocol -----------------------------------------------------------
    def materialize(self, ds: Dataset, tag: int, entry: RawEntry | int) -> DataElement:
        vr: VR | None
        if type(entry) is int:
            buf = ds._buf
            if self.implicit:
                vr = None
                ln = self._ul(buf, entry + 4)[0]
                off = entry + 8
            else:
                _, _, vrc, ln = self._hdr4(buf, entry)
                vr = self._vr_by_code.get(vrc) or _UN
                if vr in _LONG_VR_SET:
                    ln = self._ul(buf, entry + 8)[0]
                    off = entry + 12
                else:
                    off = entry + 8
        else:
            tup = cast(tuple[Any, ...], entry)
            vrb, off, ln = tup[0], tup[1], tup[2]
            buf = tup[3] if len(tup) > 3 else ds._buf
            vr = None if vrb is None else (_VR_BY_BYTES.get(vrb) or _UN)
        raw = buf[off : off + ln]
        stored = None
        implicit_vr = vr is None
        if vr is None:
            vr = _implicit_vr(ds, tag)
        else:
            # standard tags, and Private Creators (always LO, PS3.5 7.8.1)
            if vr is _UN and (not tag & 0x10000 or 0x10 <= tag & 0xFFFF <= 0xFF):
                known = dictionary.vr_of(tag)
                if known is not None and known != "UN":
                    stored = "UN"
                    vr = _resolve_ambiguous(ds, tag, known)
        elem = _elem_new(DataElement)
        elem.tag = _tag_new(Tag, tag)
        elem.VR = vr
        elem._value = _MISSING
        elem._raw = raw
        elem._source = self
        elem.undefined_length = False
        elem.stored_vr = stored
        if vr is _SQ:
            # a defined-length SQ kept raw: an implicit VR LE sequence (UN, CP-246) or
            # an implicit-VR element the dictionary calls SQ
            elem._value = _parse_sequence_bytes(buf, off, ln, self, stored is not None or implicit_vr)
            elem._raw = None
        return elem

    def resume(self, ds: Dataset, upto: int | None) -> None:
        """Scan on (lazily read top-level data set) until ``upto`` is passed or the end."""
        pending = self.pending
        if pending is None:
            object.__setattr__(ds, "_more", False)
            return
        p, pos, final_stop = pending
        stop = final_stop if upto is None else min(final_stop, upto + 1)
        d = ds._d
        p.stopped = False
        _, pos, asc = p.parse(
            pos,
            -1,
            little=self.little,
            implicit=self.implicit,
            ctx=self,
            depth=0,
            in_item=False,
            stop=stop,
            into=d,
            last=max(d) if d else -1,
        )
        object.__setattr__(ds, "_buf", p.buf)
        if not asc:
            object.__setattr__(ds, "_sorted", False)
        if p.stopped and stop < final_stop:
            self.pending = (p, pos, final_stop)
        else:
            self.pending = None
            p.reopen = None
            object.__setattr__(ds, "_more", False)
            self.stopped_at = p.stopped_at
        if self.charset_raw is None and CHARSET_TAG in d and not self._cs_done:
            self.charset_raw = _entry_value(d[CHARSET_TAG], p.buf, self)

    def decode(self, elem: DataElement) -> Any:
        raw = elem._raw
        if raw is None:
            return None
        tag = elem.tag
        vm = _VM_GET(tag)
        if vm is None and not tag & 0x10000:
            vm = dictionary.vm_of(tag)  # repeating groups, group lengths
        vr = elem.VR
        cs = self._charset if self._cs_done else self.charset
        try:
            scalar = None if vm is None else vm == "1"
            return _DECODERS[vr](tag, vr, raw, self.little, cs, scalar, self.strict)
        except DecodeError as exc:
            if exc.tag is not None:
                raise
            # a character set error knows only its offset in the value: name the element
            raise DecodeError(exc.reason, tag=tag, offset=exc.offset) from None


_VM_GET = dictionary.VM_BY_TAG.get


def raw_elements(
    ds: Dataset, exclude: Callable[[int], bool] | None = None
) -> Iterator[tuple[int, str, bytes | None, DataElement | None]]:
    """The top-level elements of ``ds`` in tag order as ``(tag, VR, value bytes, element)``,
    without building a :class:`DataElement` where the reader still holds the element as bytes.

    For an element of an explicit VR data set read from bytes or a file, whose VR is its own
    (not UN, not SQ): its VR, its value bytes as encoded (the data set's byte order) and None —
    exactly the ``VR`` and ``raw`` its DataElement would have. For every other element: the
    DataElement (built now, as ``ds[tag]`` would), with its VR and ``raw`` (None for a value
    set in memory or a sequence). For code that looks at most elements once and decodes few of
    them (indexing many files); ``ds`` itself is left as it was, apart from the elements built.
    Tags for which ``exclude(tag)`` is true are skipped without touching their values (e.g.
    Pixel Data: no copy of its bytes).
    """
    ctx = ds._source
    order = ds._order()  # (completes a lazy scan)
    if exclude is not None:
        order = [t for t in order if not exclude(t)]
    d = ds._d
    if not isinstance(ctx, _Context) or ctx.implicit:
        for tag in order:
            elem = ds._element(tag)
            yield tag, elem.VR._value_, elem.raw, elem
        return
    buf = ds._buf
    hdr, ul, by_code = ctx._hdr4, ctx._ul, ctx._vr_by_code
    for tag in order:
        e = d[tag]
        if type(e) is int:
            _, _, code, ln = hdr(buf, e)
            vr = by_code.get(code)
            if vr is not None and vr is not _UN and vr is not _SQ:
                if vr in _LONG_VR_SET:
                    off, ln = e + 12, ul(buf, e + 8)[0]
                else:
                    off = e + 8
                yield tag, vr._value_, buf[off : off + ln], None
                continue
        elif type(e) is tuple and e[0] is not None:
            vr = _VR_BY_BYTES.get(e[0])
            if vr is not None and vr is not _UN and vr is not _SQ:
                own = e[3] if len(e) > 3 else buf
                yield tag, vr._value_, own[e[1] : e[1] + e[2]], None
                continue
        elem = ds._element(tag)
        yield tag, elem.VR._value_, elem.raw, elem


def _implicit_vr(ds: Dataset, tag: int) -> VR:
    known = dictionary.vr_of(tag)
    if known is None:
        entry = dictionary.lookup(tag)
        known = entry.vr if entry is not None else "UN"
    return _resolve_ambiguous(ds, tag, known)


def _resolve_ambiguous(ds: Dataset, tag: int, vr: str) -> VR:
    """Resolve the dictionary's "US or SS", "OB or OW", … for one element (PS3.5 A.1 note)."""
    if " or " not in vr:
        return _VR_BY_BYTES.get(vr) or VR.UN
    options = vr.split(" or ")
    if "SS" in options and "US" in options:
        if tag in (0x00283006, 0x00283002, 0x00281101, 0x00281102, 0x00281103):
            return VR.US  # LUT data and descriptors: US (PS3.3 C.11)
        rep = ds.get(0x00280103)
        return VR.SS if rep == 1 else VR.US
    if "OW" in options:
        if tag == PIXEL_DATA:
            return VR.OW  # implicit VR: PS3.5 A.1
        bits = ds.get(0x00280100)
        return VR.OB if isinstance(bits, int) and bits <= 8 and "OB" in options else VR.OW
    return _VR_BY_BYTES.get(options[0]) or VR.UN


# ---------------------------------------------------------------------------------------
# the scanner


def _scan_explicit_py(
    buf: bytes, pos: int, lim: int, little: bool, stop: int, last: int, lazy_sq: bool, d: dict[int, Any]
) -> tuple[int, int]:
    """The fast path of the explicit VR scan: enter ``d[tag] = header offset`` for each element
    from ``pos`` while it is an ordinary one (a known VR, an even defined length that ends by
    ``lim``, a tag above ``last`` and below ``stop``; a defined-length SQ only when ``lazy_sq``);
    return the position and last tag where an element needs the general path.
    ``dicomkit.codec._scan.explicit`` is the same loop in C."""
    hdr = _S_HDR4[little]
    ul = _S_UL[little]
    long_ = _LONG_CODES[little]
    short = _SHORT_CODES[little]
    sq = _SQ_CODE[little]
    lim = min(lim, len(buf))
    lim12 = lim - 12
    while 0 <= pos <= lim12:
        g, e, vrc, ln = hdr(buf, pos)
        tag = g << 16 | e
        if vrc in short:
            nxt = pos + 8 + ln
        elif vrc in long_ and (vrc != sq or lazy_sq):
            ln = ul(buf, pos + 8)[0]
            nxt = pos + 12 + ln
        else:
            break
        if not (last < tag < stop and nxt <= lim and not ln & 1):
            break
        d[tag] = pos
        last = tag
        pos = nxt
    return pos, last


def _scan_implicit_py(
    buf: bytes,
    pos: int,
    lim: int,
    little: bool,
    stop: int,
    last: int,
    sq_tags: frozenset[int],
    sq_rules: tuple[tuple[int, int], ...],
    d: dict[int, Any],
) -> tuple[int, int]:
    """The fast path of the implicit VR scan (see :func:`_scan_explicit_py`): also stops at a
    tag the dictionary calls SQ and at a private element whose value starts with an item.
    ``dicomkit.codec._scan.implicit`` is the same loop in C."""
    hdr = _S_IMPL[little]
    lim = min(lim, len(buf))
    lim8 = lim - 8
    while 0 <= pos <= lim8:
        g, e, ln = hdr(buf, pos)
        tag = g << 16 | e
        nxt = pos + 8 + ln
        if (
            not (last < tag < stop and nxt <= lim and not ln & 1)
            or tag in sq_tags
            or (g & 1 and _starts_with_item(buf, pos + 8, ln, little))
            or any(tag & mask == value for mask, value in sq_rules)
        ):
            break
        d[tag] = pos
        last = tag
        pos = nxt
    return pos, last


try:  # the same loops in C, when the extension was built (pip builds it where a compiler is)
    from dicomkit.codec._scan import explicit as _scan_explicit
    from dicomkit.codec._scan import implicit as _scan_implicit
except ImportError:  # pragma: no cover - exercised by the tests with the fallback forced
    _scan_explicit = _scan_explicit_py
    _scan_implicit = _scan_implicit_py

#: whether the C scanner is in use (information; the tests compare both)
ACCELERATED = _scan_explicit is not _scan_explicit_py
_SQ_TAGS = dictionary.SQ_TAGS
_SQ_RULES = dictionary.SQ_RULES


class _Parser:
    """Scans element headers over one growing buffer (appends keep offsets valid)."""

    def __init__(
        self,
        buf: bytes,
        *,
        opts: ReadOptions,
        fh: IO[bytes] | None = None,
        base: int = 0,
        size: int | None = None,
        origin: int = 0,
    ) -> None:
        self.buf = buf
        self.origin = origin  # file position of offset 0 (a file object need not start at 0)
        self.limit = len(buf)
        self.opts = opts
        self.strict = opts.strict
        self.fh = fh  # set while more bytes can be read from a file
        self.base = base  # file offset of buf[0]
        self.size = size if size is not None else base + len(buf)  # file offset of the end of data
        self.final = fh is None or self.base + self.limit >= self.size
        self.warned = 0  # fix-ups reported so far (at most MAX_WARNINGS)
        self.stopped = False  # the last top-level parse stopped at its ``stop`` tag
        #: the file offset of the element header that stop was at (of this parser or of the
        #: parser that read on after a value read into its own buffer)
        self.stopped_at: int | None = None
        #: after read() returned: (path, stat) to reopen the file when a lazy scan needs more
        self.reopen: tuple[str, os.stat_result] | None = None

    # -- buffer management -----------------------------------------------------------
    def grow(self, need: int) -> bool:
        """Make buf hold at least ``need`` bytes (buffer offsets); False at end of data."""
        if self.final:
            return False
        want = max(need - self.limit, self.limit, FIRST_CHUNK)
        want = min(want, self.size - self.base - self.limit)
        more = self.fh.read(want) if self.fh is not None else self._read_again(want)
        if more:
            self.buf += more
            self.limit = len(self.buf)
        if not more or self.base + self.limit >= self.size:
            self.final = True
        return self.limit >= need

    def _read_again(self, want: int) -> bytes:
        """Lazy scanning after read() returned: reopen the file, check it is unchanged, read on."""
        assert self.reopen is not None
        path, st = self.reopen
        where = self.base + self.limit
        try:
            with open(path, "rb", buffering=0) as fh:
                now = os.fstat(fh.fileno())
                if (now.st_ino, now.st_dev, now.st_size, now.st_mtime_ns) != (
                    st.st_ino,
                    st.st_dev,
                    st.st_size,
                    st.st_mtime_ns,
                ):
                    raise DecodeError(f"{path} changed after it was read; read it again", offset=where)
                fh.seek(self.origin + where)
                return fh.read(want)
        except OSError as exc:
            raise DecodeError(
                f"cannot read the rest of {path}: {exc.strerror or exc}", offset=where
            ) from None

    def fixup(
        self, message: str, *, tag: int | None = None, offset: int | None = None, loss: bool = False
    ) -> None:
        """Report a tolerated problem (a DicomWarning) or, in strict mode, raise it.
        ``loss`` marks problems where bytes of the input are missing (truncation)."""
        if self.strict:
            raise DecodeError(message, tag=tag, offset=None if offset is None else self.base + offset)
        # garbage can need a fix-up every 8 bytes: report a bounded number (each distinct
        # warning text also costs memory in the warnings registry); data loss is always
        # reported (it happens once per nesting level at most: where the data ends)
        self.warned += not loss
        if self.warned > MAX_WARNINGS and not loss:
            if self.warned == MAX_WARNINGS + 1:
                message = f"more than {MAX_WARNINGS} fix-ups: further ones are not reported"
                warnings.warn(message, DicomWarning, stacklevel=5)
            return
        where = []
        if tag is not None:
            where.append(f"tag {Tag(tag)}")
        abs_offset = None if offset is None else self.base + offset
        if abs_offset is not None:
            where.append(f"offset {abs_offset}")
        text = f"{message} ({', '.join(where)})" if where else message
        warnings.warn(DicomWarning(text, tag=tag, offset=abs_offset, data_loss=loss), stacklevel=5)

    def _only_zeros_from(self, pos: int) -> bool:
        """True when every byte from ``pos`` to the end of data is NUL (reads the rest)."""
        if any(self.buf[pos : pos + 8]):  # a real (0000,0000) element: no need to read on
            return False
        while self.grow(self.limit + 1):
            pass
        return self.buf.count(0, pos) == self.limit - pos

    def error(self, message: str, *, tag: int | None = None, offset: int | None = None) -> DecodeError:
        return DecodeError(message, tag=tag, offset=None if offset is None else self.base + offset)

    # -- data sets -------------------------------------------------------------------
    def parse(
        self,
        pos: int,
        end: int,
        *,
        little: bool,
        implicit: bool,
        ctx: _Context,
        depth: int,
        in_item: bool,
        stop: int = _NO_STOP,
        into: dict[int, Any] | None = None,
        last: int = -1,
    ) -> tuple[dict[int, Any], int, bool]:
        """Parse elements from ``pos`` up to ``end`` (buffer offset; -1 = undefined length
        item ending at an item delimiter, or the end of data at top level), stopping before
        the first tag >= ``stop``. ``into``/``last`` continue an earlier scan.

        Returns the entries, the position after the data set, and whether tags ascended.
        """
        d: dict[int, Any] = {} if into is None else into
        if implicit:
            return self._parse_implicit(d, pos, end, little, ctx, depth, in_item, stop, last)
        lazy_sq = not self.strict  # defined-length sequences are parsed on first use
        state = [True]  # ascending
        scan = _scan_explicit
        while True:
            lim = self.limit if end < 0 else min(end, self.limit)
            pos, last = scan(self.buf, pos, lim, little, stop, last, lazy_sq, d)
            if end >= 0 and pos >= end:
                if pos > end:
                    self.fixup("element runs past the end of its item", offset=pos)
                break
            pos, action = self._slow(d, pos, end, little, False, ctx, depth, in_item, stop, last, state)
            if action is _STOP:
                break
            if action is _END_ITEM:
                return d, pos, state[0]
            if d:
                last = max(last, next(reversed(d)))
        return d, pos, state[0]

    def _parse_implicit(
        self,
        d: dict[int, Any],
        pos: int,
        end: int,
        little: bool,
        ctx: _Context,
        depth: int,
        in_item: bool,
        stop: int,
        last: int,
    ) -> tuple[dict[int, Any], int, bool]:
        state = [True]
        scan = _scan_implicit
        while True:
            lim = self.limit if end < 0 else min(end, self.limit)
            pos, last = scan(self.buf, pos, lim, little, stop, last, _SQ_TAGS, _SQ_RULES, d)
            if end >= 0 and pos >= end:
                if pos > end:
                    self.fixup("element runs past the end of its item", offset=pos)
                break
            pos, action = self._slow(d, pos, end, little, True, ctx, depth, in_item, stop, last, state)
            if action is _STOP:
                break
            if action is _END_ITEM:
                return d, pos, state[0]
            if d:
                last = max(last, next(reversed(d)))
        return d, pos, state[0]

    def _slow(
        self,
        d: dict[int, Any],
        pos: int,
        end: int,
        little: bool,
        implicit: bool,
        ctx: _Context,
        depth: int,
        in_item: bool,
        stop: int,
        last: int,
        state: list[bool],
    ) -> tuple[int, object]:
        """One element the fast loops don't handle: returns the next position and
        ``_NEXT`` (go on), ``_STOP`` (the data set stops before ``pos``) or ``_END_ITEM``
        (an item delimiter ended the item; ``pos`` is after it)."""
        buf, limit = self.buf, self.limit
        need = pos + (8 if implicit or buf[pos + 4 : pos + 6] not in _LONG else 12)
        if need > limit:
            if self.grow(need):
                return pos, _NEXT
            buf, limit = self.buf, self.limit
            if pos < limit:
                kind = "junk" if any(buf[pos:limit]) else "padding"
                self.fixup(
                    f"{limit - pos} bytes of trailing {kind} after the last element ignored",
                    offset=pos,
                    loss=kind == "junk",
                )
            elif end == -1 and in_item:
                self.fixup("data ended inside an item of undefined length", offset=pos, loss=True)
            return limit, _STOP
        if implicit:
            g, e, ln = _S_IMPL[little](buf, pos)
            vrb = None
            vpos = pos + 8
        else:
            g, e, vrb, ln = _S_HDR[little](buf, pos)
            if vrb in _LONG:
                ln = _S_UL[little](buf, pos + 8)[0]
                vpos = pos + 12
            elif vrb in _SHORT:
                vpos = pos + 8
            else:
                vpos = -1
        tag = g << 16 | e
        if tag == 0 and end < 0 and not in_item and self._only_zeros_from(pos):
            # NUL padding after the last element (e.g. to a media block size): one fix-up
            self.fixup(f"{self.limit - pos} bytes of trailing NUL padding ignored", offset=pos)
            return self.limit, _STOP
        if g == 0xFFFE:
            ln = _S_UL[little](buf, pos + 4)[0]
            if tag == ITEM_DELIM and in_item:
                if ln:
                    self.fixup(f"item delimiter with non-zero length {ln}", tag=tag, offset=pos)
                if end >= 0:
                    self.fixup("item delimiter in an item of defined length", tag=tag, offset=pos)
                return pos + 8, _END_ITEM
            if tag == SEQ_DELIM and in_item and end == -1:
                self.fixup("sequence delimiter where an item delimiter was expected", tag=tag, offset=pos)
                return pos, _END_ITEM
            self.fixup(f"unexpected delimiter {Tag(tag)} skipped", tag=tag, offset=pos)
            return pos + 8, _NEXT
        if tag >= stop:
            if depth == 0 and not in_item:
                self.stopped = True
                self.stopped_at = self.base + pos
            return pos, _STOP
        if vpos < 0:
            return self._odd_vr(d, pos, tag, vrb or b"", little, depth), _NEXT
        if tag < last:
            state[0] = False
        elif tag == last or tag in d:
            self.fixup(f"duplicate element {Tag(tag)}: the last one is kept", tag=tag, offset=pos)
        bound = end if end >= 0 else 0x7FFFFFFFFFFFFFFF
        return self._special(d, pos, tag, vrb, vpos, ln, little, implicit, ctx, depth, bound), _NEXT

    def _odd_vr(self, d: dict[int, Any], pos: int, tag: int, vrb: bytes, little: bool, depth: int) -> int:
        """An explicit-VR header whose VR is not a VR: tolerate as implicit VR for this element."""
        ln = int(_S_UL[little](self.buf, pos + 4)[0])
        self.fixup(f"invalid VR {vrb!r}: element read as implicit VR", tag=tag, offset=pos)
        vpos = pos + 8
        if ln == UNDEFINED or (vpos + ln > self.limit and not self.grow(vpos + ln)):
            raise self.error(f"invalid VR {vrb!r} with an unusable length {ln}", tag=tag, offset=pos)
        d[tag] = (None, vpos, ln)
        return vpos + ln

    def _special(
        self,
        d: dict[int, Any],
        pos: int,
        tag: int,
        vrb: bytes | None,
        vpos: int,
        ln: int,
        little: bool,
        implicit: bool,
        ctx: _Context,
        depth: int,
        bound: int,
    ) -> int:
        """Everything the fast loop does not do: sequences, undefined lengths, odd lengths,
        values past the buffer, big values. Returns the position after the element."""
        if ln == UNDEFINED:
            if vrb in (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV") or (vrb is None and tag == PIXEL_DATA):
                if vrb is None:
                    vrb = b"OB"
                if (
                    depth == 0
                    and self.fh is not None
                    and not self.final
                    and self.size - self.base - vpos >= BIG_VALUE
                ):
                    done = self._big_encapsulated(d, tag, vrb, vpos, little, implicit, ctx)
                    if done is not None:
                        return done
                return self._encapsulated(d, pos, tag, vrb, vpos, little)
            # SQ, UN (CP-246: UN of undefined length is an implicit VR LE sequence), implicit
            as_implicit = implicit or vrb != b"SQ"
            if vrb not in (b"SQ", b"UN", None):
                self.fixup(f"undefined length on VR {vrb!r}: read as a sequence", tag=tag, offset=pos)
            seq_ctx = ctx if as_implicit == implicit else ctx.child(None, little=True, implicit=True)
            seq, after = self.sequence(
                vpos, -1, little=seq_ctx.little, implicit=as_implicit, ctx=seq_ctx, depth=depth + 1
            )
            d[tag] = _seq_element(tag, seq, ctx, True, None if vrb in (b"SQ", None) else "UN")
            return after
        if ln & 1 and vrb != b"SQ":
            self.fixup(f"odd value length {ln}", tag=tag, offset=pos)
        vend = vpos + ln
        if vend > self.limit:
            if (
                self.fh is not None
                and not self.final
                and depth == 0
                and ln >= BIG_VALUE
                and vend <= self.size - self.base
            ):
                return self._big_value(d, tag, vrb, vpos, ln, little, implicit, ctx)
            if not self.grow(vend):
                # the value runs past the end of the data
                avail = self.limit - vpos
                if vrb == b"SQ" or (vrb is None and _is_sq(tag)):
                    self.fixup(
                        f"sequence length {ln} runs past the end of data", tag=tag, offset=pos, loss=True
                    )
                    ln = max(avail, 0)
                    vend = self.limit
                else:
                    self.fixup(
                        f"value length {ln} runs past the end of data ({max(avail, 0)} bytes present)",
                        tag=tag,
                        offset=pos,
                        loss=True,
                    )
                    d[tag] = (vrb, vpos, max(avail, 0))
                    return self.limit
        if vend > bound:
            self.fixup(f"value length {ln} runs past the end of its item", tag=tag, offset=pos)
        if vrb == b"SQ" or (vrb is None and (_is_sq(tag) or _starts_with_item(self.buf, vpos, ln, little))):
            seq, after = self.sequence(vpos, vend, little=little, implicit=implicit, ctx=ctx, depth=depth + 1)
            if after != vend:
                self.fixup("sequence content does not match its length", tag=tag, offset=pos)
            d[tag] = _seq_element(tag, seq, ctx, False, None)
            # never move back over bytes already parsed: rewinding lets nested undefined
            # lengths re-parse the same bytes exponentially often
            return max(after, vend)
        d[tag] = (vrb, vpos, ln)
        return vend

    def _big_value(
        self,
        d: dict[int, Any],
        tag: int,
        vrb: bytes | None,
        vpos: int,
        ln: int,
        little: bool,
        implicit: bool,
        ctx: _Context,
    ) -> int:
        """Read a large top-level value straight into its own buffer, then the rest."""
        assert self.fh is not None
        fh = self.fh
        if fh.seekable():
            fh.seek(self.origin + self.base + vpos)
            value = fh.read(ln)  # the one copy of these bytes
        else:
            have = self.buf[vpos : self.limit]
            value = have + fh.read(ln - len(have))
        d[tag] = (vrb, 0, len(value), value)
        return self._parse_tail(d, self.base + vpos + ln, little, implicit, ctx)

    def _parse_tail(self, d: dict[int, Any], after: int, little: bool, implicit: bool, ctx: _Context) -> int:
        """Parse what follows a value read into its own buffer (usually nothing or trailing
        padding), from file offset ``after``, into ``d``; the scan of this buffer is then done."""
        fh = self.fh
        assert fh is not None
        if after >= self.size:
            self.final = True
            return self.limit
        if fh.seekable():
            fh.seek(self.origin + after)
        tail = _Parser(
            fh.read(min(FIRST_CHUNK, self.size - after)),
            opts=self.opts,
            fh=fh,
            base=after,
            size=self.size,
            origin=self.origin,
        )
        stop = _stop_tag(self.opts)
        entries, _, _ = tail.parse(
            0, -1, little=little, implicit=implicit, ctx=ctx, depth=0, in_item=False, stop=stop
        )
        if tail.stopped:
            self.stopped_at = tail.stopped_at
        tail_buf = tail.buf
        for t, entry in entries.items():
            if type(entry) is int:
                entry = (*_entry_location(entry, tail_buf, ctx.little, ctx.implicit), tail_buf)
            elif type(entry) is tuple and len(entry) == 3:
                entry = (*entry, tail_buf)
            if t in d:
                self.fixup(f"duplicate element {Tag(t)}: the last one is kept", tag=t)
            d[t] = entry
        self.final = True
        return self.limit

    def _big_encapsulated(
        self,
        d: dict[int, Any],
        tag: int,
        vrb: bytes,
        vpos: int,
        little: bool,
        implicit: bool,
        ctx: _Context,
    ) -> int | None:
        """Large top-level encapsulated pixel data: find the sequence delimiter by reading only
        the item headers (a few: an offset table and fragments), read the items straight into
        their own buffer and parse what follows from a new one. None (file position restored)
        when there are many items or they are not well formed: then :meth:`_encapsulated` reads
        on chunk by chunk and reports what is wrong."""
        fh = self.fh
        assert fh is not None
        if not fh.seekable():
            return None
        start = self.origin + self.base + vpos  # file position of the first item
        end = self.origin + self.size
        hdr = _S_IMPL[little]
        p = start
        for _ in range(_MAX_PROBED_ITEMS):
            if p + 8 > end:
                break
            fh.seek(p)
            head = fh.read(8)
            if len(head) < 8:
                break
            g, e, ln = hdr(head, 0)
            t = g << 16 | e
            if t == SEQ_DELIM:
                fh.seek(start)
                value = fh.read(p - start)
                if len(value) != p - start:
                    break
                d[tag] = _encaps_element(tag, vrb, value)
                return self._parse_tail(d, p + 8 - self.origin, little, implicit, ctx)
            if t != ITEM or ln == UNDEFINED or p + 8 + ln > end:
                break
            p += 8 + ln
        fh.seek(self.origin + self.base + self.limit)
        return None

    def _encapsulated(
        self, d: dict[int, Any], pos: int, tag: int, vrb: bytes, vpos: int, little: bool
    ) -> int:
        """Encapsulated pixel data (PS3.5 A.4): items up to the sequence delimiter."""
        hdr = _S_IMPL[little]
        p = vpos
        while True:
            if p + 8 > self.limit and not self.grow(p + 8):
                self.fixup(
                    "data ended before the sequence delimiter of encapsulated pixel data",
                    tag=tag,
                    offset=p,
                    loss=True,
                )
                d[tag] = _encaps_element(tag, vrb, self.buf[vpos : self.limit])
                return self.limit
            g, e, n = hdr(self.buf, p)
            t = g << 16 | e
            if t == SEQ_DELIM:
                d[tag] = _encaps_element(tag, vrb, self.buf[vpos:p])
                return p + 8
            if t != ITEM:
                self.fixup(f"{Tag(t)} found among pixel data fragments; taken as the end", tag=tag, offset=p)
                d[tag] = _encaps_element(tag, vrb, self.buf[vpos:p])
                return p
            if n == UNDEFINED:
                raise self.error("pixel data fragment of undefined length", tag=tag, offset=p)
            if p + 8 + n > self.limit and not self.grow(p + 8 + n):
                self.fixup("pixel data fragment runs past the end of data", tag=tag, offset=p, loss=True)
                d[tag] = _encaps_element(tag, vrb, self.buf[vpos : self.limit])
                return self.limit
            p += 8 + n

    def sequence(
        self, pos: int, end: int, *, little: bool, implicit: bool, ctx: _Context, depth: int
    ) -> tuple[Sequence, int]:
        """Items of a sequence from ``pos``; ``end`` = -1 for undefined length."""
        if depth > self.opts.max_depth:
            raise self.error(f"sequences nested deeper than {self.opts.max_depth} levels", offset=pos)
        seq = Sequence()
        hdr = _S_IMPL[little]
        bound = end if end >= 0 else 0x7FFFFFFFFFFFFFFF
        while pos < bound:
            if pos + 8 > self.limit and not self.grow(pos + 8):
                if end < 0 or pos < self.limit:
                    self.fixup("data ended inside a sequence", offset=pos, loss=True)
                return seq, max(pos, self.limit) if end < 0 else end
            g, e, n = hdr(self.buf, pos)
            t = g << 16 | e
            if t == SEQ_DELIM:
                if end >= 0:
                    self.fixup("sequence delimiter in a sequence of defined length", offset=pos)
                if n:
                    self.fixup(f"sequence delimiter with non-zero length {n}", offset=pos)
                return seq, pos + 8
            if t != ITEM:
                if t == ITEM_DELIM:
                    self.fixup("stray item delimiter in a sequence skipped", offset=pos)
                    pos += 8
                    continue
                # Not an item: the sequence ended without its delimiter.
                self.fixup(f"{Tag(t)} found where an item was expected; sequence closed", offset=pos)
                return seq, pos
            ipos = pos + 8
            if n == UNDEFINED:
                entries, pos, asc = self.parse(
                    ipos, -1, little=little, implicit=implicit, ctx=ctx, depth=depth, in_item=True
                )
            else:
                iend = ipos + n
                if iend > bound:
                    self.fixup(f"item length {n} runs past the end of its sequence", offset=pos)
                    iend = bound
                if iend > self.limit and not self.grow(iend):
                    self.fixup(f"item length {n} runs past the end of data", offset=pos, loss=True)
                    iend = self.limit
                entries, pos, asc = self.parse(
                    ipos, iend, little=little, implicit=implicit, ctx=ctx, depth=depth, in_item=True
                )
                pos = max(pos, iend)  # never rewind (see _special)
            item_ctx = ctx
            if CHARSET_TAG in entries:
                item_ctx = ctx.child(_entry_value(entries[CHARSET_TAG], self.buf, ctx))
            item = Dataset._from_entries(entries, self.buf, item_ctx, asc)
            seq.append(item)
            if n == UNDEFINED:
                # provenance for the writer: this item had undefined length (PS3.5 7.5.1)
                seq.mark_undefined_length(item)
        return seq, pos


def _entry_location(pos: int, buf: bytes, little: bool, implicit: bool) -> tuple[bytes | None, int, int]:
    """(VR bytes or None, value offset, value length) of the element header at ``pos``."""
    if implicit:
        return None, pos + 8, _S_UL[little](buf, pos + 4)[0]
    vrb = buf[pos + 4 : pos + 6]
    if vrb in _LONG:
        return vrb, pos + 12, _S_UL[little](buf, pos + 8)[0]
    return vrb, pos + 8, _S_US[little](buf, pos + 6)[0]


def _entry_value(entry: Any, buf: bytes, ctx: _Context) -> bytes | None:
    """The raw value bytes of a raw entry (None for an element already built)."""
    if type(entry) is int:
        _, off, ln = _entry_location(entry, buf, ctx.little, ctx.implicit)
        return bytes(buf[off : off + ln])
    if type(entry) is tuple:
        return bytes((entry[3] if len(entry) > 3 else buf)[entry[1] : entry[1] + entry[2]])
    return None


def _seq_element(tag: int, seq: Sequence, ctx: _Context, undefined: bool, stored: str | None) -> DataElement:
    elem = DataElement(tag, VR.SQ, seq, source=ctx, undefined_length=undefined, stored_vr=stored)
    return elem


def _encaps_element(tag: int, vrb: bytes, raw: bytes) -> DataElement:
    vr = _VR_BY_BYTES.get(vrb) or VR.OB
    return DataElement(tag, vr, raw, raw=raw, undefined_length=True)


def _is_sq(tag: int) -> bool:
    return dictionary.vr_of(tag) == "SQ"


def _starts_with_item(buf: bytes, vpos: int, ln: int, little: bool) -> bool:
    if ln < 8:
        return False
    return buf[vpos : vpos + 4] == (b"\xfe\xff\x00\xe0" if little else b"\xff\xfe\xe0\x00")


def _maybe_sequence(tag: int, buf: bytes, vpos: int, ln: int, little: bool) -> bool:
    """Implicit VR: is this defined-length element a sequence?"""
    return _is_sq(tag) or ((tag >> 16) & 1 == 1 and _starts_with_item(buf, vpos, ln, little))


def _parse_sequence_bytes(buf: bytes, off: int, ln: int, ctx: _Context, implicit_le: bool) -> Sequence:
    """The items of a defined-length sequence kept as bytes until first used: an explicit
    VR SQ (read lazily) or a UN holding an implicit VR LE sequence (CP-246). The value is
    ``buf[off : off + ln]``, parsed in place: a copy per level would make nested sequences
    hold depth x size bytes."""
    if implicit_le and not (ctx.implicit and ctx.little):
        child = ctx.child(None, little=True, implicit=True)
    else:
        child = ctx.child(None)
    child.depth = ctx.depth + 1
    p = _Parser(buf, opts=ctx.opts, base=ctx.base)
    end = min(off + ln, len(buf))
    # the value is all the data there is: an undefined-length item inside must not run on
    # into the bytes after it (the enclosing data set has those; re-reading them here made
    # each sequence hold all the later ones: exponential)
    p.limit = end
    seq, _ = p.sequence(off, end, little=child.little, implicit=child.implicit, ctx=child, depth=child.depth)
    return seq


# ---------------------------------------------------------------------------------------
# file meta information and encoding detection


def _fixup(opts: ReadOptions, message: str, *, offset: int | None = None, tag: int | None = None) -> None:
    if opts.strict:
        raise InvalidDicomError(message, offset=offset, tag=tag)
    where = f" (offset {offset})" if offset is not None else ""
    warnings.warn(DicomWarning(message + where, tag=tag, offset=offset), stacklevel=4)


def _looks_explicit(buf: bytes, pos: int) -> bool:
    return buf[pos + 4 : pos + 6] in _VR_BY_BYTES


def _detect_encoding(buf: bytes, pos: int, size: int | None = None) -> tuple[bool, bool] | None:
    """(little, implicit) of a data set starting at ``pos``, or None if it is not one.
    ``size``: the length of all the data when ``buf`` holds only its start (a file read in
    chunks), so that the answer does not depend on how much was read."""
    end = len(buf) if size is None else size
    if len(buf) - pos < 8:
        return None
    explicit = _looks_explicit(buf, pos)
    g_le = buf[pos] | buf[pos + 1] << 8
    g_be = buf[pos] << 8 | buf[pos + 1]
    if explicit:
        little = g_le <= g_be or g_le == 0x0002
        fits = _explicit_fits
        if g_le != 0x0002 and not fits(buf, pos, little, end) and fits(buf, pos, not little, end):
            little = not little  # a first group like 3F03 looks byte-swapped: only one length fits
        return little, False
    # implicit VR: a small even group and a length that fits
    if g_le <= 0x7FE0 and g_le <= g_be:
        ln = _S_UL[True](buf, pos + 4)[0]
        if ln == UNDEFINED or pos + 8 + ln <= end or len(buf) >= FIRST_CHUNK:
            return True, True
    return None


def _explicit_fits(buf: bytes, pos: int, little: bool, end: int) -> bool:
    """Does the value of the explicit-VR element at ``pos`` end by ``end`` in this byte order?"""
    if buf[pos + 4 : pos + 6] in _LONG:
        if len(buf) - pos < 12:
            return False
        ln: int = _S_UL[little](buf, pos + 8)[0]
        return ln == UNDEFINED or pos + 12 + ln <= end
    short: int = _S_US[little](buf, pos + 6)[0]
    return pos + 8 + short <= end


def _plausible_data_set(window: bytes, size: int) -> bool:
    """Without preamble, prefix or meta: does a data set start at offset 0?

    ``window`` is the start of the data (the same first bytes whatever the source), ``size``
    its total length. One header that passes :func:`_detect_encoding` is common in random
    bytes, so this wants two headers in ascending tag order with values that fit in ``size``
    (or one element that is all the data, or one of undefined length)."""
    enc = _detect_encoding(window, 0, size)
    if enc is None:
        return False
    little, implicit = enc
    pos, last = 0, -1
    for _ in range(2):
        if pos == size:
            return last >= 0
        if pos + 8 > len(window):
            return pos > 0 and pos + 8 <= size  # a big first value: its header was checked
        g, e = _S_HDR4[little](window, pos)[:2]
        tag = g << 16 | e
        if tag <= last or g == 0xFFFE:
            return False
        if implicit:
            ln, vpos = _S_UL[little](window, pos + 4)[0], pos + 8
        else:
            vrb = window[pos + 4 : pos + 6]
            if vrb not in _VR_BY_BYTES:
                return False
            if vrb in _LONG:
                if pos + 12 > len(window):
                    return pos > 0 and pos + 12 <= size
                ln, vpos = _S_UL[little](window, pos + 8)[0], pos + 12
            else:
                ln, vpos = _S_US[little](window, pos + 6)[0], pos + 8
        if ln == UNDEFINED:
            return True  # a sequence or encapsulated pixel data
        pos, last = vpos + ln, tag
        if pos > size:
            return False
    return True


def _read_meta(p: _Parser, pos: int, opts: ReadOptions) -> tuple[Dataset, int]:
    """Group 0002 from ``pos``: Explicit VR LE (tolerating implicit VR), until the group ends."""
    implicit = not _looks_explicit(p.buf, pos)
    ctx = _Context(True, opts, implicit=implicit)
    if implicit:
        _fixup(opts, "File Meta Information is encoded in implicit VR", offset=pos)
    # the group ends at the first element of another group
    end = pos
    while True:
        if end + 12 > p.limit:
            p.grow(end + 12)
        # a header cut short by the end of data ends the group (parse() reports it)
        hdr_len = 8 if implicit or p.buf[end + 4 : end + 6] not in _LONG else 12
        if end + hdr_len > p.limit or p.buf[end : end + 2] != b"\x02\x00":
            break
        _, voff, vlen = _entry_location(end, p.buf, True, implicit)
        if voff + vlen > p.limit and not p.grow(voff + vlen):
            break
        end = voff + vlen
    entries, end, asc = p.parse(pos, end, little=True, implicit=implicit, ctx=ctx, depth=0, in_item=False)
    meta = Dataset._from_entries(entries, p.buf, ctx, asc)
    gl_raw = _entry_value(entries[0x00020000], p.buf, ctx) if 0x00020000 in entries else None
    if gl_raw is None:
        _fixup(opts, "File Meta Information has no group length (0002,0000)", offset=pos, tag=0x00020000)
    elif len(gl_raw) == 4:
        gl = _S_UL[True](gl_raw)[0]
        start = pos + 12
        if start + gl != end:
            _fixup(
                opts,
                f"File Meta Information group length is {gl} but the group is {end - start} bytes",
                offset=pos,
                tag=0x00020000,
            )
    return meta, end


def _transfer_syntax(meta: Dataset | None, opts: ReadOptions) -> TransferSyntax | None:
    if meta is None:
        return None
    entry = meta._d.get(0x00020010)
    raw = _entry_value(entry, meta._buf, cast(_Context, meta._source)) if entry is not None else None
    uid = raw.decode("latin-1").strip(" \x00") if raw is not None else meta.get(0x00020010)
    if not uid:
        _fixup(opts, "File Meta Information has no Transfer Syntax UID (0002,0010)", tag=0x00020010)
        return None
    ts = transfer_syntax(str(uid))
    if ts is None:
        # an unknown (private) transfer syntax: Explicit VR LE with encapsulated pixel data is the
        # only reasonable guess; the data set bytes decide below.
        message = f"unknown Transfer Syntax UID {uid!r}; the encoding is detected from the data"
        _fixup(opts, message, tag=0x00020010)
    return ts


# ---------------------------------------------------------------------------------------
# public API


def read(
    source: str | os.PathLike[str] | IO[bytes] | bytes | bytearray | memoryview,
    *,
    stop_before_pixels: bool = False,
    specific_tags: Iterable[Any] | None = None,
    stop_before: Any = None,
    strict: bool = False,
    charset: str | Iterable[str] | None = None,
    max_inflated_size: int = MAX_INFLATED_SIZE,
) -> Dataset:
    """Read a DICOM Part 10 file (or a bare data set) from a path, binary file or bytes.

    ``stop_before_pixels`` stops before (7FE0,0010) and never reads it; ``specific_tags``
    (tags or keywords) keeps only those elements (plus Specific Character Set);
    ``stop_before`` stops at a tag; ``charset`` overrides a wrong (0008,0005);
    ``strict`` turns every fix-up into an error. The File Meta Information is ``ds.meta``.
    ``max_inflated_size`` bounds the inflated size in bytes of a Deflated Explicit VR LE
    data set (default 256 MiB): a larger one (a "deflate bomb") raises :class:`DecodeError`.
    """
    opts = _options(stop_before_pixels, specific_tags, stop_before, strict, charset, max_inflated_size)
    if isinstance(source, bytes | bytearray | memoryview):
        return _read_bytes(bytes(source), opts, None, None, "<bytes>", lazy=True)
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        try:
            fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
        except IsADirectoryError:
            raise InvalidDicomError(f"{path}: is a directory") from None
        with fh:
            st = os.fstat(fh.fileno())
            first = fh.read(FIRST_CHUNK)
            ds = _read_bytes(first, opts, fh, st.st_size, str(path), lazy=opts.stop_before_pixels)
            _detach(ds, path, st)
            return ds
    fh2 = source
    start = fh2.tell() if fh2.seekable() else 0
    if fh2.seekable():
        end = fh2.seek(0, io.SEEK_END)
        fh2.seek(start)
        first = fh2.read(FIRST_CHUNK)
        return _read_bytes(first, opts, fh2, end - start, str(getattr(fh2, "name", "<file>")), start)
    return _read_bytes(fh2.read(), opts, None, None, getattr(fh2, "name", "<stream>"))


_COMMON_OPTIONS = {
    (spb, strict): ReadOptions(spb, strict=strict) for spb in (False, True) for strict in (False, True)
}


def _options(
    stop_before_pixels: bool,
    specific_tags: Iterable[Any] | None,
    stop_before: Any,
    strict: bool,
    charset: str | Iterable[str] | None,
    max_inflated_size: int = MAX_INFLATED_SIZE,
) -> ReadOptions:
    if (
        specific_tags is None
        and stop_before is None
        and charset is None
        and max_inflated_size == MAX_INFLATED_SIZE
    ):
        return _COMMON_OPTIONS[stop_before_pixels, strict]
    if max_inflated_size < 0:
        raise ValueError(f"max_inflated_size must be >= 0, not {max_inflated_size}")
    specific = None
    if specific_tags is not None:
        specific = frozenset(int(Tag(t)) for t in specific_tags)
    stop = int(Tag(stop_before)) if stop_before is not None else None
    cs: tuple[str, ...] | None = None
    if charset is not None:
        cs = (charset,) if isinstance(charset, str) else tuple(charset)
    return ReadOptions(stop_before_pixels, specific, stop, strict, cs, max_inflated_size=max_inflated_size)


def _read_bytes(
    first: bytes,
    opts: ReadOptions,
    fh: IO[bytes] | None,
    size: int | None,
    name: str,
    origin: int = 0,
    *,
    lazy: bool = False,
) -> Dataset:
    p = _Parser(first, opts=opts, fh=fh, size=size, origin=origin)
    buf = p.buf
    preamble: bytes | None = None
    meta: Dataset | None = None
    pos = 0
    if len(buf) >= 132 and buf[128:132] == b"DICM":
        preamble = buf[:128]
        pos = 132
    elif buf[:4] == b"DICM":
        _fixup(opts, "no preamble before 'DICM'", offset=0)
        pos = 4
    elif len(buf) >= 8 and buf[:2] == b"\x02\x00" and buf[2:4] in (b"\x00\x00", b"\x01\x00", b"\x02\x00"):
        _fixup(opts, "no preamble and no 'DICM' prefix: File Meta Information starts at offset 0", offset=0)
    else:
        if len(buf) < 8:
            raise InvalidDicomError(f"{name}: not a DICOM file ({len(buf)} bytes)", offset=0)
        if not _plausible_data_set(buf[:FIRST_CHUNK], p.size):
            raise InvalidDicomError(
                f"{name}: not a DICOM file (no 'DICM' prefix at offset 128 and no data set at offset 0)",
                offset=0,
            )
        _fixup(opts, "no preamble, 'DICM' prefix or File Meta Information: reading a bare data set", offset=0)
        pos = -1
    if pos >= 0:
        if p.limit < pos + 8:
            p.grow(pos + 8)
        if p.limit - pos >= 8 and p.buf[pos : pos + 2] == b"\x02\x00":
            meta, pos = _read_meta(p, pos, opts)
        elif p.limit - pos < 8:
            raise InvalidDicomError(f"{name}: no File Meta Information or data set after 'DICM'", offset=pos)
        else:
            _fixup(opts, "no File Meta Information after 'DICM'", offset=pos)
    else:
        pos = 0
    ts = _transfer_syntax(meta, opts)
    data_pos = pos
    deflated: bytes | None = None
    if ts is not None and ts.deflated:
        # Deflated Explicit VR LE (PS3.5 A.5): the rest of the file is a raw deflate stream
        if p.fh is not None:
            p.grow(p.size - p.base)
        inflated, used = _inflate(p.buf[pos:], opts, pos)
        deflated = bytes(p.buf[pos : pos + used])
        p = _Parser(inflated, opts=opts)
        data_pos = 0
    # encoding: from the transfer syntax, checked against the data
    if p.limit - data_pos < 8:
        p.grow(data_pos + 8)
    detected = _detect_encoding(p.buf, data_pos, p.size - p.base) if p.limit - data_pos >= 8 else None
    if ts is None:
        if detected is None and p.limit - data_pos >= 8:
            raise DecodeError(f"{name}: cannot tell how the data set is encoded", offset=data_pos + p.base)
        little, implicit = detected or (True, False)
        if meta is not None and meta.get(0x00020010):
            pass
        elif meta is not None:
            _fixup(opts, f"data set encoding detected as {_enc_name(little, implicit)}", offset=data_pos)
    else:
        little, implicit = ts.little_endian, ts.implicit_vr
        if detected is not None and detected != (little, implicit):
            dl, di = detected
            _fixup(
                opts,
                f"transfer syntax says {_enc_name(little, implicit)} but the data set is "
                f"{_enc_name(dl, di)}; reading it as found",
                offset=data_pos,
            )
            little, implicit = dl, di
    ctx = _Context(little, opts, implicit=implicit)
    ctx.deflated = deflated
    stop = _stop_tag(opts)
    # Lazy scanning: read now only up to Specific Character Set, the rest when first needed
    # (tolerant reads; strict reads validate everything now).
    lazy = lazy and not opts.strict and opts.specific_tags is None
    first_stop = min(stop, CHARSET_TAG + 1) if lazy else stop
    p.stopped = False
    entries, end_pos, asc = p.parse(
        data_pos, -1, little=little, implicit=implicit, ctx=ctx, depth=0, in_item=False, stop=first_stop
    )
    if opts.specific_tags is not None:
        keep = opts.specific_tags | {CHARSET_TAG}
        entries = {t: v for t, v in entries.items() if t in keep}
    if CHARSET_TAG in entries:
        ctx.charset_raw = _entry_value(entries[CHARSET_TAG], p.buf, ctx)
    ds = Dataset._from_entries(entries, p.buf, ctx, asc)
    ds.meta = meta
    ds.preamble = preamble
    if lazy and p.stopped and first_stop < stop:
        ctx.pending = (p, end_pos, stop)
        object.__setattr__(ds, "_more", True)
    elif deflated is None and opts.specific_tags is None:
        ctx.stopped_at = p.stopped_at  # (offsets in an inflated stream are not file offsets)
    return ds


def _detach(ds: Dataset, path: str, st: os.stat_result) -> None:
    """The file of a lazily scanned data set is closed: later scans reopen it by path."""
    ctx = ds._source
    if isinstance(ctx, _Context) and ctx.pending is not None:
        p = ctx.pending[0]
        p.fh = None
        p.reopen = (path, st)


def _inflate(data: bytes, opts: ReadOptions, offset: int) -> tuple[bytes, int]:
    """Inflate a Deflated Explicit VR LE data set (PS3.5 A.5) that starts at file ``offset``,
    never holding more than ``opts.max_inflated_size`` bytes (a deflate bomb is refused).
    Returns the inflated bytes and how many bytes of ``data`` the deflate stream took."""
    limit = opts.max_inflated_size
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)  # max_length: at most limit + 1 bytes are produced
    except zlib.error as exc:
        raise DecodeError(f"deflated data set cannot be inflated: {exc}", offset=offset) from None
    if len(out) > limit:
        raise DecodeError(
            f"deflated data set inflates to more than max_inflated_size={limit} bytes", offset=offset
        )
    # bytes after the end of the stream are ignored (some writers leave a gzip trailer there)
    if not d.eof:
        message = "deflated data set ends before the end of its deflate stream"
        if opts.strict:
            raise DecodeError(message, offset=offset + len(data))
        end = offset + len(data)
        warnings.warn(DicomWarning(f"{message} (offset {end})", offset=end, data_loss=True), stacklevel=4)
    return out, len(data) - len(d.unused_data)


def _stop_tag(opts: ReadOptions) -> int:
    """The first top-level tag not to read: stop_before_pixels, stop_before, specific_tags."""
    stop = _NO_STOP
    if opts.stop_before_pixels:
        stop = PIXEL_DATA
    if opts.stop_before is not None:
        stop = min(stop, opts.stop_before)
    if opts.specific_tags is not None and opts.specific_tags:
        stop = min(stop, max(max(opts.specific_tags), CHARSET_TAG) + 1)
    return stop


def _enc_name(little: bool, implicit: bool) -> str:
    return f"{'Implicit' if implicit else 'Explicit'} VR {'Little' if little else 'Big'} Endian"


def read_dataset(
    data: bytes,
    *,
    transfer_syntax_uid: str = EXPLICIT_VR_LITTLE_ENDIAN.uid,
    strict: bool = False,
    charset: str | Iterable[str] | None = None,
    max_inflated_size: int = MAX_INFLATED_SIZE,
) -> Dataset:
    """Read a bare data set (no preamble or meta) encoded in the given transfer syntax,
    as found in a DIMSE message or a DICOMweb part.

    ``max_inflated_size`` bounds the inflated size in bytes of a deflated data set (default
    256 MiB): a larger one raises :class:`DecodeError`."""
    opts = _options(False, None, None, strict, charset, max_inflated_size)
    ts = transfer_syntax(transfer_syntax_uid) or EXPLICIT_VR_LITTLE_ENDIAN
    if ts.deflated:
        data = _inflate(data, opts, 0)[0]
    p = _Parser(data, opts=opts)
    ctx = _Context(ts.little_endian, opts, implicit=ts.implicit_vr)
    entries, _, asc = p.parse(
        0, -1, little=ts.little_endian, implicit=ts.implicit_vr, ctx=ctx, depth=0, in_item=False
    )
    if CHARSET_TAG in entries:
        ctx.charset_raw = _entry_value(entries[CHARSET_TAG], p.buf, ctx)
    return Dataset._from_entries(entries, p.buf, ctx, asc)


_ = (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
