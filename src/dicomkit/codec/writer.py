"""Writing Part 10 files and bare data sets (PS3.10 section 7.1; PS3.5 chapter 7, sections
7.1-7.5, Annex A).

Owns the encoding of a :class:`~dicomkit.dataset.Dataset` to bytes in one of the four
uncompressed transfer syntaxes (Implicit VR LE, Explicit VR LE, Explicit VR BE, Deflated
Explicit VR LE: PS3.5 A.1-A.3, A.5) and in the encapsulated ones when the pixel data is
already encapsulated (PS3.5 A.4); element headers (PS3.5 7.1.2/7.1.3), sequences and
items of defined or undefined length (PS3.5 7.5), recomputed group lengths (PS3.5 7.2),
and the atomic file write (temp file in the same directory, fsync, rename).

Untouched elements are re-emitted from the bytes they were read from: runs of consecutive
raw elements of a data set read in the same encoding are copied in one slice, so reading
then writing an unchanged well-formed file gives the same bytes. Values that changed are
encoded by :func:`dicomkit.codec.values.encode_value`; values read in another byte order
are byte-swapped per VR. The File Meta Information is built by :mod:`dicomkit.codec.filemeta`.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from array import array
from typing import IO, Any, Literal

from dicomkit.codec.charset import Charset
from dicomkit.codec.encaps import encapsulate, extended_offsets
from dicomkit.codec.filemeta import build_meta
from dicomkit.codec.reader import _LONG_CODES, _S_HDR4, _SQ_CODE, _Context
from dicomkit.codec.values import encode_value
from dicomkit.dataset import _MISSING, DataElement, Dataset, Sequence
from dicomkit.errors import EncodeError, UnsupportedTransferSyntaxError
from dicomkit.uid import EXPLICIT_VR_LITTLE_ENDIAN, TransferSyntax, transfer_syntax
from dicomkit.vr import VR

__all__ = ["DEFAULT_DEFLATE_LEVEL", "SequenceLength", "deflate", "encoded_length", "write", "write_dataset"]

SequenceLength = Literal["preserve", "defined", "undefined"]

UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
CHARSET_TAG = 0x00080005
_LONG_VRS = frozenset(v for v in VR if v.long_header)
_SWAP_CODE = {
    VR.OW: "H", VR.US: "H", VR.SS: "H", VR.AT: "H",
    VR.OF: "I", VR.OL: "I", VR.UL: "I", VR.SL: "I", VR.FL: "I",
    VR.OD: "Q", VR.OV: "Q", VR.FD: "Q", VR.SV: "Q", VR.UV: "Q",
}  # fmt: skip
_ENCAPS_VRS = frozenset({VR.OB, VR.OW})
_IMPL = {True: struct.Struct("<HHL"), False: struct.Struct(">HHL")}
_SHORT_HDR = {True: struct.Struct("<HH2sH"), False: struct.Struct(">HH2sH")}
_LONG_HDR = {True: struct.Struct("<HH2sHL"), False: struct.Struct(">HH2sHL")}
_UL = {True: struct.Struct("<L"), False: struct.Struct(">L")}
_ITEM_HDR = {True: b"\xfe\xff\x00\xe0", False: b"\xff\xfe\xe0\x00"}
_ITEM_DELIM = {True: b"\xfe\xff\x0d\xe0\x00\x00\x00\x00", False: b"\xff\xfe\xe0\x0d\x00\x00\x00\x00"}
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import
_SEQ_DELIM = {True: b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", False: b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"}


def _swap(raw: bytes, code: str) -> bytes:
    a = array(code)
    size = a.itemsize
    whole = len(raw) - len(raw) % size
    a.frombytes(raw[:whole])
    a.byteswap()
    return a.tobytes() + bytes(raw[whole:])


def _resolve_ts(value: str | TransferSyntax | None, ds: Dataset | None) -> TransferSyntax:
    if value is None:
        meta = ds.meta if ds is not None else None
        uid = meta.get(0x00020010) if isinstance(meta, Dataset) else None
        if not uid:
            return EXPLICIT_VR_LITTLE_ENDIAN
        value = str(uid)
    if isinstance(value, TransferSyntax):
        return value
    ts = transfer_syntax(str(value).strip(" \x00"))
    if ts is None:
        raise UnsupportedTransferSyntaxError(f"unknown transfer syntax {value!r}")
    return ts


class _Encoder:
    """Encodes data sets in one encoding into one growing buffer."""

    def __init__(
        self, little: bool, implicit: bool, sequence_length: SequenceLength, *, validate: bool = True
    ) -> None:
        if sequence_length not in ("preserve", "defined", "undefined"):
            raise ValueError(
                f"sequence_length must be preserve, defined or undefined, not {sequence_length!r}"
            )
        self.little = little
        self.implicit = implicit
        self.mode = sequence_length
        self.out = bytearray()
        #: False while everything written so far is the bytes it was read from
        self.changed = False
        #: text values that fail their VR's checks: an error (True) or written verbatim
        self.validate = validate
        #: the buffer the top-level data set was read from, and the offset in it of
        #: ``out[0]`` while the output is a verbatim copy (None: not known yet). A raw
        #: element found elsewhere means something between was deleted or resized.
        self.src_buf: bytes | None = None
        self.delta: int | None = None
        #: the byte order of OW/OF/OL/OD/OV values given as bytes in memory: the data set's own
        #: (its File Meta Information's transfer syntax; little endian without one)
        self.memory_little = True
        self._impl = _IMPL[little]
        self._short = _SHORT_HDR[little]
        self._long = _LONG_HDR[little]
        self._ul = _UL[little]

    # -- headers ----------------------------------------------------------------------
    def header(self, tag: int, vr: str, length: int) -> None:
        g, e = tag >> 16, tag & 0xFFFF
        if self.implicit:
            self.out += self._impl.pack(g, e, length)
        elif vr in _LONG_VRS:
            self.out += self._long.pack(g, e, vr.encode(), 0, length)
        else:
            self.out += self._short.pack(g, e, vr.encode(), length)

    # -- data sets --------------------------------------------------------------------
    def dataset(self, ds: Dataset, parent_cs: Charset | None, *, top: bool = False) -> None:
        order = ds._order()  # completes a lazy scan
        d = ds._d
        src = ds._source
        same = isinstance(src, _Context) and src.little == self.little and src.implicit == self.implicit
        if not isinstance(src, _Context):
            self.changed = True
        buf = ds._buf
        view = memoryview(buf) if same and buf else None
        track = same and buf is self.src_buf and bool(buf)
        out = self.out
        cs = self._charset(ds, parent_cs)
        run_start = run_end = -1
        group = -1
        gl_pos = -1  # offset in out of the value of the current group's (gggg,0000)
        gl_old = -1
        implicit = self.implicit
        little = self.little
        hdr_from = _S_HDR4[little]
        ul_from = _UL[little].unpack_from
        long_codes = _LONG_CODES[little]
        sq_code = _SQ_CODE[little]
        for tag in order:
            if tag >> 16 != group:
                if run_end >= 0:
                    assert view is not None
                    out += view[run_start:run_end]
                    run_start = run_end = -1
                self._close_group(gl_pos, gl_old)
                gl_pos = -1
                group = tag >> 16
                if group == 0x0002 and top:
                    raise EncodeError(
                        f"File Meta Information element {_fmt(tag)} in the data set: put it in ds.meta",
                        tag=tag,
                    )
            entry = d[tag]
            if type(entry) is int and same and tag & 0xFFFF:
                # the element's end from its header (PS3.5 7.1.2/7.1.3)
                if implicit:
                    end = entry + 8 + ul_from(buf, entry + 4)[0]
                else:
                    vrc, ln = hdr_from(buf, entry)[2:]
                    if vrc == sq_code:
                        end = -1  # a lazily kept sequence: re-encoded (its items may need fixing)
                    elif vrc in long_codes:
                        end = entry + 12 + ul_from(buf, entry + 8)[0]
                    else:
                        end = entry + 8 + ln
                if end >= 0:
                    if entry != run_end:
                        if run_end >= 0:
                            assert view is not None
                            out += view[run_start:run_end]
                        run_start = entry
                        if track:
                            self._at_source(entry)
                    run_end = end
                    continue
            if run_end >= 0:
                assert view is not None
                out += view[run_start:run_end]
                run_start = run_end = -1
            elem = ds._element(tag)
            if not tag & 0xFFFF:
                # group length (PS3.5 7.2): recomputed when the group is complete
                raw = elem._raw
                gl_old = _UL[_src_little(elem)].unpack(raw)[0] if raw is not None and len(raw) == 4 else -1
                self.header(tag, "UL", 4)
                gl_pos = len(out)
                out += b"\0\0\0\0"
                continue
            self.element(elem, cs)
        if run_end >= 0:
            assert view is not None
            out += view[run_start:run_end]
        self._close_group(gl_pos, gl_old)

    def _at_source(self, offset: int) -> None:
        """The next output byte is the source byte at ``offset``: is the output still a
        verbatim copy (no element deleted, inserted or resized before it)?"""
        delta = offset - len(self.out)
        if self.delta is None:
            self.delta = delta
        elif delta != self.delta:
            self.changed = True

    def _close_group(self, gl_pos: int, old: int) -> None:
        if gl_pos < 0:
            return
        value = len(self.out) - gl_pos - 4
        if value != old:
            self.changed = True
        self._ul.pack_into(self.out, gl_pos, value)

    def _charset(self, ds: Dataset, parent: Charset | None) -> Charset | None:
        if CHARSET_TAG not in ds._d:
            return parent
        value = ds.get(CHARSET_TAG)
        if value is None or value == "" or value == ():
            return None
        try:
            return Charset.from_value(value if isinstance(value, str | tuple) else str(value))
        except Exception:  # an unusable charset only matters when text must be encoded
            return parent

    # -- elements ---------------------------------------------------------------------
    def element(self, elem: DataElement, cs: Charset | None) -> None:
        tag = elem.tag
        vr = elem.VR
        raw = elem._raw
        if vr is VR.SQ or (raw is None and isinstance(elem._value, Sequence)):
            self.sequence(elem, cs)
            return
        if elem.undefined_length and vr in _ENCAPS_VRS:
            self.encapsulated(elem)
            return
        src = elem._source
        header_vr: str = vr
        if raw is not None and isinstance(src, _Context):
            if src.little == self.little:
                value = raw
                if elem.stored_vr is not None and src.implicit == self.implicit:
                    header_vr = elem.stored_vr  # the same file encoding: keep UN as it was
                elif elem.stored_vr is not None or src.implicit != self.implicit:
                    self.changed = True
            else:
                self.changed = True
                code = _SWAP_CODE.get(vr)
                value = _swap(raw, code) if code is not None else raw
            if len(value) & 1:
                self.changed = True
                value = bytes(value) + vr.pad_byte
        else:
            self.changed = True
            v = elem._value
            if v is _MISSING:
                v = elem.value if raw is None else raw
            if raw is not None and v is raw:
                value = raw + vr.pad_byte if len(raw) & 1 else raw
            elif self.memory_little != self.little and vr in _MEMORY_SWAP and isinstance(v, _BYTES):
                value = encode_value(
                    tag,
                    vr,
                    _swap(bytes(v), _SWAP_CODE[vr]),
                    little=self.little,
                    charset=cs,
                    validate=self.validate,
                )
            else:
                value = encode_value(tag, vr, v, little=self.little, charset=cs, validate=self.validate)
        n = len(value)
        if not self.implicit and header_vr not in _LONG_VRS and n > 0xFFFF:
            header_vr = "UN"  # too long for a 16-bit length (PS3.5 6.2.2 note)
        if n > 0xFFFFFFFE:
            raise EncodeError(f"value of {n} bytes is too long", tag=tag, vr=vr)
        self.header(tag, header_vr, n)
        self.out += value

    def encapsulated(self, elem: DataElement) -> None:
        """Encapsulated pixel data (PS3.5 A.4): items, then a sequence delimiter."""
        v: Any = elem._raw
        if v is None:
            self.changed = True
            v = elem.value
            if isinstance(v, list | tuple):
                v = encapsulate(list(v))
            elif not isinstance(v, bytes | bytearray | memoryview):
                raise EncodeError("encapsulated pixel data must be bytes or a list of frames", tag=elem.tag)
        self.header(elem.tag, elem.VR, UNDEFINED)
        self.out += v
        self.out += _SEQ_DELIM[self.little]

    def sequence(self, elem: DataElement, cs: Charset | None) -> None:
        seq = elem.value
        if seq is None:
            seq = Sequence()
        if not isinstance(seq, list):
            raise EncodeError(
                f"a sequence value is a list of data sets, not {type(seq).__name__}", tag=elem.tag
            )
        mode = self.mode
        undefined = elem.undefined_length if mode == "preserve" else mode == "undefined"
        src = elem._source
        if (
            elem.stored_vr is not None
            and mode == "preserve"
            and isinstance(src, _Context)
            and (src.little, src.implicit) == (self.little, self.implicit)
        ):
            # UN holding a sequence (CP-246): kept as UN with implicit VR LE items
            self.header(elem.tag, "UN", UNDEFINED if undefined else 0)
            little = self.little
            self._set_encoding(True, True)
            seq_pos = len(self.out) - 4
            try:
                self._items(elem, seq, cs)
                if undefined:
                    self.out += _SEQ_DELIM[True]
            finally:
                self._set_encoding(little, False)
            if not undefined:
                self._ul.pack_into(self.out, seq_pos, len(self.out) - seq_pos - 4)
            return
        if elem.stored_vr is not None:
            self.changed = True  # UN holding a sequence: written as SQ
        self.header(elem.tag, "SQ", UNDEFINED if undefined else 0)
        seq_pos = len(self.out) - 4
        self._items(elem, seq, cs)
        if undefined:
            self.out += _SEQ_DELIM[self.little]
        else:
            self._ul.pack_into(self.out, seq_pos, len(self.out) - seq_pos - 4)

    def _set_encoding(self, little: bool, implicit: bool) -> None:
        self.little = little
        self.implicit = implicit
        self._impl = _IMPL[little]
        self._short = _SHORT_HDR[little]
        self._long = _LONG_HDR[little]
        self._ul = _UL[little]

    def _items(self, elem: DataElement, seq: list[Any], cs: Charset | None) -> None:
        mode = self.mode
        out = self.out
        ul = self._ul
        item_hdr = _ITEM_HDR[self.little]
        for item in seq:
            if not isinstance(item, Dataset):
                raise EncodeError(f"a sequence item is a Dataset, not {type(item).__name__}", tag=elem.tag)
            if mode == "preserve":
                item_undef = isinstance(seq, Sequence) and seq.has_undefined_length(item)
            else:
                item_undef = mode == "undefined"
            out += item_hdr
            if item_undef:
                out += b"\xff\xff\xff\xff"
                self.dataset(item, cs)
                out += _ITEM_DELIM[self.little]
            else:
                pos = len(out)
                out += b"\0\0\0\0"
                self.dataset(item, cs)
                ul.pack_into(out, pos, len(out) - pos - 4)


#: binary VRs whose in-memory bytes are in the data set's byte order (swapped when written in the other)
_MEMORY_SWAP = frozenset({VR.OW, VR.OF, VR.OL, VR.OD, VR.OV})
_BYTES = (bytes, bytearray, memoryview)


def _memory_little(ds: Dataset) -> bool:
    """The byte order of ``ds``'s in-memory OW/OF/OL/OD/OV bytes: its meta's transfer syntax."""
    meta = ds.meta
    if not isinstance(meta, Dataset):
        return True
    ts = transfer_syntax(str(meta.get(0x00020010) or "").strip(" \x00"))
    return True if ts is None else ts.little_endian


def _src_little(elem: DataElement) -> bool:
    src = elem._source
    return src.little if isinstance(src, _Context) else True


def _fmt(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _pixel_encapsulated(ds: Dataset) -> bool | None:
    """Is the top-level Pixel Data encapsulated (None: there is none)?"""
    if PIXEL_DATA not in ds:
        return None
    entry = ds._d[PIXEL_DATA]
    if type(entry) is not DataElement:
        return False  # raw entries are always of defined length
    return entry.undefined_length and entry.VR in _ENCAPS_VRS


def _check_conversion(ds: Dataset, ts: TransferSyntax) -> None:
    """Refuse, before anything is written, a conversion that needs a pixel data codec."""
    enc = _pixel_encapsulated(ds)
    if enc is None:
        return
    meta = ds.meta if isinstance(ds.meta, Dataset) else None
    src_uid = str(meta.get(0x00020010) or "").strip(" \x00") if meta is not None else ""
    if enc and not ts.encapsulated:
        raise UnsupportedTransferSyntaxError(
            f"the pixel data is encapsulated ({src_uid or 'compressed'}): writing it as {ts.name} "
            "needs it decompressed first: dicomkit.pixels.compress.transcode (or 'dicomkit convert')"
        )
    if not enc and ts.encapsulated:
        raise UnsupportedTransferSyntaxError(
            f"the pixel data is native: writing it as {ts.name} needs its encoder; compress it first "
            "with dicomkit.pixels.compress.transcode (or 'dicomkit convert')"
        )
    if enc and src_uid and src_uid != ts.uid:
        raise UnsupportedTransferSyntaxError(
            f"converting encapsulated pixel data from {src_uid} to {ts.uid} needs its codecs; "
            "transcode it first with dicomkit.pixels.compress.transcode (or 'dicomkit convert')"
        )


#: the largest offset a Basic Offset Table can hold (PS3.5 A.4): beyond it, an Extended Offset Table
BOT_LIMIT = 0xFFFFFFFF


def _with_extended_offsets(ds: Dataset) -> Dataset:
    """Pixel data given as frames too big for a Basic Offset Table: a shallow copy of ``ds``
    with the frames encapsulated under an Extended Offset Table (7FE0,0001) and its lengths
    (7FE0,0002) (PS3.3 C.7.6.3.1.8). Otherwise ``ds`` itself."""
    pix = ds._d.get(PIXEL_DATA)
    if type(pix) is not DataElement or not pix.undefined_length or pix._raw is not None:
        return ds
    frames = pix._value
    if not isinstance(frames, list | tuple):
        return ds
    last = sum(8 + len(f) + (len(f) & 1) for f in frames[:-1])
    if last <= BOT_LIMIT:
        return ds
    eot, lengths = extended_offsets(list(frames))
    out = ds.copy()
    out[0x7FE00001] = DataElement(0x7FE00001, VR.OV, eot)
    out[0x7FE00002] = DataElement(0x7FE00002, VR.OV, lengths)
    value = encapsulate(list(frames), extended=True)
    out[PIXEL_DATA] = DataElement(PIXEL_DATA, pix.VR, value, undefined_length=True)
    return out


def _source_start(ds: Dataset) -> int | None:
    """Where the top-level data set of ``ds`` starts in the buffer it was read from (None:
    not read from a file, or not known)."""
    meta = ds.meta
    if not isinstance(meta, Dataset) or not isinstance(meta._source, _Context):
        return None if ds.meta is not None or not isinstance(ds._source, _Context) else 0
    ts = transfer_syntax(str(meta.get(0x00020010) or "").strip(" \x00"))
    if ts is not None and ts.deflated:
        return 0  # the data set is the inflated stream
    entry = meta._d.get(0x00020000)  # before get(): that makes the raw entry an element
    gl = meta.get(0x00020000)
    if type(entry) is not int:
        entry = 132 if ds.preamble is not None else -1  # after the preamble and "DICM"
    if not isinstance(gl, int) or entry < 0:
        return None
    return entry + 12 + gl  # (0002,0000) is Explicit VR LE UL: 12 bytes (PS3.10 7.1)


def _encode(
    ds: Dataset,
    ts: TransferSyntax,
    sequence_length: SequenceLength,
    *,
    deflate_level: int = -1,
    validate: bool = True,
) -> tuple[bytes | bytearray, bool]:
    _check_conversion(ds, ts)
    ds = _with_extended_offsets(ds)
    enc = _Encoder(ts.little_endian, ts.implicit_vr, sequence_length, validate=validate)
    enc.memory_little = _memory_little(ds)
    start = _source_start(ds)
    if start is not None:
        ds._order()  # a lazily scanned data set: its final buffer
        enc.src_buf = ds._buf
        enc.delta = start
    enc.dataset(ds, None, top=True)
    if start is not None and len(enc.out) + start < len(ds._buf):
        # the last elements were deleted, or the source had more after them. (A larger
        # output says nothing: a big value read from a file is not in ``ds._buf``.)
        enc.changed = True
    body: bytes | bytearray = enc.out
    if ts.deflated:
        original = _original_stream(ds, start, enc)
        body = original if original is not None else deflate(body, deflate_level)
        if len(body) & 1:
            body += b"\0"  # the file stays of even length (PS3.5 A.5)
    return body, enc.changed


def _original_stream(ds: Dataset, start: int | None, enc: _Encoder) -> bytes | None:
    """The deflate stream a Deflated Explicit VR LE data set was read from, when the data set is
    written back unchanged (its encoding equals the inflated source byte for byte): rewriting an
    untouched deflated file keeps it byte-identical whatever compressor made it."""
    ctx = ds._source
    if start != 0 or enc.changed or not isinstance(ctx, _Context) or ctx.deflated is None:
        return None
    return ctx.deflated if enc.out == ds._buf else None


#: the compression level (zlib's scale, 0-9) of Deflated Explicit VR Little Endian data sets
DEFAULT_DEFLATE_LEVEL = 6

_UNSET: Any = object()
#: ISA-L's zlib-compatible module when the optional ``isal`` package is installed (looked
#: up on first use, not at import); None: the standard library's zlib
_isal_zlib: Any = _UNSET


def deflate(data: bytes | bytearray, level: int = -1) -> bytes:
    """``data`` as a raw deflate stream (RFC 1951, no zlib or gzip wrapper: PS3.5 A.5).

    ``level`` is zlib's 0 (stored) to 9 (smallest); -1 is :data:`DEFAULT_DEFLATE_LEVEL`.
    With the optional ``isal`` package (python-isal, Intel ISA-L; ``pip install
    dicomkit[speedups]``), levels 1-9 use ISA-L's compressor, several times faster than
    zlib at a compression ratio about as good: 1-3 map to ISA-L level 1, 4-6 to 2 (its
    default), 7-9 to 3. Any inflater reads the result; without ``isal``, stdlib zlib.
    """
    global _isal_zlib
    if level == -1:
        level = DEFAULT_DEFLATE_LEVEL
    if not 0 <= level <= 9:
        raise ValueError(f"deflate_level is 0..9 (or -1 for the default), not {level}")
    if _isal_zlib is _UNSET:
        import importlib

        try:
            _isal_zlib = importlib.import_module("isal.isal_zlib")
        except ImportError:
            _isal_zlib = None
    if level and _isal_zlib is not None:
        c = _isal_zlib.compressobj((level + 2) // 3, _isal_zlib.DEFLATED, -15)
    else:
        c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return bytes(c.compress(data) + c.flush())


def write_dataset(
    ds: Dataset,
    transfer_syntax: str | TransferSyntax,
    *,
    sequence_length: SequenceLength = "preserve",
    deflate_level: int = -1,
    validate: bool = True,
) -> bytes:
    """The bare data set (no preamble or File Meta Information) encoded in
    ``transfer_syntax``, as a DIMSE message or a DICOMweb part carries it. The options
    are :func:`write`'s."""
    ts = _resolve_ts(transfer_syntax, None)
    return bytes(_encode(ds, ts, sequence_length, deflate_level=deflate_level, validate=validate)[0])


def encoded_length(
    obj: DataElement | Dataset,
    transfer_syntax: str | TransferSyntax,
    *,
    charset: Charset | None = None,
    validate: bool = True,
) -> int:
    """The value length ``obj`` has when encoded in ``transfer_syntax`` (PS3.5 7.1): of a
    :class:`DataElement`, its value (of a sequence: all its items with their item and
    delimitation headers, as :func:`write` would emit them); of a :class:`Dataset`, its
    content as an item's value. ``charset`` is the character set in force for text values
    made in memory (the item's own (0008,0005) takes precedence); :class:`EncodeError`
    when a value cannot be encoded."""
    ts = _resolve_ts(transfer_syntax, None)
    enc = _Encoder(ts.little_endian, ts.implicit_vr, "preserve", validate=validate)
    if isinstance(obj, Dataset):
        enc.dataset(obj, charset)
        return len(enc.out)
    enc.element(obj, charset)
    out = enc.out
    header = 8 if ts.implicit_vr or out[4:6].decode("latin-1") not in _LONG_VRS else 12
    return len(out) - header


def write(
    ds: Dataset,
    dest: str | os.PathLike[str] | IO[bytes],
    *,
    transfer_syntax: str | TransferSyntax | None = None,
    sequence_length: SequenceLength = "preserve",
    preamble: bytes | None = None,
    deflate_level: int = -1,
    validate: bool = True,
) -> None:
    """Write ``ds`` as a DICOM Part 10 file to a path (atomically) or a binary file.

    The transfer syntax is ``transfer_syntax``, else the one in ``ds.meta``, else Explicit
    VR Little Endian. The File Meta Information is ``ds.meta`` completed and corrected (see
    :func:`dicomkit.codec.filemeta.build_meta`). ``sequence_length`` keeps each sequence's
    and item's defined or undefined length as read ("preserve"), or writes them all
    "defined" or "undefined". ``preamble`` (128 bytes) defaults to ``ds.preamble``, else
    zeros. ``deflate_level`` (zlib's 0-9; -1: :data:`DEFAULT_DEFLATE_LEVEL`) applies to
    Deflated Explicit VR Little Endian (see :func:`deflate`). ``validate=False`` writes text
    values that fail their VR's checks verbatim instead of raising :class:`EncodeError`
    (see :func:`dicomkit.codec.values.encode_value`); an element built from raw bytes,
    ``DataElement(tag, vr, raw=b"...")``, is always written as is (padded to even length).
    Nothing is written when encoding fails; a path is replaced only by a complete file.
    """
    ts = _resolve_ts(transfer_syntax, ds)
    pre = preamble if preamble is not None else ds.preamble
    if pre is None:
        pre = bytes(128)
    if len(pre) != 128:
        raise ValueError(f"the preamble is 128 bytes, not {len(pre)}")
    body, changed = _encode(ds, ts, sequence_length, deflate_level=deflate_level, validate=validate)
    meta = build_meta(ds, ts, unchanged=not changed, validate=validate)
    menc = _Encoder(True, False, "preserve")
    menc.dataset(meta, None)
    chunks = (bytes(pre), b"DICM", menc.out, body)
    if isinstance(dest, str | os.PathLike):
        _atomic_write(os.fspath(dest), chunks)
    else:
        for c in chunks:
            dest.write(c)


def _atomic_write(path: str, chunks: tuple[bytes | bytearray, ...]) -> None:
    """Temp file in the destination's directory, write, flush, fsync, rename over ``path``:
    a reader (or a crash) sees the old file or the complete new one, never a part. The
    directory is not fsynced (it would cost about a third of a small file's write time):
    after a power loss the rename itself may be lost, leaving the previous version."""
    import tempfile  # not at import time: it costs `import dicomkit` a few milliseconds

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes the file 0600: give it the mode a plain open() would (or the replaced file's)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_UMASK
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            for c in chunks:
                fh.write(c)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
