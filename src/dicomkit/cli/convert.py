"""``dicomkit convert``: rewrite DICOM files in another transfer syntax.

``dicomkit convert IN... (-o OUT | --out-dir DIR) --transfer-syntax SYNTAX`` reads each
input (a file, or a folder walked recursively) and writes it with :func:`dicomkit.write`
in SYNTAX: ``implicit``, ``explicit``, ``big-endian``, ``deflated`` or a transfer syntax
UID. ``-o`` names the output of a single input file; ``--out-dir`` receives one file per
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

__all__ = ["SYNTAX_NAMES", "DamagedFileError", "parse_transfer_syntax", "read_whole", "run"]

#: The short names accepted by ``--transfer-syntax``.
SYNTAX_NAMES: dict[str, TransferSyntax] = {
    "implicit": IMPLICIT_VR_LITTLE_ENDIAN,
    "explicit": EXPLICIT_VR_LITTLE_ENDIAN,
    "big-endian": EXPLICIT_VR_BIG_ENDIAN,
    "deflated": DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
}


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


def run(args: argparse.Namespace, out: Output) -> int:
    import dicomkit

    ts: TransferSyntax = args.transfer_syntax
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
            parent = os.path.dirname(dest)
            if parent:
                os.makedirs(parent, exist_ok=True)
            dicomkit.write(ds, dest, transfer_syntax=ts)
        except UnsupportedTransferSyntaxError as exc:
            out.error(src, f"cannot convert to {ts.name}: {exc}")
            status = 1
        except (OSError, DicomError) as exc:
            out.error(src, describe_error(exc, src))
            status = 1
        else:
            if getattr(args, "verbose", False):
                out.text(f"{src} -> {dest}")
    return status
