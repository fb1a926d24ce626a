"""``dicomkit convert``: rewrite DICOM files in another transfer syntax.

``dicomkit convert IN... (-o OUT | --out-dir DIR) --transfer-syntax SYNTAX [codec options]``
reads each input (a file, or a folder walked recursively) and writes it with
:func:`dicomkit.write` in SYNTAX: ``implicit``, ``explicit``, ``big-endian``, ``deflated``,
a compressed syntax (``rle``, ``jpeg-ls``, ``jpeg-ls-near``, ``j2k``, ``j2k-lossy``,
``htj2k``, ``htj2k-rpcl``, ``htj2k-lossy``, ``jpeg-lossless``, ``jpeg-baseline``,
``jpeg-extended``) or a transfer syntax UID. Pixel data is compressed or decompressed as
needed by :func:`dicomkit.pixels.compress.transcode` (numpy and, for the JPEG family,
imagecodecs; PS3.5 8.2 and Annex A.4). Codec options: ``--quality`` (JPEG Baseline/Extended,
1-100), ``--subsampling`` (422/444), ``--near`` (JPEG-LS), ``--psnr`` (JPEG 2000),
``--qstep`` (HTJ2K), ``--ratio`` (JPEG 2000 and HTJ2K lossy: a target compression ratio),
``--predictor`` (JPEG Lossless process 14). The subcommand's parser is built by
:func:`register`.
``-o`` names the output of a single input file; ``--out-dir`` receives one file per
input (a folder input keeps its files' paths relative to that folder). Each output is
written atomically. A file that cannot be read or converted is reported on stderr as one
line (``dicomkit: FILE: reason (tag, offset)``) and makes the exit status 1; the others
are still converted.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Iterator
from typing import Any

from dicomkit.cli import Output, describe_error
from dicomkit.dataset import Dataset
from dicomkit.errors import DicomError, DicomWarning, UnsupportedTransferSyntaxError
from dicomkit.uid import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    TransferSyntax,
    transfer_syntax,
)

__all__ = [
    "CODEC_OPTIONS",
    "SYNTAX_NAMES",
    "DamagedFileError",
    "parse_transfer_syntax",
    "read_whole",
    "register",
    "run",
]

# the compressed syntaxes' short names (kept in step with dicomkit.pixels.compress.SYNTAX_ALIASES,
# which the CLI cannot import at start-up: it needs numpy)
_COMPRESSED = {
    "rle": "1.2.840.10008.1.2.5",
    "jpeg-ls": "1.2.840.10008.1.2.4.80",
    "jpeg-ls-near": "1.2.840.10008.1.2.4.81",
    "j2k": "1.2.840.10008.1.2.4.90",
    "j2k-lossy": "1.2.840.10008.1.2.4.91",
    "htj2k": "1.2.840.10008.1.2.4.201",
    "htj2k-rpcl": "1.2.840.10008.1.2.4.202",
    "htj2k-lossy": "1.2.840.10008.1.2.4.203",
    "jpeg-lossless": "1.2.840.10008.1.2.4.70",
    "jpeg-baseline": "1.2.840.10008.1.2.4.50",
    "jpeg-extended": "1.2.840.10008.1.2.4.51",
}

#: The short names accepted by ``--transfer-syntax``.
SYNTAX_NAMES: dict[str, TransferSyntax] = {
    "implicit": IMPLICIT_VR_LITTLE_ENDIAN,
    "explicit": EXPLICIT_VR_LITTLE_ENDIAN,
    "big-endian": EXPLICIT_VR_BIG_ENDIAN,
    "deflated": DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    **{name: ts for name, uid in _COMPRESSED.items() if (ts := transfer_syntax(uid)) is not None},
}

#: Codec options: (flag, type, help); the flag's name is the keyword of
#: :func:`dicomkit.pixels.compress.compress`.
CODEC_OPTIONS: tuple[tuple[str, type, str], ...] = (
    ("quality", int, "JPEG Baseline / Extended quality, 1-100 (default 90)"),
    ("subsampling", str, "JPEG Baseline chroma subsampling: 422 (default, YBR_FULL_422) or 444 (YBR_FULL)"),
    ("near", int, "JPEG-LS near-lossless NEAR value, the largest error allowed (default 2)"),
    ("psnr", float, "JPEG 2000 lossy target PSNR in dB (default 50)"),
    ("qstep", float, "HTJ2K lossy quantisation step (default 0.002; larger: smaller files)"),
    ("ratio", float, "JPEG 2000 / HTJ2K lossy: aim at this compression ratio instead"),
    ("predictor", int, "JPEG Lossless process 14 (1.2.840.10008.1.2.4.57) predictor, 1-7"),
)


def parse_transfer_syntax(text: str) -> TransferSyntax:
    """An argparse type: a short name (``implicit``, ...) or a known transfer syntax UID."""
    ts = SYNTAX_NAMES.get(text.strip().lower())
    if ts is None:
        ts = transfer_syntax(text.strip())
    if ts is None:
        names = ", ".join(SYNTAX_NAMES)
        raise argparse.ArgumentTypeError(f"unknown transfer syntax {text!r} (use {names} or a UID)")
    return ts


class DamagedFileError(DicomError):
    """The file was read only in part (truncated or damaged): rewriting it would lose data."""


def read_whole(path: str, out: Output) -> Dataset:
    """Read ``path`` for rewriting: fix-ups the reader made are printed as warnings, but a
    file read only in part (a data-loss warning) raises :class:`DamagedFileError`."""
    import dicomkit

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = dicomkit.read(path)
        len(ds)  # a lazily read file is scanned to its end now, so damage shows up here
    for w in caught:
        if isinstance(w.message, DicomWarning) and w.message.data_loss:
            raise DamagedFileError(f"truncated or damaged, not rewritten: {w.message}")
    for w in caught:
        out.warning(path, str(w.message))
    return ds


def _inputs(paths: list[str]) -> Iterator[tuple[str, str]]:
    """(input file, output path relative to the output folder) for every input."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    yield full, os.path.relpath(full, path)
        else:
            yield path, os.path.basename(path)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``convert`` subcommand (with its codec options) to ``sub``."""
    p = sub.add_parser(
        "convert",
        parents=[common],
        help="rewrite DICOM files in another transfer syntax (compressing or decompressing pixels)",
        description=(
            "Read each IN (a file, or a folder walked recursively) and write it in the transfer "
            "syntax given, atomically: to OUT (-o, one input file) or under DIR (--out-dir; a "
            "folder's files keep their relative paths). Pixel data is compressed or decompressed "
            "as the syntax needs. A file that cannot be read or converted is reported on stderr "
            "and makes the exit status 1; the others are still converted."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IN")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="OUT", help="the output file (one input file)")
    where.add_argument("--out-dir", metavar="DIR", help="the output folder")
    p.add_argument(
        "-t",
        "--transfer-syntax",
        type=parse_transfer_syntax,
        required=True,
        metavar="SYNTAX",
        help=f"{', '.join(SYNTAX_NAMES)} or a transfer syntax UID",
    )
    codec = p.add_argument_group("codec options")
    for name, kind, text in CODEC_OPTIONS:
        codec.add_argument(f"--{name}", type=kind, default=None, help=text)
    p.add_argument("-v", "--verbose", action="store_true", help="print 'IN -> OUT' for each file")
    p.set_defaults(run=run)


def _needs_pixels(ds: Dataset, ts: TransferSyntax) -> bool:
    """Does writing ``ds`` in ``ts`` need the pixel codecs (compressing or decompressing)?"""
    elem = ds.element(0x7FE00010) if 0x7FE00010 in ds else None
    if elem is None:
        return False
    if not elem.undefined_length:
        return ts.encapsulated
    meta = ds.meta
    current = str(meta.get(0x00020010) or "").strip("\x00 ") if meta is not None else ""
    return current != ts.uid


def run(args: argparse.Namespace, out: Output) -> int:
    import dicomkit

    ts: TransferSyntax = args.transfer_syntax
    options = {name: getattr(args, name, None) for name, _, _ in CODEC_OPTIONS}
    options = {k: v for k, v in options.items() if v is not None}
    if args.output is not None:
        if len(args.inputs) != 1 or os.path.isdir(args.inputs[0]):
            out.stderr.write("dicomkit convert: -o takes one input file; use --out-dir for several\n")
            return 2
        jobs = [(args.inputs[0], args.output)]
    else:
        if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
            out.error(args.out_dir, "exists and is not a directory")
            return 1
        jobs = [(src, os.path.join(args.out_dir, rel)) for src, rel in _inputs(args.inputs)]
    status = 0
    for src, dest in jobs:
        try:
            ds = read_whole(src, out)
            if _needs_pixels(ds, ts) or options:
                from dicomkit.pixels.compress import transcode

                ds = transcode(ds, ts, **options)
            parent = os.path.dirname(dest)
            if parent:
                os.makedirs(parent, exist_ok=True)
            dicomkit.write(ds, dest, transfer_syntax=ts)
        except UnsupportedTransferSyntaxError as exc:
            out.error(src, f"cannot convert to {ts.name}: {exc}")
            status = 1
        except ImportError as exc:
            out.error(
                src,
                f"cannot convert to {ts.name}: pixel data needs numpy ({exc}): pip install 'dicomkit[codecs]'",
            )
            status = 1
        except (OSError, DicomError) as exc:
            out.error(src, describe_error(exc, src))
            status = 1
        else:
            if getattr(args, "verbose", False):
                out.text(f"{src} -> {dest}")
    return status
