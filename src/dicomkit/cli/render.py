"""``dicomkit render``: write DICOM images as PNG or JPEG (Pillow) so that anyone can look at them.

::

    dicomkit render FILE... [-o OUT.png|OUT.jpg] [--frame N] [--window C W] [--montage] [--columns N]

Each FILE is rendered with :func:`dicomkit.pixels.display.to_display` (the PS3.4 N.2 grayscale
pipeline: Modality LUT, VOI LUT or window, Presentation LUT / MONOCHROME1; colour to RGB).
Without ``-o`` the image is written to the current folder as ``<FILE name without .dcm>.png``;
with ``--montage`` as ``<name>_montage.png`` (name: the folder's, or the first file's).
``--frame N`` is 1-based like DICOM frame numbers (default 1). ``--montage`` tiles every frame
of one file, or every image of one series given as a folder (walked recursively) or as several
files, in Instance Number order (Image Position Patient along the slice normal when Instance
Numbers are missing or repeated; then the file name).

Each problem (not DICOM, no pixel data, a frame that does not exist, several series in a montage)
is one line on stderr, ``dicomkit: FILE: what is wrong``, and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dicomkit.cli import Output, describe_error
from dicomkit.errors import DicomError, InvalidDicomError

if TYPE_CHECKING:
    import numpy as np

    from dicomkit.dataset import Dataset

__all__ = ["MAX_MONTAGE_PIXELS", "RenderError", "default_output", "montage", "register", "run"]

_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
#: The largest montage written, in pixels (a 16 × 16 grid of 2048 × 2048 images).
MAX_MONTAGE_PIXELS = 1 << 30


class RenderError(DicomError):
    """A request that cannot be rendered (bad frame, several series, unknown output format)."""


def _frame_number(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("frame numbers start at 1")
    return n


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _render(args: argparse.Namespace, out: Output) -> int:
    return run(args, out)


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``dicomkit render`` (nothing heavy is imported until it runs)."""
    p = subparsers.add_parser(
        "render",
        parents=[common_parent],
        help="write DICOM images as PNG or JPEG (windowed, 8-bit)",
        description=(
            "Render each FILE to an 8-bit PNG or JPEG: Modality LUT (Rescale Slope/Intercept or "
            "Modality LUT Sequence), VOI (the file's first window or VOI LUT, --window, or the "
            "min-max range when there is none), MONOCHROME1 / Presentation LUT Shape inversion; "
            "colour images as RGB. The output goes to -o OUT (.png, .jpg or .jpeg), else to "
            "'<FILE name without .dcm>.png' in the current folder ('<name>_montage.png' for "
            "--montage). A problem with a FILE is one line on stderr and makes the exit status 1."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="DICOM files (folders with --montage)")
    p.add_argument("-o", "--output", metavar="OUT", help="the image to write: .png, .jpg or .jpeg")
    p.add_argument(
        "--frame",
        type=_frame_number,
        metavar="N",
        help="the frame of a multi-frame image, 1-based as in DICOM (default: 1)",
    )
    p.add_argument(
        "--window",
        nargs=2,
        type=_float,
        metavar=("C", "W"),
        help="window center and width (replaces the file's VOI; the file's VOI LUT Function applies)",
    )
    p.add_argument(
        "--montage",
        action="store_true",
        help="tile all frames of a file, or all images of one series (a folder or several files)",
    )
    p.add_argument(
        "--columns",
        type=_frame_number,
        metavar="N",
        help="montage columns (default: the square root of the number of images, rounded up)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    p.set_defaults(run=_render)


def default_output(path: str, montage: bool) -> str:
    """The output name used without ``-o``: in the current folder, ``.png``."""
    name = os.path.basename(os.path.normpath(path)) or "image"
    stem, suffix = os.path.splitext(name)
    if suffix.lower() in (".dcm", ".dicom", ".dic") and stem:
        name = stem
    return f"{name}_montage.png" if montage else f"{name}.png"


def _format(path: str) -> str:
    fmt = _FORMATS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise RenderError(f"cannot tell the image format of {path!r}: use .png, .jpg or .jpeg")
    return fmt


def _save(image: np.ndarray, path: str) -> None:
    """Write ``image`` (uint8 grey or RGB) atomically with Pillow."""
    from PIL import Image

    fmt = _format(path)
    pil = Image.fromarray(image, mode="L" if image.ndim == 2 else "RGB")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".render-", suffix=os.path.splitext(path)[1])
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            pil.save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; an image is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read(path: str) -> Dataset:
    import dicomkit

    if os.path.isdir(path):
        raise IsADirectoryError(path)
    return dicomkit.read(path)


def _frame_count(ds: Dataset) -> int:
    from dicomkit.pixels import pixel_info

    return pixel_info(ds).number_of_frames


def _window(args: argparse.Namespace) -> tuple[float, float] | None:
    return (float(args.window[0]), float(args.window[1])) if args.window else None


def _one(path: str, args: argparse.Namespace) -> np.ndarray:
    from dicomkit.pixels.display import to_display

    ds = _read(path)
    frames = _frame_count(ds)
    number = args.frame or 1
    if number > frames:
        raise RenderError(f"frame {number} requested but the image has {frames} frame{'s' * (frames != 1)}")
    window = _window(args)
    _colour_window(ds, window)
    return to_display(ds, number - 1 if frames > 1 else None, window=window)


def _colour_window(ds: Dataset, window: tuple[float, float] | None) -> None:
    pi = str(ds.get(0x00280004) or "").strip().upper()
    if window is not None and pi not in ("MONOCHROME1", "MONOCHROME2"):
        warnings.warn(f"--window is ignored: {pi} is a colour image", UserWarning, stacklevel=2)


# -- montage ------------------------------------------------------------------------------------


@dataclass
class _Instance:
    path: str
    ds: Dataset
    number: int | None
    position: float | None


def _walk(paths: list[str]) -> Iterator[tuple[str, bool]]:
    """(file, given explicitly) for each FILE and each file under each folder."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield os.path.join(root, name), False
        else:
            yield path, True


def _slice_position(ds: Dataset) -> float | None:
    position, orientation = ds.get(0x00200032), ds.get(0x00200037)
    try:
        p = [float(v) for v in position]
        o = [float(v) for v in orientation]
    except (TypeError, ValueError):
        return None
    if len(p) != 3 or len(o) != 6:
        return None
    normal = (
        o[1] * o[5] - o[2] * o[4],
        o[2] * o[3] - o[0] * o[5],
        o[0] * o[4] - o[1] * o[3],
    )
    return sum(a * b for a, b in zip(p, normal, strict=True))


def _instance_number(ds: Dataset) -> int | None:
    value = ds.get(0x00200013)
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _series(paths: list[str], out: Output) -> tuple[list[_Instance], int]:
    """The images to tile, sorted, and the number of errors reported."""
    found: list[_Instance] = []
    errors = 0
    for path, explicit in _walk(paths):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = _read(path)
                has_pixels = any(t in ds for t in (0x7FE00010, 0x7FE00008, 0x7FE00009))
            if not has_pixels:
                if explicit:
                    raise RenderError("the file has no pixel data")
                continue
        except InvalidDicomError as exc:
            if explicit:
                out.error(path, describe_error(exc, path))
                errors += 1
            continue  # a folder's non-DICOM files are skipped
        except (DicomError, OSError) as exc:
            out.error(path, describe_error(exc, path))
            errors += 1
            continue
        for w in caught:
            out.warning(path, str(w.message))
        found.append(_Instance(path, ds, _instance_number(ds), _slice_position(ds)))
    series = {str(i.ds.get(0x0020000E) or "") for i in found}
    if len(series) > 1:
        raise RenderError(
            f"the images belong to {len(series)} series; a montage shows one ('dicomkit tree' lists them)"
        )
    numbers = [i.number for i in found]
    if None not in numbers and len(set(numbers)) == len(numbers):
        found.sort(key=lambda i: (i.number or 0, i.path))
    elif all(i.position is not None for i in found):
        found.sort(key=lambda i: (i.position or 0.0, i.path))
    else:
        found.sort(key=lambda i: i.path)
    return found, errors


def _tiles(instances: list[_Instance], args: argparse.Namespace, out: Output) -> tuple[list[np.ndarray], int]:
    from dicomkit.pixels.display import to_display

    window = _window(args)
    tiles: list[np.ndarray] = []
    errors = 0
    for inst in instances:
        try:
            _colour_window(inst.ds, window)
            image = to_display(inst.ds, window=window)
        except (DicomError, OSError) as exc:
            out.error(inst.path, describe_error(exc, inst.path))
            errors += 1
            continue
        tiles.extend(list(image) if _frame_count(inst.ds) > 1 else [image])
    return tiles, errors


def montage(tiles: list[np.ndarray], columns: int | None = None) -> np.ndarray:
    """Tile uint8 images (grey or RGB; mixed → RGB) row by row on a black canvas; each tile at
    the top left of a cell as large as the largest image."""
    import numpy as np

    if not tiles:
        raise RenderError("there is no image to tile")
    colour = any(t.ndim == 3 for t in tiles)
    cell_h = max(t.shape[0] for t in tiles)
    cell_w = max(t.shape[1] for t in tiles)
    cols = columns or math.ceil(math.sqrt(len(tiles)))
    cols = min(cols, len(tiles))
    rows = math.ceil(len(tiles) / cols)
    if rows * cell_h * cols * cell_w > MAX_MONTAGE_PIXELS:
        raise RenderError(
            f"the montage would be {cols * cell_w} x {rows * cell_h} pixels, more than {MAX_MONTAGE_PIXELS}"
        )
    shape: tuple[int, ...] = (rows * cell_h, cols * cell_w) + ((3,) if colour else ())
    canvas = np.zeros(shape, dtype=np.uint8)
    for k, tile in enumerate(tiles):
        if colour and tile.ndim == 2:
            tile = np.repeat(tile[:, :, None], 3, axis=2)
        r, c = divmod(k, cols)
        canvas[r * cell_h : r * cell_h + tile.shape[0], c * cell_w : c * cell_w + tile.shape[1]] = tile
    return canvas


# -- the command ----------------------------------------------------------------------------------


def _usage(out: Output, message: str) -> int:
    out.stderr.write(f"dicomkit render: error: {message}\n")
    return 2


def run(args: argparse.Namespace, out: Output) -> int:
    if args.output is not None and os.path.splitext(args.output)[1].lower() not in _FORMATS:
        return _usage(out, f"cannot tell the image format of {args.output!r}: use .png, .jpg or .jpeg")
    if args.montage:
        if args.frame is not None:
            return _usage(out, "--frame and --montage cannot be combined (a montage shows every frame)")
        return _run_montage(args, out)
    if args.columns is not None:
        return _usage(out, "--columns needs --montage")
    if args.output is not None and len(args.files) > 1:
        return _usage(out, "-o names one output: give one FILE, or use --montage")
    status = 0
    for path in args.files:
        target = args.output or default_output(path, False)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                image = _one(path, args)
            for w in caught:
                out.warning(path, str(w.message))
            _save(image, target)
        except IsADirectoryError:
            out.error(path, "is a directory (use --montage to tile a series)")
            status = 1
            continue
        except Exception as exc:  # DicomError, OSError; anything else is a bug, still one line
            if args.debug:
                raise
            out.error(path, describe_error(exc, path))
            status = 1
            continue
        out.text(target)
    return status


def _run_montage(args: argparse.Namespace, out: Output) -> int:
    name = args.files[0]
    target = args.output or default_output(name, True)
    try:
        instances, errors = _series(args.files, out)
        if not instances and not errors:
            raise RenderError("no DICOM image found")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tiles, failed = _tiles(instances, args, out)
        for w in caught:
            out.warning(name, str(w.message))
        errors += failed
        if tiles:
            _save(montage(tiles, args.columns), target)
    except Exception as exc:  # DicomError, OSError; anything else is a bug, still one line
        if args.debug:
            raise
        out.error(name, describe_error(exc, name))
        return 1
    if tiles:
        out.text(target)
    return 1 if errors else 0
