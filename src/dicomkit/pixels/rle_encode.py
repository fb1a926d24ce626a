"""RLE Lossless encoding (PS3.5 Annex G), vectorised with numpy.

A frame becomes a 64-byte header (segment count, then 15 segment offsets, little endian
32-bit) followed by one PackBits segment per byte plane of each sample, most significant
byte first (G.2, G.4). Each row of a segment is encoded on its own (runs never cross a row
boundary, G.3.1) and each segment is padded to an even length with a zero byte.

Run choice (the same as pydicom's reference encoder, so the output can be compared byte for
byte): a run of two or more equal bytes is a replicate run (``257 - n``, split at 128, a
left-over single byte written as a one-byte literal); single bytes between replicate runs
are gathered into literal runs (``n - 1``, split at 128).

The whole segment is built without a Python loop per run: the runs of every row are found
with one comparison, replicate runs and literal spans are cut into chunks of at most 128
with ``np.repeat``, and the header bytes and payloads are scattered into the output array
at offsets given by a cumulative sum. (imagecodecs' ``packbits_encode`` chooses runs
differently — e.g. it writes ``01 01 02`` as one literal — so it is not used as a fast
path: the output here is defined by the rule above.)
"""

from __future__ import annotations

import struct

import numpy as np

from dicomkit.errors import PixelDataError

__all__ = ["encode_rle_frame", "encode_segment", "encode_segments"]

_MAX_SEGMENTS = 15


def _chunks(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut spans (start, length) into chunks of at most 128: (chunk starts, chunk lengths)."""
    count = (lengths + 127) // 128
    first = np.cumsum(count) - count
    k = np.arange(int(count.sum()), dtype=np.intp) - np.repeat(first, count)  # chunk index in its span
    span_start = np.repeat(starts, count)
    span_len = np.repeat(lengths, count)
    chunk_start = span_start + 128 * k
    chunk_len = np.minimum(span_len - 128 * k, 128)
    return chunk_start, chunk_len


def encode_segments(planes: np.ndarray) -> list[bytes]:
    """Byte planes (segments, rows, columns) of ``uint8`` as PackBits segments (G.3), each row
    encoded separately, each segment padded to an even length. All planes are encoded in one
    pass: runs never cross a row, so the planes' rows are simply stacked."""
    planes = np.ascontiguousarray(planes, dtype=np.uint8)
    if planes.ndim != 3:
        raise PixelDataError(f"RLE segments are encoded from (segments, rows, columns), not {planes.shape}")
    count, rows, cols = planes.shape
    if planes.size == 0:
        return [b""] * count
    grid = planes.reshape(count * rows, cols)
    flat = grid.reshape(-1)
    n = flat.size
    # a run starts at each row start and wherever the byte changes
    is_start = np.ones(n, dtype=bool)
    if cols > 1:
        is_start.reshape(count * rows, cols)[:, 1:] = grid[:, 1:] != grid[:, :-1]
    run_start = np.flatnonzero(is_start)
    run_len = np.diff(np.append(run_start, n))
    rep = run_len >= 2
    # literal spans: consecutive single-byte runs within one row
    row_start = (run_start % cols) == 0
    prev_rep = np.concatenate(([True], rep[:-1]))
    opens = (~rep) & (prev_rep | row_start)  # a literal span opens here
    span_id = np.cumsum(opens[~rep]) - 1
    lit_span_start = run_start[opens]
    lit_span_len = np.bincount(span_id, minlength=lit_span_start.size).astype(np.intp)
    r_start, r_len = _chunks(run_start[rep], run_len[rep])
    l_start, l_len = _chunks(lit_span_start, lit_span_len)
    # tokens in input order: (start, length, replicate?)
    t_start = np.concatenate((r_start, l_start))
    t_len = np.concatenate((r_len, l_len))
    t_rep = np.concatenate((np.ones(r_start.size, dtype=bool), np.zeros(l_start.size, dtype=bool)))
    order = np.argsort(t_start, kind="stable")
    t_start, t_len, t_rep = t_start[order], t_len[order], t_rep[order]
    # a replicate chunk of one byte (the tail of a run) is written as a one-byte literal
    single = t_rep & (t_len == 1)
    size = np.where(t_rep, 2, t_len + 1)
    off = np.cumsum(size) - size
    total = int(size.sum())
    out = np.empty(total, dtype=np.uint8)
    header = np.where(t_rep, (257 - t_len) & 0xFF, t_len - 1)
    header[single] = 0
    out[off] = header.astype(np.uint8)
    out[off[t_rep] + 1] = flat[t_start[t_rep]]
    lit = ~t_rep
    ls, ll, lo = t_start[lit], t_len[lit], off[lit]
    if ls.size:
        first = np.cumsum(ll) - ll
        within = np.arange(int(ll.sum()), dtype=np.intp) - np.repeat(first, ll)
        out[np.repeat(lo + 1, ll) + within] = flat[np.repeat(ls, ll) + within]
    # segment k starts with the first token at or after its first byte
    first_token = np.searchsorted(t_start, np.arange(count + 1) * rows * cols)
    bounds = [int(off[i]) if i < off.size else total for i in first_token]
    segments = []
    for k in range(count):
        seg = out[bounds[k] : bounds[k + 1]].tobytes()
        segments.append(seg + b"\0" if len(seg) & 1 else seg)
    return segments


def encode_segment(plane: np.ndarray) -> bytes:
    """One byte plane (rows, columns) of ``uint8`` as a PackBits segment (G.3), rows encoded
    separately, padded to an even length."""
    plane = np.asarray(plane)
    if plane.ndim != 2:
        raise PixelDataError(f"an RLE segment is encoded from a 2-D byte plane, not shape {plane.shape}")
    return encode_segments(plane[np.newaxis])[0]


def encode_rle_frame(frame: np.ndarray, bits_allocated: int) -> bytes:
    """One frame, shape (rows, columns) or (rows, columns, samples), as an RLE Lossless frame.

    Samples are taken as integers of ``bits_allocated`` bits (8, 16, 32 or 64; signed values
    are encoded as their two's complement bytes). At most 15 segments: samples ×
    bytes per sample ≤ 15.
    """
    if bits_allocated not in (8, 16, 32, 64):
        raise PixelDataError(f"RLE Lossless needs Bits Allocated 8, 16, 32 or 64, not {bits_allocated}")
    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = arr[..., np.newaxis]
    if arr.ndim != 3:
        raise PixelDataError(f"an RLE frame has shape (rows, columns[, samples]), not {np.shape(frame)}")
    nbytes = bits_allocated // 8
    rows, cols, samples = arr.shape
    count = samples * nbytes
    if count > _MAX_SEGMENTS:
        raise PixelDataError(
            f"RLE Lossless holds at most 15 segments: {samples} samples of {bits_allocated} bits need {count}"
        )
    if arr.dtype.kind not in "iub" or arr.dtype.itemsize > nbytes:
        raise PixelDataError(f"cannot RLE-encode {arr.dtype} samples as {bits_allocated}-bit integers")
    kind = "i" if arr.dtype.kind == "i" else "u"
    little = np.ascontiguousarray(arr.astype(f"<{kind}{nbytes}", copy=False))
    as_bytes = little.view(np.uint8).reshape(rows, cols, samples, nbytes)
    # segments: sample by sample, most significant byte first (G.2)
    planes = as_bytes[:, :, :, ::-1].transpose(2, 3, 0, 1).reshape(count, rows, cols)
    segments = encode_segments(planes)
    offsets = []
    pos = 64
    for seg in segments:
        offsets.append(pos)
        pos += len(seg)
    header = struct.pack("<16L", count, *offsets, *([0] * (_MAX_SEGMENTS - count)))
    return header + b"".join(segments)
