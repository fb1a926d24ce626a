"""Volumes (dicomkit.pixels.volume): synthetic series with known geometry written with dicomkit,
checked against hand-computed affines (PS3.3 C.7.6.2.1.1) and against dcm2niix as an oracle
(both NIfTIs loaded with nibabel, compared after nibabel's own reorientation), plus pydicom's
Enhanced CT test file.

Slice k of a synthetic series holds ``1000·k + 10·r + c`` (+ ``offset``), k being the slice's
index in the list of positions *as given*, so a test knows which slice must land where.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dicomkit
from dicomkit import Dataset
from dicomkit.errors import PixelDataError
from dicomkit.pixels.volume import Volume, nifti_affine, to_nifti, volume
from dicomkit.uid import generate_uid

nib = pytest.importorskip("nibabel")

CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
DCM2NIIX = shutil.which("dcm2niix")

Vector = tuple[float, float, float]


def values(k: int, rows: int, cols: int, offset: int = 0) -> np.ndarray:
    r, c = np.mgrid[0:rows, 0:cols]
    return (1000 * k + 10 * r + c + offset).astype(np.int16)


def _base(series_uid: str, study_uid: str, rows: int, cols: int) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "CT"
    ds.PatientName = "Volume^Test"
    ds.PatientID = "VOL1"
    ds.StudyDate = "20240311"
    ds.StudyTime = "093000"
    ds.SeriesNumber = 3
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Rows = rows
    ds.Columns = cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.meta = Dataset()  # in memory too, decoding needs the transfer syntax
    ds.meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    return ds


def slices(
    positions: Sequence[Vector],
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    *,
    rows: int = 5,
    cols: int = 7,
    spacing: tuple[float, float] = (0.5, 0.8),
    series_uid: str | None = None,
    study_uid: str = "1.2.826.0.1.3680043.8.498.77",
    slope: float | None = None,
    intercept: float | None = None,
    offset: int = 0,
    extra: dict[str, object] | None = None,
) -> list[Dataset]:
    """One single-frame CT image per position (Instance Numbers 1.. in the order given)."""
    series_uid = series_uid or generate_uid()
    out = []
    for k, pos in enumerate(positions):
        ds = _base(series_uid, study_uid, rows, cols)
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = list(pos)
        ds.ImageOrientationPatient = list(orientation)
        ds.PixelSpacing = list(spacing)
        ds.SliceThickness = 1.0
        if slope is not None:
            ds.RescaleSlope = slope
            ds.RescaleIntercept = intercept or 0
            ds.RescaleType = "HU"
        for keyword, value in (extra or {}).items():
            setattr(ds, keyword, value)
        ds.PixelData = values(k, rows, cols, offset).astype("<i2").tobytes()
        out.append(ds)
    return out


def write_all(datasets: Sequence[Dataset], folder: Path, order: Sequence[int] | None = None) -> list[Path]:
    """Write the data sets as ``IMnnn.dcm`` in ``order`` (file names follow the order)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, k in enumerate(order if order is not None else range(len(datasets))):
        path = folder / f"IM{n:03d}.dcm"
        dicomkit.write(datasets[k], path)
        paths.append(path)
    return paths


def enhanced(
    positions: Sequence[Vector],
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    *,
    rows: int = 5,
    cols: int = 7,
    spacing: tuple[float, float] = (0.5, 0.8),
    slope: float = 1.0,
    intercept: float = -1024.0,
    thickness: float = 1.0,
) -> Dataset:
    """An Enhanced CT image, one frame per position: positions per frame, orientation, pixel
    measures and the pixel value transformation in the Shared Functional Groups Sequence."""
    ds = _base(generate_uid(), "1.2.826.0.1.3680043.8.498.78", rows, cols)
    ds.SOPClassUID = ENHANCED_CT
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceNumber = 1
    ds.NumberOfFrames = len(positions)
    shared = Dataset()
    ori = Dataset()
    ori.ImageOrientationPatient = list(orientation)
    shared.PlaneOrientationSequence = [ori]
    meas = Dataset()
    meas.PixelSpacing = list(spacing)
    meas.SliceThickness = thickness
    shared.PixelMeasuresSequence = [meas]
    pvt = Dataset()
    pvt.RescaleSlope = slope
    pvt.RescaleIntercept = intercept
    pvt.RescaleType = "HU"
    shared.PixelValueTransformationSequence = [pvt]
    ds.SharedFunctionalGroupsSequence = [shared]
    items = []
    for pos in positions:
        item = Dataset()
        plane = Dataset()
        plane.ImagePositionPatient = list(pos)
        item.PlanePositionSequence = [plane]
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = items
    ds.PixelData = np.stack([values(k, rows, cols) for k in range(len(positions))]).astype("<i2").tobytes()
    return ds


# -- helpers ----------------------------------------------------------------------------------


def world(
    position: Sequence[float], orientation: Sequence[float], spacing: Sequence[float], r: int, c: int
) -> Any:
    """PS3.3 C.7.6.2.1.1: P = S + X·Δc·c + Y·Δr·r (X: row cosines, Y: column cosines; Δr first)."""
    x, y = np.array(orientation[:3], float), np.array(orientation[3:], float)
    return np.array(position, float) + x * spacing[1] * c + y * spacing[0] * r


def check_voxels(
    vol: Volume,
    positions: Sequence[Vector],
    orientation: Sequence[float],
    order: Sequence[int],
    *,
    spacing: tuple[float, float] = (0.5, 0.8),
    rows: int = 5,
    cols: int = 7,
    offset: int = 0,
) -> None:
    """Array slice i is given slice ``order[i]``, and the affine puts its voxels where the standard does."""
    assert vol.shape == (len(order), rows, cols)
    for i, k in enumerate(order):
        np.testing.assert_array_equal(vol.array[i], values(k, rows, cols, offset))
        for r, c in ((0, 0), (rows - 1, 0), (0, cols - 1), (rows - 1, cols - 1), (2, 3)):
            got = vol.affine @ np.array([i, r, c, 1.0])
            np.testing.assert_allclose(got[:3], world(positions[k], orientation, spacing, r, c), atol=1e-6)


def run_dcm2niix(folder: Path, out: Path, *, tilt: bool = False) -> Any:
    """dcm2niix's NIfTI of ``folder`` (with ``tilt``: its uncorrected one, not the ``_Tilt_1`` resampling)."""
    if DCM2NIIX is None:
        pytest.skip("dcm2niix is not installed (Debian package dcm2niix)")
    out.mkdir()
    subprocess.run(
        [DCM2NIIX, "-z", "n", "-b", "n", "-f", "oracle", "-o", str(out), str(folder)],
        check=True,
        capture_output=True,
    )
    found = sorted(out.glob("*.nii"))
    if tilt:
        assert len(found) == 2 and found[1].name.endswith("_Tilt_1.nii"), found
        found = found[:1]
    assert len(found) == 1, found
    return nib.load(found[0])


def assert_same_image(ours: Any, theirs: Any) -> None:
    """Same voxels at the same places: ours reoriented onto dcm2niix's axes (which flips rows)."""
    from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation, ornt_transform

    transform = ornt_transform(io_orientation(ours.affine), io_orientation(theirs.affine))
    data = apply_orientation(np.asarray(ours.get_fdata()), transform)
    affine = ours.affine @ inv_ornt_aff(transform, ours.shape)
    assert data.shape == theirs.shape
    np.testing.assert_allclose(affine, theirs.affine, atol=1e-3)
    np.testing.assert_allclose(data, theirs.get_fdata(), rtol=1e-6, atol=1e-4)


# -- geometry against hand-computed affines --------------------------------------------------


def test_axial_shuffled_files_hand_affine(tmp_path: Path) -> None:
    positions = [(-100.0, -50.0, 10 + 2.5 * k) for k in range(4)]
    paths = write_all(slices(positions), tmp_path, order=[2, 0, 3, 1])
    vol = volume(paths)
    expected = np.array(
        [
            [
                0.0,
                0.0,
                0.8,
                -100.0,
            ],  # slice step 2.5 mm along +z; rows along +y by 0.5; columns along +x by 0.8
            [0.0, 0.5, 0.0, -50.0],
            [2.5, 0.0, 0.0, 10.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    np.testing.assert_allclose(vol.affine, expected, atol=1e-9)
    assert vol.spacing == pytest.approx((2.5, 0.5, 0.8))
    assert vol.axes == ("slice", "row", "column")
    assert vol.normal == pytest.approx((0.0, 0.0, 1.0))
    assert vol.positions == tuple(positions)
    assert vol.warnings == ()
    assert not vol.sheared
    check_voxels(vol, positions, (1, 0, 0, 0, 1, 0), [0, 1, 2, 3])
    assert vol.array.dtype == np.int16


# oblique: N = (0.8, 0.6, 0) × (0, 0, -1) = (-0.6, 0.8, 0); slices 3 mm apart from S = (10, -20, 30)
GEOMETRIES: dict[str, tuple[list[Vector], tuple[float, ...], list[int], tuple[float, float, float]]] = {
    # name: positions as given, orientation, expected order, expected slice step (hand-computed)
    "sagittal": (
        [(-20.0 + 3 * k, 4.0, 60.0) for k in range(4)],
        (0, 1, 0, 0, 0, -1),
        [3, 2, 1, 0],
        (-3.0, 0, 0),
    ),
    "coronal": ([(-30.0, 5.0 + 2 * k, 60.0) for k in range(3)], (1, 0, 0, 0, 0, -1), [0, 1, 2], (0, 2.0, 0)),
    "reversed": ([(0.0, 0.0, 30.0 - 3 * k) for k in range(3)], (1, 0, 0, 0, 1, 0), [2, 1, 0], (0, 0, 3.0)),
    "oblique": (
        [(10 - 1.8 * k, -20 + 2.4 * k, 30.0) for k in (2, 0, 3, 1)],  # S + 3k·N
        (0.8, 0.6, 0, 0, 0, -1),
        [1, 3, 0, 2],
        (-1.8, 2.4, 0.0),
    ),
}


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_orientations_hand_computed(name: str, tmp_path: Path) -> None:
    positions, orientation, order, step = GEOMETRIES[name]
    vol = volume(write_all(slices(positions, orientation), tmp_path))
    np.testing.assert_allclose(vol.affine[:3, 0], step, atol=1e-9)
    np.testing.assert_allclose(vol.affine[:3, 3], positions[order[0]], atol=1e-9)
    check_voxels(vol, positions, orientation, order)
    assert vol.warnings == ()


def test_frame_axis_last(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(3)]
    vol = volume(slices(positions), frame_axis=-1)
    assert vol.axes == ("row", "column", "slice")
    assert vol.shape == (5, 7, 3)
    assert vol.spacing == pytest.approx((0.5, 0.8, 2.0))
    np.testing.assert_array_equal(vol.array[:, :, 1], values(1, 5, 7))
    np.testing.assert_allclose(vol.affine @ [4, 6, 2, 1], [6 * 0.8, 4 * 0.5, 4.0, 1.0])


def test_big_and_little_endian_files_mixed(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(4)]
    for k, ds in enumerate(slices(positions, slope=1, intercept=-1024)):
        syntax = "1.2.840.10008.1.2.1"  # Explicit VR Little Endian
        if k % 2:  # Explicit VR Big Endian: the in-memory (little-endian) pixel bytes are swapped
            syntax = "1.2.840.10008.1.2.2"
        dicomkit.write(ds, tmp_path / f"IM{k}.dcm", transfer_syntax=syntax)
    vol = volume(sorted(tmp_path.iterdir()), rescale=False)
    assert vol.array.dtype.isnative
    check_voxels(vol, positions, (1, 0, 0, 0, 1, 0), [0, 1, 2, 3])
    rescaled = volume(sorted(tmp_path.iterdir()))
    np.testing.assert_array_equal(rescaled.array[3], values(3, 5, 7).astype(int) - 1024)


@pytest.mark.skipif(shutil.which("dcmcrle") is None, reason="DCMTK (dcmcrle) is not installed")
def test_rle_compressed_by_dcmtk(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(3)]
    plain = write_all(slices(positions), tmp_path / "plain", order=[1, 2, 0])
    (tmp_path / "rle").mkdir()
    for path in plain:
        subprocess.run(
            ["dcmcrle", str(path), str(tmp_path / "rle" / path.name)], check=True, capture_output=True
        )
    compressed = volume(sorted((tmp_path / "rle").iterdir()))
    assert dicomkit.read(tmp_path / "rle" / "IM000.dcm").meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    check_voxels(compressed, positions, (1, 0, 0, 0, 1, 0), [0, 1, 2])


def test_datasets_in_memory_and_bad_frame_axis() -> None:
    vol = volume(slices([(0.0, 0.0, 1.0), (0.0, 0.0, 0.0)]))
    assert [s.startswith("<dataset") for s in vol.sources] == [True, True]
    with pytest.raises(ValueError, match="frame_axis"):
        volume(slices([(0.0, 0.0, 0.0)]), frame_axis=3)


# -- the Modality LUT -------------------------------------------------------------------------


def test_rescale_integral_stays_integer() -> None:
    # signed 16-bit stored values + -1024 can reach -33792: int32 (the range Bits Stored allows)
    vol = volume(slices([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)], slope=1, intercept=-1024))
    assert vol.array.dtype == np.int32
    np.testing.assert_array_equal(vol.array[1], values(1, 5, 7).astype(int) - 1024)
    assert vol.rescale == (1.0, 0.0)


def test_rescale_unsigned_12_bit_fits_int16() -> None:
    ds = slices([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)], slope=1, intercept=-1024)
    for d in ds:  # 0..4095 stored → -1024..3071
        d.BitsStored, d.HighBit, d.PixelRepresentation = 12, 11, 0
    vol = volume(ds)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array[0], values(0, 5, 7).astype(int) - 1024)
    assert volume(ds, rescale=False).array.dtype == np.uint16


def test_rescale_fractional_is_float_or_kept() -> None:
    ds = slices([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)], slope=0.5, intercept=-10)
    vol = volume(ds)
    assert vol.array.dtype == np.float32
    np.testing.assert_array_equal(vol.array[1], values(1, 5, 7) * 0.5 - 10)
    raw = volume(ds, rescale=False)
    np.testing.assert_array_equal(raw.array[1], values(1, 5, 7))
    assert raw.rescale == (0.5, -10.0)
    img = to_nifti(raw)  # NIfTI gets the rescaled values
    np.testing.assert_array_equal(img.get_fdata()[:, :, 1], (values(1, 5, 7) * 0.5 - 10).T)


def test_rescale_varying_per_slice() -> None:
    ds = slices([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)], slope=1, intercept=0)
    ds[1].RescaleIntercept = -1000
    vol = volume(ds)
    np.testing.assert_array_equal(vol.array[0], values(0, 5, 7))
    np.testing.assert_array_equal(vol.array[1], values(1, 5, 7).astype(int) - 1000)
    raw = volume(ds, rescale=False)
    assert raw.rescale is None and [w.kind for w in raw.warnings] == ["rescale-varies"]
    with pytest.raises(PixelDataError, match="differ between slices"):
        to_nifti(raw)


def test_modality_lut_sequence_is_refused() -> None:
    ds = slices([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    lut = Dataset()
    lut.LUTDescriptor = [4, 0, 16]
    ds[0].ModalityLUTSequence = [lut]
    with pytest.raises(PixelDataError, match="Modality LUT Sequence"):
        volume(ds)
    assert volume(ds, rescale=False).shape == (2, 5, 7)


# -- what is reported --------------------------------------------------------------------------


def test_gantry_tilt_is_a_sheared_affine_and_a_warning() -> None:
    positions = [(0.0, -10 + 0.5 * k, 2.0 * k) for k in range(4)]  # 0.5 mm shift per 2 mm: atan(0.25)
    vol = volume(slices(positions, extra={"GantryDetectorTilt": 14.04}))
    assert [w.kind for w in vol.warnings] == ["gantry-tilt"]
    assert "14.0362°" in vol.warnings[0].message and "Gantry/Detector Tilt 14.04" in vol.warnings[0].message
    np.testing.assert_allclose(vol.affine[:3, 0], (0.0, 0.5, 2.0), atol=1e-9)
    assert vol.sheared
    check_voxels(vol, positions, (1, 0, 0, 0, 1, 0), [0, 1, 2, 3])
    img = to_nifti(vol)
    assert int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 1
    np.testing.assert_allclose(img.get_sform(), nifti_affine(vol))


def test_gantry_tilt_against_dcm2niix(tmp_path: Path) -> None:
    # dcm2niix writes the uncorrected stack with a sheared affine too, and a resampled "_Tilt_1" copy
    positions = [(0.0, -10 + 0.5 * k, 2.0 * k) for k in range(4)]
    write_all(slices(positions, extra={"GantryDetectorTilt": 14.036243}), tmp_path / "in", order=[1, 3, 0, 2])
    theirs = run_dcm2niix(tmp_path / "in", tmp_path / "out", tilt=True)
    assert_same_image(to_nifti(volume(sorted((tmp_path / "in").iterdir()))), theirs)


def test_rounding_in_positions_is_not_a_tilt() -> None:
    # 0.004 mm in-plane jitter between two slices 1.25 mm apart (0.18°) is below 0.01 mm: no tilt
    vol = volume(slices([(-125.0, -125.0, 0.0), (-125.004, -125.0, 1.25)]))
    assert vol.warnings == ()
    np.testing.assert_allclose(vol.affine[:3, 0], (0.0, 0.0, 1.25))


def test_missing_slice_strict_and_tolerated() -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.0, 4.0, 8.0)]
    with pytest.raises(PixelDataError, match="1 slice missing between positions 4 and 8"):
        volume(slices(positions))
    vol = volume(slices(positions), strict=False)
    assert [w.kind for w in vol.warnings] == ["missing-slice"]
    np.testing.assert_allclose(vol.affine[:3, 0], (0.0, 0.0, 8.0 / 3))  # the mean step: first and last exact
    assert vol.positions[-1] == (0.0, 0.0, 8.0)


def test_uneven_spacing() -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.0, 4.5, 6.0)]
    with pytest.raises(PixelDataError, match="slice spacing varies"):
        volume(slices(positions))
    assert [w.kind for w in volume(slices(positions), strict=False).warnings] == ["uneven-spacing"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("duplicate", "2 images at position 2"),
        ("two-volumes", "several volumes"),
        ("orientation", "2 orientations"),
        ("rows", "differ in Rows × Columns"),
        ("spacing", "differ in Pixel Spacing"),
        ("off-line", "not on one line"),
        ("no-position", r"no valid Image Position \(Patient\) \(0020,0032\)"),
        ("series", "belong to 2 series"),
        ("colour", "monochrome"),
    ],
)
def test_fatal_problems(change: str, match: str) -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(4)]
    ds = slices(positions)
    if change == "duplicate":
        ds = ds + slices([(0.0, 0.0, 2.0)], series_uid=ds[0].SeriesInstanceUID)
    elif change == "two-volumes":
        ds = ds + slices(positions, series_uid=ds[0].SeriesInstanceUID)
    elif change == "orientation":
        ds[2].ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    elif change == "rows":
        ds[1] = slices([positions[1]], rows=6, series_uid=ds[0].SeriesInstanceUID)[0]
    elif change == "spacing":
        ds[3].PixelSpacing = [0.5, 0.5]
    elif change == "off-line":
        ds[1].ImagePositionPatient = [3.0, 0.0, 2.0]
    elif change == "no-position":
        del ds[2].ImagePositionPatient
    elif change == "series":
        ds[0].SeriesInstanceUID = generate_uid()
    elif change == "colour":
        ds[0].PhotometricInterpretation = "RGB"
        ds[0].SamplesPerPixel = 3
        ds[0].PlanarConfiguration = 0
        ds[0].BitsAllocated = ds[0].BitsStored = 8
        ds[0].HighBit = 7
        ds[0].PixelRepresentation = 0
        ds[0].PixelData = bytes(5 * 7 * 3 + 1)
    with pytest.raises(PixelDataError, match=match):
        volume(ds)


def test_no_images_and_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(PixelDataError, match="no images"):
        volume([])
    with pytest.raises(PixelDataError, match="No such file"):
        volume([tmp_path / "absent.dcm"])


def test_localizer_left_out() -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(3)]
    ds = slices(positions)
    scout = slices([(0.0, -100.0, 0.0)], (1, 0, 0, 0, 0, -1), series_uid=ds[0].SeriesInstanceUID)[0]
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    vol = volume([scout, *ds])
    assert [w.kind for w in vol.warnings] == ["localizer-skipped"]
    check_voxels(vol, positions, (1, 0, 0, 0, 1, 0), [0, 1, 2])


def test_single_slice() -> None:
    vol = volume(slices([(1.0, 2.0, 3.0)], extra={"SpacingBetweenSlices": 2.0}))
    assert [w.kind for w in vol.warnings] == ["single-slice"]
    np.testing.assert_allclose(vol.affine[:3, 0], (0.0, 0.0, 2.0))
    assert vol.shape == (1, 5, 7)


# -- multi-frame ---------------------------------------------------------------------------------


def test_enhanced_ct_frames_sorted(tmp_path: Path) -> None:
    positions = [(5.0, 6.0, z) for z in (4.0, 0.0, 6.0, 2.0)]
    ds = enhanced(positions, slope=1.0, intercept=-1024.0)
    dicomkit.write(ds, tmp_path / "enhanced.dcm")
    vol = volume([tmp_path / "enhanced.dcm"])
    assert vol.sources[0].endswith("[frame 2]")
    check_voxels(vol, positions, (1, 0, 0, 0, 1, 0), [1, 3, 0, 2], offset=-1024)
    np.testing.assert_allclose(vol.affine[:3, 0], (0.0, 0.0, 2.0))


def test_multiframe_without_positions() -> None:
    ds = enhanced([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    del ds.PerFrameFunctionalGroupsSequence
    with pytest.raises(PixelDataError, match="Per-frame Functional Groups"):
        volume([ds])


# -- NIfTI, with dcm2niix as the oracle --------------------------------------------------------


def test_nifti_header() -> None:
    vol = volume(slices([(-100.0, -50.0, 10 + 2.5 * k) for k in range(3)]))
    img = to_nifti(vol)
    assert img.shape == (7, 5, 3)  # (columns, rows, slices)
    expected = np.array(  # LPS → RAS: x and y negated
        [[-0.8, 0, 0, 100.0], [0, -0.5, 0, 50.0], [0, 0, 2.5, 10.0], [0, 0, 0, 1]]
    )
    np.testing.assert_allclose(img.get_sform(), expected, atol=1e-9)
    np.testing.assert_allclose(img.get_qform(), expected, atol=1e-5)
    assert int(img.header["qform_code"]) == 1 and int(img.header["sform_code"]) == 1
    assert img.header.get_xyzt_units() == ("mm", "unknown")
    assert img.get_fdata()[6, 4, 2] == values(2, 5, 7)[4, 6]


ORACLE_CASES = {
    "axial-shuffled": (
        [(-100.0, -50.0, 10 + 2.5 * k) for k in range(4)],
        (1, 0, 0, 0, 1, 0),
        {"order": [2, 0, 3, 1]},
    ),
    "reversed": ([(0.0, 0.0, 30.0 - 3 * k) for k in range(3)], (1, 0, 0, 0, 1, 0), {}),
    "sagittal": (GEOMETRIES["sagittal"][0], GEOMETRIES["sagittal"][1], {}),
    "coronal": (GEOMETRIES["coronal"][0], GEOMETRIES["coronal"][1], {"slope": 1, "intercept": -1024}),
    "oblique": (GEOMETRIES["oblique"][0], GEOMETRIES["oblique"][1], {"slope": 0.5, "intercept": 3}),
}


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
@pytest.mark.parametrize("rescale", [True, False])
def test_against_dcm2niix(name: str, rescale: bool, tmp_path: Path) -> None:
    positions, orientation, options = ORACLE_CASES[name]
    options = dict(options)
    order = options.pop("order", None)
    paths = write_all(slices(positions, orientation, **options), tmp_path / "in", order=order)
    theirs = run_dcm2niix(tmp_path / "in", tmp_path / "out")
    ours = to_nifti(volume(paths, rescale=rescale))
    assert_same_image(ours, theirs)


def test_enhanced_against_dcm2niix(tmp_path: Path) -> None:
    # contiguous slices: dcm2niix 1.0.20220720 takes an enhanced image's slice step from Slice Thickness
    (tmp_path / "in").mkdir()
    dicomkit.write(
        enhanced([(x, 6.0, 7.0) for x in (4.0, 0.0, 6.0, 2.0)], (0, 1, 0, 0, 0, -1), thickness=2.0),
        tmp_path / "in" / "mf.dcm",
    )
    theirs = run_dcm2niix(tmp_path / "in", tmp_path / "out")
    assert_same_image(to_nifti(volume([tmp_path / "in" / "mf.dcm"])), theirs)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_pydicom_single_slices_against_dcm2niix(name: str, tmp_path: Path) -> None:
    from tests.cli_runner import data_file

    (tmp_path / "in").mkdir()
    shutil.copy(data_file(name), tmp_path / "in" / name)
    theirs = run_dcm2niix(tmp_path / "in", tmp_path / "out")
    vol = volume([tmp_path / "in" / name])
    assert [w.kind for w in vol.warnings] == ["single-slice"]
    assert_same_image(to_nifti(vol), theirs)


def test_pydicom_multiframe_without_positions() -> None:
    from tests.cli_runner import data_file

    # emri_small.dcm: 10 MR frames, no functional groups (dcm2niix: "Bogus spatial matrix")
    with pytest.raises(PixelDataError, match="10 frames"):
        volume([data_file("emri_small.dcm")])


def test_pydicom_enhanced_ct_against_dcm2niix(tmp_path: Path) -> None:
    from tests.cli_runner import data_file

    source = data_file("eCT_Supplemental.dcm")
    (tmp_path / "in").mkdir()
    shutil.copy(source, tmp_path / "in" / "ect.dcm")
    theirs = run_dcm2niix(tmp_path / "in", tmp_path / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vol = volume([source])
    assert vol.shape == (2, 512, 512) and vol.spacing == pytest.approx((10.0, 0.388672, 0.388672))
    assert_same_image(to_nifti(vol), theirs)
