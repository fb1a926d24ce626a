"""``dicomkit export-nifti``: one series as a NIfTI-1 file (``.nii`` or ``.nii.gz``), via nibabel.

::

    dicomkit export-nifti SERIES_DIR|FILE... OUT.nii[.gz] [--series UID] [--allow-irregular] [-q]

The inputs (folders walked recursively) are grouped by the information model
(:class:`dicomkit.model.Hierarchy`, headers only); the series exported is the only one there, or
the one named by ``--series`` — several series without it is an error that lists them. The
volume is :func:`dicomkit.pixels.volume.volume` and the image :func:`~dicomkit.pixels.volume.to_nifti`
(RAS affine from DICOM's LPS, data as (columns, rows, slices), sform and qform codes 1: see
:mod:`dicomkit.pixels.volume`). The file is written atomically.

Warnings about the volume (gantry tilt, a single slice, missing slices with ``--allow-irregular``)
are printed as ``warning: OUT: ...`` lines; a series that is not one regular stack of slices, a
file that cannot be read or the lack of nibabel is ``dicomkit: PATH: what is wrong`` and exit
status 1. On success one line on stdout says what was written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile
import warnings
from typing import Any

from dicomkit.cli import Output, describe_error
from dicomkit.errors import DicomError

__all__ = ["register", "run"]

_SUFFIXES = (".nii", ".nii.gz")


def _export(args: argparse.Namespace, out: Output) -> int:
    return run(args, out)


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``dicomkit export-nifti`` (numpy and nibabel are imported only when it runs)."""
    p = subparsers.add_parser(
        "export-nifti",
        parents=[common_parent],
        help="write one series as a NIfTI volume (.nii or .nii.gz)",
        description=(
            "Stack the images of one series (INPUT: folders, walked recursively, or files) along "
            "the slice normal and write them to OUT as NIfTI-1 (.nii, or gzipped .nii.gz) with the "
            "affine in RAS (converted from DICOM's LPS), sform and qform codes 1 (scanner), voxels "
            "as (columns, rows, slices) with Rescale Slope/Intercept applied. Several series in the "
            "inputs: choose one with --series. Gantry tilt gives a sheared sform (qform code 0) and a "
            "warning; missing slices and uneven spacing are errors unless --allow-irregular."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="a series folder or DICOM files")
    p.add_argument("output", metavar="OUT.nii[.gz]", help="the NIfTI file to write")
    p.add_argument("--series", metavar="UID", help="the Series Instance UID to export")
    p.add_argument(
        "--allow-irregular",
        action="store_true",
        help="export despite missing slices or uneven spacing (warned; the slice step is the mean step)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    p.set_defaults(run=_export)


def _save(img: Any, path: str) -> None:
    nibabel: Any = importlib.import_module("nibabel")

    suffix = ".nii.gz" if path.lower().endswith(".nii.gz") else ".nii"
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-nifti-", suffix=suffix)
    os.close(fd)
    try:
        nibabel.save(img, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run(args: argparse.Namespace, out: Output) -> int:
    inputs: list[str] = args.inputs
    output: str = args.output
    if not output.lower().endswith(_SUFFIXES):
        out.error(output, "the output must end in .nii or .nii.gz")
        return 2
    from dicomkit.model import Hierarchy

    h = Hierarchy.from_paths(inputs)
    for path in h.missing:
        out.error(path, "no such file or directory")
    if h.missing:
        return 1
    for skipped in h.skipped:
        out.warning(skipped.path, f"skipped: {skipped.reason}")
    series = list(h.all_series())
    if args.series is not None:
        series = [s for s in series if s.uid == args.series]
        if not series:
            out.error(" ".join(inputs), f"no series {args.series} here")
            return 1
    if not series:
        out.error(" ".join(inputs), "no DICOM images found")
        return 1
    if len(series) > 1:
        out.error(" ".join(inputs), f"{len(series)} series here: choose one with --series UID:")
        for s in series:
            out.stderr.write(
                f"  {s.uid}  #{s.number if s.number is not None else '-'} {s.modality or '-'} "
                f"{len(s)} image{'s' if len(s) != 1 else ''}  {s.description or '(no description)'}\n"
            )
        return 1
    chosen = series[0]
    paths = [i.path for i in chosen.ordered()]
    try:
        from dicomkit.pixels.volume import to_nifti, volume

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vol = volume(paths, strict=not args.allow_irregular)
            img: Any = to_nifti(vol)
            _save(img, output)
    except ImportError as exc:
        out.error(output, f"export-nifti needs numpy and nibabel: pip install 'dicomkit[nifti]' ({exc})")
        return 1
    except DicomError as exc:
        out.error(chosen.uid, describe_error(exc, chosen.uid))
        return 1
    except OSError as exc:
        out.error(output, describe_error(exc, output))
        return 1
    for message in caught:  # fix-ups made while reading the files
        out.warning(chosen.uid, str(message.message))
    for w in vol.warnings:
        out.warning(output, str(w))
    shape = "×".join(str(n) for n in img.shape)
    zooms = " × ".join(f"{z:.6g}" for z in img.header.get_zooms())
    files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
    out.text(f"{output}: {shape} voxels of {zooms} mm, series {chosen.uid} ({files})")
    return 0
