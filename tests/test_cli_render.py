"""``dicomkit render``: the PNG/JPEG written equals the PS3.3 reference of tests/pixels/test_display.py
(pydicom decoding + the standard's formulas), montages are tiled in Instance Number order, and each
problem is one stderr line with exit status 1.

JPEG output is lossy (Pillow/libjpeg quality 95): compared with the reference, the mean absolute
difference must stay below 2 and the largest below 16 (measured on MR_small, a 64 x 64 image full of
edges: mean 1.30, max 7).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pydicom = pytest.importorskip("pydicom")
Image = pytest.importorskip("PIL.Image")

from tests.cli_runner import data_file, run  # noqa: E402
from tests.pixels.test_display import reference  # noqa: E402


def image(path: Path | str) -> Any:
    return np.asarray(Image.open(path))


def test_png_equals_reference(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "mr.png"
    status, stdout, stderr = run(capsys, "render", data_file("MR_small.dcm"), "-o", str(out))
    assert (status, stderr) == (0, "")
    assert stdout == f"{out}\n"
    assert Image.open(out).format == "PNG"
    np.testing.assert_array_equal(image(out), reference("MR_small.dcm"))


def test_default_output_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, stdout, _ = run(capsys, "render", data_file("MR_small.dcm"), data_file("6154"))
    assert status == 0
    assert stdout.split() == ["MR_small.png", "6154.png"]
    np.testing.assert_array_equal(image(tmp_path / "6154.png"), reference("6154"))  # MONOCHROME1
    status, stdout, _ = run(capsys, "render", "--montage", data_file("emri_small.dcm"))
    assert (status, stdout) == (0, "emri_small_montage.png\n")
    assert image(tmp_path / "emri_small_montage.png").shape == (3 * 64, 4 * 64)  # ceil(sqrt(10)) columns


def test_jpeg(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "mr.jpg"
    status, _, _ = run(capsys, "render", data_file("MR_small.dcm"), "-o", str(out))
    assert status == 0
    assert Image.open(out).format == "JPEG"
    diff = np.abs(image(out).astype(int) - reference("MR_small.dcm").astype(int))
    assert diff.mean() < 2 and diff.max() < 16


def test_frame_and_window(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "f.png"
    status, _, _ = run(capsys, "render", data_file("emri_small.dcm"), "--frame", "4", "-o", str(out))
    assert status == 0
    np.testing.assert_array_equal(image(out), reference("emri_small.dcm", frame=3))  # 1-based
    status, _, _ = run(capsys, "render", data_file("CT_small.dcm"), "--window", "40", "400", "-o", str(out))
    assert status == 0
    np.testing.assert_array_equal(image(out), reference("CT_small.dcm", window=(40.0, 400.0)))


def test_colour(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pydicom.pixels import apply_color_lut

    out = tmp_path / "pal.png"
    status, _, _ = run(capsys, "render", data_file("OBXXXX1A.dcm"), "-o", str(out))
    assert status == 0
    pds = pydicom.dcmread(data_file("OBXXXX1A.dcm"))
    assert Image.open(out).mode == "RGB"
    status, _, stderr = run(capsys, "render", data_file("OBXXXX1A.dcm"), "-o", str(out), "--window", "1", "2")
    assert status == 0 and stderr.endswith(": --window is ignored: PALETTE COLOR is a colour image\n")
    rgb = apply_color_lut(pds.pixel_array, pds)  # 16-bit palette entries
    assert rgb.dtype == np.uint16
    np.testing.assert_array_equal(image(out), np.floor(rgb * (255 / 65535) + 0.5).astype(np.uint8))


def test_montage_of_frames(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "m.png"
    status, _, _ = run(
        capsys, "render", "--montage", "--columns", "4", data_file("emri_small.dcm"), "-o", str(out)
    )
    assert status == 0
    got = image(out)
    assert got.shape == (3 * 64, 4 * 64)  # 10 frames in 4 columns
    for k in range(10):
        r, c = divmod(k, 4)
        np.testing.assert_array_equal(
            got[r * 64 : (r + 1) * 64, c * 64 : (c + 1) * 64], reference("emri_small.dcm", frame=k)
        )
    assert not got[2 * 64 :, 2 * 64 :].any()  # the two empty cells are black


def test_montage_mixes_grey_and_colour() -> None:
    from dicomkit.cli.render import montage

    grey = np.array([[10, 20], [30, 40]], dtype=np.uint8)
    rgb = np.full((3, 3, 3), 200, dtype=np.uint8)
    got = montage([grey, rgb])
    assert got.shape == (3, 6, 3)  # cells of 3 x 3, one row of 2
    np.testing.assert_array_equal(got[:2, :2], np.repeat(grey[:, :, None], 3, axis=2))
    assert not got[2, :3].any() and not got[:, 2].any()  # the grey tile's cell is padded with black
    np.testing.assert_array_equal(got[:, 3:], rgb)


# CT5N of pydicom-data: one axial series of 16 x 16 images, Instance Numbers 6, 7, 8, 9 with z falling
# (8.76, 6.26, 3.76, 1.26), copied as b, d, a, c: Instance Number, position and file name orders all differ.
SERIES = ["2062", "2392", "2693", "3023"]
NAMES = ["b", "d", "a", "c"]


def _scrambled_series(folder: Path) -> list[Path]:
    """The series copied under scrambled names, plus a non-DICOM file."""
    folder.mkdir()
    paths = []
    for k, name in enumerate(SERIES):
        target = folder / f"{NAMES[k]}.dcm"
        shutil.copy(data_file(name), target)
        paths.append(target)
    (folder / "notes.txt").write_text("not DICOM\n")
    return paths


def _check_series_montage(got: Any) -> None:
    assert got.shape == (32, 32)  # 4 images of 16 x 16 in 2 columns
    for k, name in enumerate(SERIES):
        r, c = divmod(k, 2)
        np.testing.assert_array_equal(got[r * 16 : (r + 1) * 16, c * 16 : (c + 1) * 16], reference(name))


def test_montage_of_a_series_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scrambled_series(tmp_path / "ct5n")
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run(capsys, "render", "--montage", "ct5n")
    assert (status, stdout, stderr) == (0, "ct5n_montage.png\n", "")
    _check_series_montage(image(tmp_path / "ct5n_montage.png"))


def test_montage_of_several_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths = _scrambled_series(tmp_path / "ct5n")
    out = tmp_path / "m.png"
    status, _, _ = run(capsys, "render", "--montage", *map(str, paths), "-o", str(out))
    assert status == 0
    _check_series_montage(image(out))


@pytest.mark.parametrize(
    ("numbers", "order"),
    [
        ([1, 3, 4, 2], [0, 3, 1, 2]),  # Instance Number first
        ([7, 7, 7, 7], [3, 2, 1, 0]),  # repeated: along the slice normal (rising z)
    ],
)
def test_montage_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, numbers: list[int], order: list[int]
) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    for k, name in enumerate(SERIES):
        ds = pydicom.dcmread(data_file(name))
        ds.InstanceNumber = numbers[k]
        ds.save_as(folder / f"{NAMES[k]}.dcm")
    out = tmp_path / "m.png"
    status, _, _ = run(capsys, "render", "--montage", str(folder), "-o", str(out))
    assert status == 0
    got = image(out)
    for cell, k in enumerate(order):
        r, c = divmod(cell, 2)
        np.testing.assert_array_equal(got[r * 16 : (r + 1) * 16, c * 16 : (c + 1) * 16], reference(SERIES[k]))


# -- errors: one line on stderr, exit status 1 (2 for usage errors) ---------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rtplan.dcm"], "no Pixel Data"),
        (["MR_small.dcm", "--frame", "2"], "frame 2 requested but the image has 1 frame"),
        (["--montage", "CT_small.dcm", "MR_small.dcm"], "the images belong to 2 series"),
        (["--montage", "rtplan.dcm"], "the file has no pixel data"),
    ],
)
def test_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str) -> None:
    argv = [data_file(a) if a.endswith(".dcm") else a for a in args]
    status, stdout, stderr = run(capsys, "render", *argv, "-o", str(tmp_path / "x.png"))
    assert status == 1
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("dicomkit: ") and message in stderr
    assert not (tmp_path / "x.png").exists()


def test_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.png"
    status, _, stderr = run(capsys, "render", data_file("MR_small.dcm"), "-o", str(target))
    assert status == 1 and f"cannot write {target}: No such file or directory" in stderr


def test_not_dicom(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"hello")
    status, _, stderr = run(capsys, "render", str(bad), "-o", str(tmp_path / "x.png"))
    assert status == 1 and stderr.startswith(f"dicomkit: {bad}: not a DICOM file")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.bmp"], "use .png, .jpg or .jpeg"),
        (["--montage", "--frame", "2"], "cannot be combined"),
        (["--columns", "2"], "--columns needs --montage"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    status, _, stderr = run(capsys, "render", data_file("MR_small.dcm"), *args)
    assert status == 2 and message in stderr


def test_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, _ = run(capsys, "--help")
    assert status == 0 and "render" in stdout
