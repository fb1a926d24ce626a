"""``dicomkit export-nifti``: series folders written with dicomkit, the NIfTI checked against a
hand-computed RAS affine and against dcm2niix's conversion of the same folder (nibabel loads
both); several series, --series, irregular series and bad arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.cli_runner import run
from tests.pixels.test_volume import assert_same_image, run_dcm2niix, slices, values, write_all

nib = pytest.importorskip("nibabel")

AXIAL = [(-100.0, -50.0, 10 + 2.5 * k) for k in range(4)]


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_one_series_folder(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_all(slices(AXIAL, slope=1, intercept=-1024), tmp_path / "in", order=[3, 1, 0, 2])
    out = tmp_path / f"vol{suffix}"
    status, stdout, stderr = run(capsys, "export-nifti", str(tmp_path / "in"), str(out))
    assert (status, stderr) == (0, "")
    assert "7×5×4 voxels of 0.8 × 0.5 × 2.5 mm" in stdout
    img = nib.load(out)
    expected = np.array([[-0.8, 0, 0, 100.0], [0, -0.5, 0, 50.0], [0, 0, 2.5, 10.0], [0, 0, 0, 1]])
    np.testing.assert_allclose(img.affine, expected, atol=1e-6)
    assert int(img.header["sform_code"]) == 1 and int(img.header["qform_code"]) == 1
    np.testing.assert_array_equal(img.get_fdata()[:, :, 3], values(3, 5, 7).T - 1024.0)
    assert_same_image(img, run_dcm2niix(tmp_path / "in", tmp_path / "dcm2niix"))


def test_several_series_need_a_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = slices(AXIAL)
    b = slices([(0.0, 0.0, 3.0 * k) for k in range(3)], rows=4, cols=6)
    write_all(a, tmp_path / "in" / "a")
    write_all(b, tmp_path / "in" / "b")
    out = tmp_path / "vol.nii.gz"
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path / "in"), str(out))
    assert status == 1 and "2 series here: choose one with --series UID" in stderr
    assert a[0].SeriesInstanceUID in stderr and b[0].SeriesInstanceUID in stderr
    assert not out.exists()
    status, _, stderr = run(
        capsys, "export-nifti", "--series", b[0].SeriesInstanceUID, str(tmp_path / "in"), str(out)
    )
    assert (status, stderr) == (0, "")
    assert nib.load(out).shape == (6, 4, 3)
    status, _, stderr = run(capsys, "export-nifti", "--series", "1.2.3", str(tmp_path / "in"), str(out))
    assert status == 1 and "no series 1.2.3" in stderr


def test_files_given_one_by_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_all(slices(AXIAL), tmp_path / "in")
    out = tmp_path / "vol.nii"
    status, _, _ = run(capsys, "export-nifti", *map(str, paths[::-1]), str(out))
    assert status == 0
    np.testing.assert_array_equal(nib.load(out).get_fdata()[:, :, 0], values(0, 5, 7).T)


def test_missing_slice_is_an_error_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_all(slices([(0.0, 0.0, z) for z in (0.0, 2.0, 4.0, 8.0)]), tmp_path / "in")
    out = tmp_path / "vol.nii.gz"
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path / "in"), str(out))
    assert status == 1 and "1 slice missing between positions 4 and 8" in stderr and not out.exists()
    status, _, stderr = run(capsys, "export-nifti", "--allow-irregular", str(tmp_path / "in"), str(out))
    assert status == 0 and f"warning: {out}: missing-slice:" in stderr


def test_gantry_tilt_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_all(slices([(0.0, 0.5 * k, 2.0 * k) for k in range(3)]), tmp_path / "in")
    out = tmp_path / "vol.nii.gz"
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path / "in"), str(out))
    assert status == 0 and "gantry-tilt" in stderr
    img = nib.load(out)
    assert int(img.header["qform_code"]) == 0
    np.testing.assert_allclose(img.affine[:3, 2], (0.0, -0.5, 2.0), atol=1e-6)  # the sheared slice step, RAS


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path), str(tmp_path / "vol.img"))
    assert status == 2 and "must end in .nii or .nii.gz" in stderr
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path / "absent"), str(tmp_path / "vol.nii"))
    assert status == 1 and "no such file or directory" in stderr
    status, _, stderr = run(capsys, "export-nifti", str(tmp_path), str(tmp_path / "vol.nii"))
    assert status == 1 and "no DICOM images found" in stderr
    status, _, _ = run(capsys, "export-nifti", str(tmp_path / "vol.nii"))
    assert status == 2  # usage: the series is missing
