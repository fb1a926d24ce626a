"""Volumes: one series of slices as a 3-D numpy array with its place in patient space, and NIfTI.

``volume(instances)`` takes the data sets (or file paths) of one series — single-frame images, or
multi-frame images whose frames are placed by the Plane Position (Patient) / Plane Orientation
(Patient) functional group macros (PS3.3 C.7.6.16.2.3/.4: Enhanced CT/MR/PET, in the Per-frame
or the Shared Functional Groups Sequence) — and returns a :class:`Volume`:

* ``array``: the frames stacked in the order of their position along the slice normal, shape
  ``(slices, rows, columns)`` by default (``frame_axis`` moves the slice axis);
* ``affine``: a 4×4 matrix mapping an array index (in the array's axis order, plus 1) to patient
  coordinates in mm, DICOM's LPS system (PS3.3 C.7.6.2.1.1)::

      P(slice k, row r, column c) = S + k·D + r·Y·Δr + c·X·Δc

  with S the Image Position (Patient) of the first slice, X / Y the row / column direction
  cosines of Image Orientation (Patient) (X points along a row: increasing column index),
  Δr / Δc the Pixel Spacing values (row spacing first) and D the step between slices:
  ``N·(d_last − d_first)/(n − 1)`` along the unit normal N = X × Y (d: a slice's position
  projected on N), or the whole mean step vector when
  the positions are not on the normal (gantry tilt: a sheared affine, exact at every voxel);
* ``spacing``: the length of each array axis' step (the affine's column norms), in mm;
* ``orientation``, ``normal``, ``positions`` (each slice's Image Position (Patient)), the
  Rescale Slope / Intercept, and ``warnings``: what was found and tolerated.

Slices are ordered by the projection of Image Position (Patient) on the normal (ascending),
the same rule as :mod:`dicomkit.model.geometry`, whose analysis (spacing, missing slices,
duplicate positions, uneven spacing, mixed orientation) this module reuses.

What is checked and how it is reported (never silently wrong):

* fatal — :class:`~dicomkit.errors.PixelDataError`: no image, several Series Instance UIDs,
  a frame without Image Position / Orientation (Patient), mixed orientations, differing Rows /
  Columns / Pixel Spacing / Samples per Pixel, colour images, two images at one position
  (duplicates, or a 4-D series with several time points or echoes), positions that do not lie
  on a line (not one stack);
* fatal by default, a warning with ``strict=False`` — missing slices and uneven spacing: the
  array then holds the slices that exist and the affine's slice step is the mean step, so the
  first and the last slice are placed exactly and the others are not (``positions`` has the
  true ones);
* warnings — localizer images (Image Type value 3 ``LOCALIZER``) among other images are left
  out, as :mod:`dicomkit.model.geometry` does; gantry tilt (the affine is sheared and exact);
  a single slice (the slice step comes from Spacing Between Slices, else Slice Thickness, else
  1 mm); no Pixel Spacing (1 mm assumed); Rescale Slope / Intercept that differ between slices
  when ``rescale=False``.

With ``rescale=True`` (the default) the Modality LUT's Rescale Slope and Intercept (PS3.3
C.11.1.1.2; top level or the Pixel Value Transformation functional group) are applied: the
result stays an integer array when every slope is 1 and every intercept a whole number (the
stored type, else the smallest of ``int16`` / ``int32`` / ``int64`` that holds every value Bits
Stored allows plus the intercepts), else ``float32``. A Modality LUT Sequence is not applied:
it raises unless ``rescale=False``.

Files given as paths are read twice: the headers first (to order and check), then the pixel
data one file at a time straight into the result, so that only one file's pixel data is in
memory besides the volume.

:func:`to_nifti` makes a ``nibabel.Nifti1Image`` (the ``nifti`` extra). NIfTI's world space is
RAS, so the affine's first two rows are negated (LPS → RAS); the data are stored as
``(columns, rows, slices)`` — NIfTI voxel i is the DICOM column, j the row, k the slice in
ascending order along the normal — with no flip. The sform (code 1, scanner) holds the exact
affine; the qform (code 1) the same unless the affine is sheared (gantry tilt), when the qform
code is 0 (a quaternion cannot hold a shear). Units are mm. The image always holds Modality LUT
output: a volume made with ``rescale=False`` is rescaled here with its common slope / intercept
(and refused when the slices differ); ``scl_slope`` / ``scl_inter`` stay unset.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dicomkit.codec.reader import read
from dicomkit.dataset import Dataset
from dicomkit.errors import PixelDataError
from dicomkit.model import geometry as _geometry
from dicomkit.model.findings import Kind
from dicomkit.model.hierarchy import Instance
from dicomkit.pixels.decode import PixelInfo, pixel_array, pixel_info

if TYPE_CHECKING:
    import nibabel

__all__ = ["Volume", "VolumeWarning", "nifti_affine", "to_nifti", "volume"]

Vector = tuple[float, float, float]

#: a slice this far (mm) off the line of the stack is not part of one stack
LINE_TOLERANCE = 0.05
#: tilt below this angle (degrees), or an in-plane drift from the first to the last slice below
#: dicomkit.model.geometry.POSITION_TOLERANCE (0.01 mm), is rounding in the positions, not a tilt
TILT_TOLERANCE_DEGREES = 0.01

_PER_FRAME = 0x52009230  # Per-frame Functional Groups Sequence
_SHARED = 0x52009229  # Shared Functional Groups Sequence


@dataclass(frozen=True, slots=True)
class VolumeWarning:
    """Something found in the series and tolerated: ``kind`` is one of ``missing-slice``,
    ``uneven-spacing``, ``gantry-tilt``, ``single-slice``, ``no-pixel-spacing``,
    ``rescale-varies``, ``localizer-skipped``; ``message`` says what and where."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True, eq=False)
class Volume:
    """A stack of parallel slices: the voxels and where they are in patient space (LPS, mm).

    ``axes`` names the array's axes (``("slice", "row", "column")`` by default); ``spacing``
    and the affine's first three columns follow the same order. ``positions`` are the Image
    Position (Patient) of the slices in array order; ``sources`` say where each slice came
    from (``path`` or ``path [frame n]``, 1-based frames). ``rescale`` is the (slope,
    intercept) common to all slices that is *not* applied to ``array`` (``(1.0, 0.0)`` once
    applied), or None when the slices differ.
    """

    array: npt.NDArray[Any]
    affine: npt.NDArray[np.float64]
    spacing: tuple[float, float, float]
    axes: tuple[str, str, str]
    orientation: tuple[float, float, float, float, float, float]
    normal: Vector
    positions: tuple[Vector, ...]
    rescale: tuple[float, float] | None
    series_uid: str
    sources: tuple[str, ...]
    warnings: tuple[VolumeWarning, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def sheared(self) -> bool:
        """True when the slice step is not perpendicular to the rows and columns (gantry tilt)."""
        cols = [self.affine[:3, self.axes.index(a)] for a in ("slice", "row", "column")]
        n = [float(np.linalg.norm(c)) for c in cols]
        return any(
            abs(float(np.dot(cols[0], c))) > 1e-6 * n[0] * m for c, m in zip(cols[1:], n[1:], strict=True)
        )


@dataclass(slots=True)
class _Frame:
    ds: Dataset  # the header (without pixel data when read from a path)
    path: str | None  # where to read the pixel data; None: ``ds`` holds it
    frame: int | None  # 0-based frame of a multi-frame image, None for a single-frame image
    source: str
    position: Vector | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slope: float
    intercept: float
    number: int | None


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split("\\")
    if not isinstance(value, tuple | list):
        value = (value,)
    if len(value) != n:
        return None
    try:
        out = tuple(float(v) + 0.0 for v in value)
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def _vector(value: Any) -> Vector | None:
    v = _floats(value, 3)
    return (v[0], v[1], v[2]) if v is not None else None


def _pair(value: Any) -> tuple[float, float] | None:
    v = _floats(value, 2)
    return (v[0], v[1]) if v is not None else None


def _item(groups: Sequence[Dataset], keyword: str) -> Dataset | None:
    """The first item of the functional group ``keyword``: per-frame first, then shared."""
    for g in groups:
        seq = g.get(keyword)
        if seq:
            item: Dataset = seq[0]
            return item
    return None


def _frames_of(ds: Dataset, source: str, path: str | None) -> list[_Frame]:
    nframes = int(ds.get("NumberOfFrames") or 1)
    top_slope = _floats(ds.get("RescaleSlope"), 1)
    top_intercept = _floats(ds.get("RescaleIntercept"), 1)
    number = ds.get("InstanceNumber")
    per_frame = ds.get(_PER_FRAME)
    shared = ds.get(_SHARED)
    if nframes > 1 or per_frame:
        if not per_frame or len(per_frame) < nframes:
            raise PixelDataError(
                f"{source}: a multi-frame image ({nframes} frames) without a Per-frame Functional Groups "
                "Sequence item per frame: the frames have no positions"
            )
        shared_item: list[Dataset] = [shared[0]] if shared else []
        frames = []
        for k in range(nframes):
            groups = [per_frame[k], *shared_item]
            pos = _item(groups, "PlanePositionSequence")
            ori = _item(groups, "PlaneOrientationSequence")
            meas = _item(groups, "PixelMeasuresSequence")
            pvt = _item(groups, "PixelValueTransformationSequence")
            slope = _floats(pvt.get("RescaleSlope"), 1) if pvt is not None else top_slope
            intercept = _floats(pvt.get("RescaleIntercept"), 1) if pvt is not None else top_intercept
            frames.append(
                _Frame(
                    ds,
                    path,
                    k,
                    f"{source} [frame {k + 1}]",
                    _vector(pos.get("ImagePositionPatient")) if pos is not None else None,
                    _floats(ori.get("ImageOrientationPatient"), 6) if ori is not None else None,
                    _pair(meas.get("PixelSpacing")) if meas is not None else None,
                    slope[0] if slope else 1.0,
                    intercept[0] if intercept else 0.0,
                    k,
                )
            )
        return frames
    return [
        _Frame(
            ds,
            path,
            None,
            source,
            _vector(ds.get("ImagePositionPatient")),
            _floats(ds.get("ImageOrientationPatient"), 6),
            _pair(ds.get("PixelSpacing")),
            top_slope[0] if top_slope else 1.0,
            top_intercept[0] if top_intercept else 0.0,
            int(number) if isinstance(number, int) else None,
        )
    ]


def _load(instances: Iterable[Dataset | str | os.PathLike[str]]) -> list[tuple[Dataset, str, str | None]]:
    """(data set, source, path): files are read up to the pixel data here, and again for it later,
    so that at most one file's pixel data is in memory besides the volume."""
    out: list[tuple[Dataset, str, str | None]] = []
    for n, item in enumerate(instances):
        if isinstance(item, Dataset):
            out.append((item, f"<dataset {n}>", None))
        else:
            path = os.fspath(item)
            out.append((_read(path, stop_before_pixels=True), path, path))
    return out


def _read(path: str, *, stop_before_pixels: bool) -> Dataset:
    try:
        return read(path, stop_before_pixels=stop_before_pixels)
    except OSError as exc:
        raise PixelDataError(f"{path}: {exc.strerror or exc}") from None


def _is_localizer(ds: Dataset) -> bool:
    """Image Type (0008,0008) value 3 is LOCALIZER (a scout: a projection, not a slice)."""
    image_type = ds.get("ImageType")
    if isinstance(image_type, str):
        image_type = tuple(image_type.split("\\"))
    return (
        isinstance(image_type, tuple)
        and len(image_type) > 2
        and str(image_type[2]).strip().upper() == "LOCALIZER"
    )


def _header_int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword)
    if isinstance(value, tuple):
        value = value[0] if value else None
    return int(value) if isinstance(value, int) else default


def _pseudo_instance(k: int, f: _Frame, ds: Dataset) -> Instance:
    """A model Instance for one frame, so :func:`dicomkit.model.geometry.analyse` can order it."""
    return Instance(
        str(k), f.source, f.number, f.position, f.orientation, ds.get("Rows"), ds.get("Columns"),
        None, None, None, None, f.pixel_spacing, 1, "", "", False, 0,
    )  # fmt: skip


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _distinct(frames: list[_Frame], what: str, get: Any) -> None:
    values: dict[Any, list[str]] = {}
    for f in frames:
        values.setdefault(get(f), []).append(f.source)
    if len(values) > 1:
        described = "; ".join(
            f"{v} ({len(s)} image{'s' if len(s) != 1 else ''}, e.g. {s[0]})" for v, s in values.items()
        )
        raise PixelDataError(f"the images differ in {what}: {described}")


def volume(
    instances: Iterable[Dataset | str | os.PathLike[str]],
    *,
    frame_axis: int = 0,
    rescale: bool = True,
    strict: bool = True,
) -> Volume:
    """The volume of one series: see the module documentation for the conventions.

    ``instances``: data sets or file paths, in any order — single-frame images of one series,
    or multi-frame images with per-frame plane positions. ``frame_axis``: the array axis that
    holds the slices (0: ``(slices, rows, columns)``; 2 or -1: ``(rows, columns, slices)``).
    ``rescale``: apply Rescale Slope / Intercept. ``strict``: missing slices and uneven spacing
    raise :class:`PixelDataError` (False: they become warnings).
    """
    if frame_axis not in (-3, -2, -1, 0, 1, 2):
        raise ValueError(f"frame_axis must be an axis of a 3-D array (-3..2), not {frame_axis}")
    loaded = _load(instances)
    if not loaded:
        raise PixelDataError("no images: a volume needs at least one")
    series = {str(ds.get("SeriesInstanceUID") or "") for ds, _, _ in loaded}
    if len(series) > 1:
        listed = ", ".join(sorted(s or "(none)" for s in series))
        raise PixelDataError(f"the images belong to {len(series)} series ({listed}): pass one series")
    warnings: list[VolumeWarning] = []
    localizers = [source for ds, source, _ in loaded if _is_localizer(ds)]
    if localizers and len(localizers) < len(loaded):
        loaded = [item for item in loaded if not _is_localizer(item[0])]
        warnings.append(
            VolumeWarning(
                "localizer-skipped",
                f"{len(localizers)} localizer image{'s' if len(localizers) != 1 else ''} (Image Type value 3 "
                f"LOCALIZER) left out: {', '.join(localizers[:3])}{', …' if len(localizers) > 3 else ''}",
            )
        )
    frames = [f for ds, source, path in loaded for f in _frames_of(ds, source, path)]
    for f in frames:
        if f.position is None or f.orientation is None:
            missing = "Image Position (Patient)" if f.position is None else "Image Orientation (Patient)"
            raise PixelDataError(
                f"{f.source}: no valid {missing} (0020,00{'32' if f.position is None else '37'})"
            )
    _distinct(frames, "Rows × Columns", lambda f: (_header_int(f.ds, "Rows"), _header_int(f.ds, "Columns")))
    for f in frames:
        samples = _header_int(f.ds, "SamplesPerPixel", 1)
        photometric = str(f.ds.get("PhotometricInterpretation") or "").strip().upper()
        if samples != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
            raise PixelDataError(
                f"{f.source}: a volume needs monochrome images, not {photometric or '(no photometric)'} "
                f"with {samples} samples per pixel"
            )
    _distinct(frames, "Pixel Spacing", lambda f: f.pixel_spacing)
    if rescale:
        for ds, source, _ in loaded:
            if "ModalityLUTSequence" in ds:
                raise PixelDataError(
                    f"{source}: has a Modality LUT Sequence (0028,3000), which volume() does not apply; "
                    "pass rescale=False for the stored values"
                )

    pseudo = [_pseudo_instance(k, f, f.ds) for k, f in enumerate(frames)]
    ordered, geometry, problems = _geometry.analyse(pseudo)
    for kind, message, _ in problems:
        if kind in (Kind.MIXED_ORIENTATION, Kind.DUPLICATE_POSITION):
            raise PixelDataError(message)
        if strict:
            raise PixelDataError(f"{message} (strict=False keeps the slices with a warning)")
        warnings.append(VolumeWarning(str(kind), message))
    if geometry is not None and geometry.positions == 1:
        raise PixelDataError(
            f"all {len(frames)} images are at one position along the slice normal: they are not a stack "
            "of slices (positions not along the normal of Image Orientation (Patient)?)"
        )
    if geometry is not None and geometry.per_position > 1:
        raise PixelDataError(
            f"{geometry.per_position} images at each of the {geometry.positions} positions: several volumes "
            "(time points, echoes, ...) in one series; pass the images of one volume"
        )
    stack = [frames[int(i.uid)] for i in ordered]
    first = stack[0]
    assert first.orientation is not None and first.position is not None
    orientation = first.orientation
    x = np.array(orientation[:3], dtype=np.float64)
    y = np.array(orientation[3:], dtype=np.float64)
    normal = np.cross(x, y)
    if float(np.linalg.norm(normal)) < 0.5:
        raise PixelDataError(
            f"{first.source}: Image Orientation (Patient) {orientation} is not two unit vectors"
        )
    normal /= np.linalg.norm(normal)  # cosines written with few digits are not quite unit vectors
    positions = np.array([f.position for f in stack], dtype=np.float64)
    if first.pixel_spacing is None:
        warnings.append(VolumeWarning("no-pixel-spacing", "no Pixel Spacing (0028,0030): 1 mm assumed"))
        row_spacing, col_spacing = 1.0, 1.0
    else:
        row_spacing, col_spacing = first.pixel_spacing

    n = len(stack)
    if n == 1:
        ds = first.ds
        thickness = _floats(ds.get("SpacingBetweenSlices"), 1) or _floats(ds.get("SliceThickness"), 1)
        if first.frame is not None:
            shared = ds.get(_SHARED)
            groups = [ds[_PER_FRAME].value[first.frame], *([shared[0]] if shared else [])]
            meas = _item(groups, "PixelMeasuresSequence")
            if meas is not None:
                thickness = (
                    _floats(meas.get("SpacingBetweenSlices"), 1)
                    or _floats(meas.get("SliceThickness"), 1)
                    or thickness
                )
        depth = thickness[0] if thickness and thickness[0] > 0 else 1.0
        warnings.append(
            VolumeWarning(
                "single-slice",
                f"one slice: its thickness along the normal is {_fmt(depth)} mm "
                f"({'from Spacing Between Slices / Slice Thickness' if thickness else 'assumed'})",
            )
        )
        step = normal * depth
    else:
        offsets = positions - positions[0]
        along = offsets @ normal
        step_vector = offsets[-1] / (n - 1)
        # every slice on the line through the first and the last (whatever the spacing along it)
        direction = offsets[-1] / max(float(np.linalg.norm(offsets[-1])), 1e-12)
        off_line = offsets - np.outer(offsets @ direction, direction)
        worst = float(np.max(np.linalg.norm(off_line, axis=1)))
        if worst > LINE_TOLERANCE:
            raise PixelDataError(
                f"the slice positions are not on one line: a slice lies {_fmt(worst)} mm off the line "
                "from the first to the last slice (not one stack of slices)"
            )
        depth_step = float(along[-1]) / (n - 1)
        in_plane = step_vector - normal * float(step_vector @ normal)
        tilt = math.degrees(math.atan2(float(np.linalg.norm(in_plane)), abs(depth_step)))
        drift = float(np.linalg.norm(offsets[-1] - normal * float(offsets[-1] @ normal)))
        if tilt > TILT_TOLERANCE_DEGREES and drift > _geometry.POSITION_TOLERANCE:
            gantry = _floats(first.ds.get("GantryDetectorTilt"), 1)
            warnings.append(
                VolumeWarning(
                    "gantry-tilt",
                    f"the slices are shifted {_fmt(float(np.linalg.norm(in_plane)))} mm per slice within "
                    f"their plane: a tilt of {_fmt(tilt)}°"
                    + (f" (Gantry/Detector Tilt {_fmt(gantry[0])}°)" if gantry else "")
                    + "; the affine is sheared, not resampled",
                )
            )
            step = step_vector
        else:
            step = normal * depth_step

    # voxels, one file at a time in slice order, into the result array
    slopes = np.array([f.slope for f in stack])
    intercepts = np.array([f.intercept for f in stack])
    uniform = bool(np.all(slopes == slopes[0]) and np.all(intercepts == intercepts[0]))
    common: tuple[float, float] | None = (float(slopes[0]), float(intercepts[0])) if uniform else None
    data = _fill(stack, slopes if rescale else None, intercepts if rescale else None)
    if rescale:
        common = (1.0, 0.0)
    elif not uniform:
        warnings.append(
            VolumeWarning(
                "rescale-varies",
                "the slices have different Rescale Slope / Intercept values; the array holds stored values",
            )
        )

    affine = np.eye(4)
    affine[:3, 0] = step
    affine[:3, 1] = y * row_spacing
    affine[:3, 2] = x * col_spacing
    affine[:3, 3] = positions[0]
    axes: list[str] = ["row", "column"]
    axis = frame_axis % 3
    axes.insert(axis, "slice")
    order = [("slice", "row", "column").index(a) for a in axes]
    data = np.moveaxis(data, 0, axis)
    affine = affine[:, [*order, 3]]
    spacing = tuple(float(np.linalg.norm(affine[:3, k])) for k in range(3))
    return Volume(
        array=data,
        affine=affine,
        spacing=(spacing[0], spacing[1], spacing[2]),
        axes=(axes[0], axes[1], axes[2]),
        orientation=(
            orientation[0],
            orientation[1],
            orientation[2],
            orientation[3],
            orientation[4],
            orientation[5],
        ),
        normal=(float(normal[0]), float(normal[1]), float(normal[2])),
        positions=tuple((float(p[0]), float(p[1]), float(p[2])) for p in positions),
        rescale=common,
        series_uid=next(iter(series)),
        sources=tuple(f.source for f in stack),
        warnings=tuple(warnings),
    )


def _out_dtype(
    info: PixelInfo,
    stored: np.dtype[Any],
    slopes: npt.NDArray[np.float64],
    intercepts: npt.NDArray[np.float64],
) -> np.dtype[Any]:
    """The dtype of the Modality LUT output (PS3.3 C.11.1.1.2: stored × slope + intercept) over the
    whole range Bits Stored allows: integer when that is exact, else float32."""
    stored = stored.newbyteorder("=")
    if stored.kind not in "iub" or not np.all(slopes == 1) or not np.all(intercepts == np.round(intercepts)):
        return np.dtype(np.float32)
    if np.all(intercepts == 0):
        return stored
    bits = info.bits_stored
    lo = -(1 << (bits - 1)) if info.pixel_representation else 0
    hi = (1 << (bits - 1)) - 1 if info.pixel_representation else (1 << bits) - 1
    lo, hi = lo + int(intercepts.min()), hi + int(intercepts.max())
    for dtype in (stored, np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)):
        if dtype.kind != "b" and np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
            return dtype
    return np.dtype(np.float64)


def _fill(
    stack: list[_Frame], slopes: npt.NDArray[np.float64] | None, intercepts: npt.NDArray[np.float64] | None
) -> npt.NDArray[Any]:
    """Decode the frames of ``stack`` into one (slices, rows, columns) array, rescaled when
    ``slopes`` / ``intercepts`` are given. A file's pixel data is read when its first frame is
    needed and dropped after its last."""
    last_use = {f.path: k for k, f in enumerate(stack) if f.path is not None}
    full: dict[str, Dataset] = {}
    out: npt.NDArray[Any] | None = None
    for k, f in enumerate(stack):
        ds = f.ds
        if f.path is not None:
            if f.path not in full:
                full[f.path] = _read(f.path, stop_before_pixels=False)
            ds = full[f.path]
        pixels = pixel_array(ds, f.frame) if f.frame is not None else pixel_array(ds)
        if pixels.ndim != 2:
            raise PixelDataError(
                f"{f.source}: decoded to shape {pixels.shape}, not one frame of rows × columns"
            )
        if out is None:
            if slopes is not None and intercepts is not None:
                dtype = _out_dtype(pixel_info(ds), pixels.dtype, slopes, intercepts)
            else:
                dtype = pixels.dtype.newbyteorder("=")
            out = np.empty((len(stack), *pixels.shape), dtype=dtype)
        elif not np.can_cast(pixels.dtype, out.dtype, "same_kind") or (
            slopes is None and not np.can_cast(pixels.dtype, out.dtype, "safe")
        ):
            out = out.astype(np.result_type(out.dtype, pixels.dtype))
        if slopes is not None and intercepts is not None and (slopes[k] != 1 or intercepts[k] != 0):
            if out.dtype.kind == "f":
                np.multiply(pixels, slopes[k], out=out[k], casting="unsafe")
                out[k] += intercepts[k]
            else:
                out[k] = pixels
                out[k] += out.dtype.type(int(intercepts[k]))
        else:
            out[k] = pixels
        if f.path is not None and last_use[f.path] == k:
            del full[f.path]
    assert out is not None
    return out


def _apply_rescale(
    raw: npt.NDArray[Any], slopes: npt.NDArray[np.float64], intercepts: npt.NDArray[np.float64]
) -> npt.NDArray[Any]:
    """Modality LUT on a (slices, rows, columns) array, slice by slice."""
    if raw.dtype.kind in "iub" and np.all(slopes == 1) and np.all(intercepts == np.round(intercepts)):
        if np.all(intercepts == 0):
            return raw
        lo = int(raw.min()) + int(intercepts.min())
        hi = int(raw.max()) + int(intercepts.max())
        for dtype in (raw.dtype, np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)):
            if dtype.kind != "b" and np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
                break
        out = raw.astype(dtype.newbyteorder("="))
        out += intercepts.astype(dtype)[:, None, None]
        return out
    out_f = raw.astype(np.float32)
    out_f *= slopes.astype(np.float32)[:, None, None]
    out_f += intercepts.astype(np.float32)[:, None, None]
    return out_f


#: LPS → RAS: x and y change sign
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def nifti_affine(vol: Volume) -> npt.NDArray[np.float64]:
    """The RAS affine of :func:`to_nifti`'s image: voxel (column, row, slice) → RAS mm."""
    order = [vol.axes.index(a) for a in ("column", "row", "slice")]
    result: npt.NDArray[np.float64] = _LPS_TO_RAS @ vol.affine[:, [*order, 3]]
    return result


def to_nifti(vol: Volume) -> nibabel.Nifti1Image:
    """The volume as a NIfTI-1 image (needs nibabel: the ``nifti`` extra); see the module docs."""
    try:
        nib: Any = importlib.import_module("nibabel")  # Any: nibabel's API is untyped
    except ImportError:
        raise PixelDataError("NIfTI export needs nibabel: pip install 'dicomkit[nifti]'") from None
    if vol.rescale is None:
        raise PixelDataError(
            "the volume holds stored values whose Rescale Slope / Intercept differ between slices: "
            "NIfTI has one scaling; make the volume with rescale=True"
        )
    array = vol.array
    if vol.rescale != (1.0, 0.0):
        n = array.shape[vol.axes.index("slice")]
        moved = np.moveaxis(array, vol.axes.index("slice"), 0)
        scaled = _apply_rescale(moved, np.full(n, vol.rescale[0]), np.full(n, vol.rescale[1]))
        array = np.moveaxis(scaled, 0, vol.axes.index("slice"))
    order = [vol.axes.index(a) for a in ("column", "row", "slice")]
    data = np.transpose(array, order)
    if data.dtype.byteorder not in ("=", "|"):
        data = data.astype(data.dtype.newbyteorder("="))
    affine = nifti_affine(vol)
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    if vol.sheared:
        img.set_qform(None, code=0)
    else:
        img.set_qform(affine, code=1)
    header = img.header
    header.set_xyzt_units("mm")
    result: nibabel.Nifti1Image = img
    return result
