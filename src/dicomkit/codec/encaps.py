"""Encapsulated pixel data: fragments, offset tables and frames (PS3.5 section A.4).

The value of an encapsulated (7FE0,0010) is a sequence of items: the Basic Offset Table
item (possibly empty), then the fragments of the compressed frames, up to a sequence
delimiter (not part of the value). This module splits that value into fragments and
finds each frame's fragments from, in order of preference:

1. the Extended Offset Table (7FE0,0001) with its lengths (7FE0,0002) (PS3.3 C.7.6.3.1.8);
2. the Basic Offset Table (PS3.5 A.4, Table A.4-1);
3. the fragment count: one frame, or one fragment per frame;
4. frame-start markers in the fragment data (JPEG/JPEG-LS SOI ``FFD8``, JPEG 2000
   codestream ``FF4FFF51`` or JP2 signature box, RLE header) when nothing else can tell.

One frame is extracted without touching the fragments of the others.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dicomkit.dataset import Dataset
from dicomkit.errors import DecodeError, PixelDataError

__all__ = [
    "EncapsulatedPixelData",
    "encapsulate",
    "encapsulated_frames",
    "extended_offsets",
    "get_frame",
    "iter_frames",
    "parse_encapsulated",
]

_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD
_HDR = struct.Struct("<HHL")


@dataclass(frozen=True, slots=True)
class EncapsulatedPixelData:
    """The items of an encapsulated Pixel Data value.

    ``offsets`` is the Basic Offset Table (may be empty); ``fragments`` the value of each
    fragment item (memoryviews on the element's bytes); ``positions`` the byte offset of
    each fragment's item tag counted from the first fragment item, the reference point of
    both offset tables.
    """

    offsets: tuple[int, ...]
    fragments: tuple[memoryview, ...]
    positions: tuple[int, ...]

    def frame_fragments(
        self, number_of_frames: int, extended: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    ) -> list[list[memoryview]]:
        """The fragments of each frame (see the module docstring for the rules)."""
        n = max(number_of_frames, 1)
        frags = self.fragments
        if extended is not None:
            eot, lengths = extended
            if len(eot) != n or len(lengths) != n:
                raise PixelDataError(
                    f"Extended Offset Table has {len(eot)} offsets and {len(lengths)} lengths for {n} frames"
                )
            return [self._by_extended(off, ln) for off, ln in zip(eot, lengths, strict=True)]
        if self.offsets:
            return self._by_offsets(n)
        if n == 1:
            return [list(frags)]
        if len(frags) == n:
            return [[f] for f in frags]
        starts = [i for i, f in enumerate(frags) if _is_frame_start(f)]
        if len(starts) == n and starts[0] == 0:
            bounds = [*starts, len(frags)]
            return [list(frags[bounds[i] : bounds[i + 1]]) for i in range(n)]
        raise PixelDataError(
            f"cannot tell which of {len(frags)} fragments belong to each of {n} frames: "
            "no offset table and no recognisable frame boundaries"
        )

    def _by_offsets(self, n: int) -> list[list[memoryview]]:
        offs = self.offsets
        if len(offs) != n:
            raise PixelDataError(f"Basic Offset Table has {len(offs)} entries for {n} frames")
        index = {p: i for i, p in enumerate(self.positions)}
        out: list[list[memoryview]] = []
        for k, off in enumerate(offs):
            first = index.get(off)
            if first is None:
                raise PixelDataError(f"Basic Offset Table entry {k} ({off}) does not point at a fragment")
            if k + 1 < n:
                last = index.get(offs[k + 1])
                if last is None or last <= first:
                    raise PixelDataError(
                        f"Basic Offset Table entry {k + 1} ({offs[k + 1]}) is not after entry {k}"
                    )
            else:
                last = len(self.fragments)
            out.append(list(self.fragments[first:last]))
        return out

    def _by_extended(self, off: int, length: int) -> list[memoryview]:
        index = {p: i for i, p in enumerate(self.positions)}
        i = index.get(off)
        if i is None:
            raise PixelDataError(f"Extended Offset Table entry {off} does not point at a fragment")
        got: list[memoryview] = []
        size = 0
        while size < length and i < len(self.fragments):
            got.append(self.fragments[i])
            size += len(self.fragments[i])
            i += 1
        if size < length:
            raise PixelDataError(f"frame at offset {off} needs {length} bytes but its fragments hold {size}")
        if size > length:
            got[-1] = got[-1][: len(got[-1]) - (size - length)]
        return got


def parse_encapsulated(value: bytes | memoryview) -> EncapsulatedPixelData:
    """Split an encapsulated Pixel Data value into its offset table and fragments.

    Raises :class:`DecodeError` (with the offset within the value) for a malformed item.
    """
    mv = memoryview(value)
    n = len(mv)
    if n < 8:
        raise DecodeError(
            "encapsulated pixel data too short for a Basic Offset Table item", tag=0x7FE00010, offset=0
        )
    g, e, ln = _HDR.unpack_from(mv, 0)
    if (g << 16 | e) != _ITEM:
        raise DecodeError(
            f"encapsulated pixel data does not start with an item tag but ({g:04X},{e:04X})",
            tag=0x7FE00010,
            offset=0,
        )
    if ln % 4 or 8 + ln > n:
        raise DecodeError(f"Basic Offset Table length {ln} is invalid", tag=0x7FE00010, offset=4)
    offsets = struct.unpack(f"<{ln // 4}L", mv[8 : 8 + ln])
    pos = 8 + ln
    first = pos
    fragments: list[memoryview] = []
    positions: list[int] = []
    while pos + 8 <= n:
        g, e, ln = _HDR.unpack_from(mv, pos)
        tag = g << 16 | e
        if tag == _SEQ_DELIM:
            break
        if tag != _ITEM:
            raise DecodeError(
                f"({g:04X},{e:04X}) where a fragment item was expected", tag=0x7FE00010, offset=pos
            )
        if pos + 8 + ln > n:
            raise DecodeError(
                f"fragment length {ln} runs past the end of the pixel data", tag=0x7FE00010, offset=pos
            )
        positions.append(pos - first)
        fragments.append(mv[pos + 8 : pos + 8 + ln])
        pos += 8 + ln
    return EncapsulatedPixelData(offsets, tuple(fragments), tuple(positions))


def _is_frame_start(frag: memoryview) -> bool:
    head = bytes(frag[:12])
    if head[:2] == b"\xff\xd8":  # JPEG, JPEG-LS: SOI
        return True
    if head[:4] == b"\xff\x4f\xff\x51":  # JPEG 2000 / HTJ2K codestream: SOC SIZ
        return True
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":  # JP2 signature box
        return True
    if len(frag) >= 64:  # RLE header: segment count 1..15 and the first offset is 64
        count, first = struct.unpack_from("<LL", frag, 0)
        return bool(1 <= count <= 15 and first == 64)
    return False


def _frames_of(ds: Dataset) -> tuple[EncapsulatedPixelData, list[list[memoryview]]]:
    if 0x7FE00010 not in ds:
        raise PixelDataError("the data set has no Pixel Data (7FE0,0010)")
    elem = ds[0x7FE00010]
    if not elem.undefined_length:
        raise PixelDataError("Pixel Data is native (defined length), not encapsulated")
    enc = parse_encapsulated(elem.value)
    n = _int(ds.get(0x00280008), 1)
    extended: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    if 0x7FE00001 in ds and 0x7FE00002 in ds:
        extended = (_uv(ds[0x7FE00001].value), _uv(ds[0x7FE00002].value))
    return enc, enc.frame_fragments(n, extended)


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _uv(value: Any) -> tuple[int, ...]:
    """Extended Offset Table values are OV (64-bit unsigned, little endian bytes)."""
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return struct.unpack(f"<{len(raw) // 8}Q", raw[: len(raw) // 8 * 8])
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value)


def encapsulated_frames(ds: Dataset) -> list[bytes]:
    """Every frame of an encapsulated Pixel Data as one bytes object per frame."""
    _, frames = _frames_of(ds)
    return [b"".join(f) for f in frames]


def iter_frames(ds: Dataset) -> Iterator[bytes]:
    """Frames one by one (each joined from its fragments)."""
    _, frames = _frames_of(ds)
    for f in frames:
        yield b"".join(f)


def get_frame(ds: Dataset, index: int) -> bytes:
    """Frame ``index`` (0-based) of an encapsulated Pixel Data."""
    _, frames = _frames_of(ds)
    if not -len(frames) <= index < len(frames):
        raise PixelDataError(f"frame {index} requested but there are {len(frames)} frames")
    return b"".join(frames[index])


def encapsulate(frames: list[bytes] | list[memoryview], *, extended: bool = False) -> bytes:
    """The value of an encapsulated Pixel Data element (PS3.5 A.4) holding ``frames``, one
    fragment per frame, each padded to even length: with a Basic Offset Table, or with an
    empty one when ``extended`` (the caller then writes the Extended Offset Table, see
    :func:`extended_offsets`). A Basic Offset Table cannot point past 4 GiB: such frames
    need ``extended=True``."""
    out = bytearray()
    offsets: list[int] = []
    pos = 0
    for frame in frames:
        n = len(frame) + (len(frame) & 1)
        offsets.append(pos)
        pos += 8 + n
    if not extended and offsets and offsets[-1] > 0xFFFFFFFF:
        raise PixelDataError("frames of 4 GiB or more in total need an Extended Offset Table (extended=True)")
    out += _HDR.pack(0xFFFE, 0xE000, 0 if extended else 4 * len(offsets))
    if not extended:
        out += struct.pack(f"<{len(offsets)}L", *offsets)
    for frame in frames:
        n = len(frame)
        if n + (n & 1) > 0xFFFFFFFE:
            raise PixelDataError(f"a frame of {n} bytes does not fit in one fragment")
        out += _HDR.pack(0xFFFE, 0xE000, n + (n & 1))
        out += frame
        if n & 1:
            out += b"\0"
    return bytes(out)


def extended_offsets(frames: list[bytes] | list[memoryview]) -> tuple[bytes, bytes]:
    """The values of Extended Offset Table (7FE0,0001) and Extended Offset Table Lengths
    (7FE0,0002) (OV, little endian) for :func:`encapsulate` ``(frames, extended=True)``."""
    offs: list[int] = []
    pos = 0
    for frame in frames:
        offs.append(pos)
        pos += 8 + len(frame) + (len(frame) & 1)
    lengths = [len(f) for f in frames]
    return struct.pack(f"<{len(offs)}Q", *offs), struct.pack(f"<{len(lengths)}Q", *lengths)
