"""DCMTK as the peer codec: its decompressors read what dicomkit compresses, and dicomkit reads
what its compressors write.

* ``dcmdrle`` / ``dcmdjpls`` / ``dcmdjpeg`` decompress dicomkit-compressed files; the native
  result, decoded by dicomkit and by pydicom, must equal the original pixels (lossless), or our
  own decode of the compressed file (near-lossless JPEG-LS is deterministic: exactly; JPEG
  Baseline through DCMTK's IJG decoder: within 2, the IDCT rounding of two implementations).
* ``dcmcrle`` / ``dcmcjpls`` / ``dcmcjpeg +e1`` (lossless SV1) compress the originals; dicomkit
  must decode them to the original pixels.

DCMTK has no JPEG 2000 or HTJ2K (those are checked against pydicom + pylibjpeg-openjpeg in
test_compress.py).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomkit
from dicomkit import Dataset
from dicomkit.pixels import pixel_array
from dicomkit.pixels.compress import compress
from dicomkit.pixels.encode import set_pixel_data

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("imagecodecs")
if shutil.which("dcmdrle") is None:
    pytest.skip("DCMTK is not installed (make test installs it)", allow_module_level=True)

SOURCES = ["CT_small.dcm", "MR_small.dcm", "SC_rgb.dcm", "emri_small.dcm", "signed12", "rgb16"]
DECOMPRESSOR = {
    "rle": "dcmdrle",
    "jpeg-ls": "dcmdjpls",
    "jpeg-lossless": "dcmdjpeg",
    "jpeg-ls-near": "dcmdjpls",
}
COMPRESSOR = {"rle": ["dcmcrle"], "jpeg-ls": ["dcmcjpls"], "jpeg-lossless": ["dcmcjpeg", "+e1"]}


def _source(name: str, tmp_path: Path) -> Path:
    if name in ("signed12", "rgb16"):
        ds = Dataset()
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.SOPInstanceUID = "1.2.826.0.1.3680043.2.1143.42"
        ds.PatientName = "Test^Synthetic"
        rng = np.random.default_rng(5)
        if name == "signed12":
            arr = (np.add.outer(np.arange(40), np.arange(30)) * 100 - 2048).clip(-2048, 2047)
            arr = (arr + rng.integers(-2, 3, arr.shape)).clip(-2048, 2047).astype(np.int16)
            set_pixel_data(ds, np.stack([arr, arr[::-1]]), bits_stored=12)
        else:
            arr = rng.integers(0, 65536, (20, 24, 3)).astype(np.uint16)
            set_pixel_data(ds, arr, photometric_interpretation="RGB")
        path = tmp_path / f"{name}.dcm"
        dicomkit.write(ds, path)
        return path
    found = pydicom.data.get_testdata_file(name, download=False)
    if found is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return Path(found)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, (cmd, proc.stdout, proc.stderr)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith(("E:", "F:"))]
    assert not errors, errors


def _pydicom_pixels(path: Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(pydicom.dcmread(path).pixel_array)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("syntax", sorted(DECOMPRESSOR))
def test_dcmtk_decompresses_dicomkit_output(tmp_path: Path, source: str, syntax: str) -> None:
    src = _source(source, tmp_path)
    ds = dicomkit.read(src)
    original = pixel_array(ds)
    ours = tmp_path / "ours.dcm"
    dicomkit.write(compress(ds, syntax), ours)
    native = tmp_path / "native.dcm"
    _run([DECOMPRESSOR[syntax], str(ours), str(native)])
    expected = original if syntax != "jpeg-ls-near" else pixel_array(dicomkit.read(ours))
    by_dicomkit = pixel_array(dicomkit.read(native))
    by_pydicom = _pydicom_pixels(native)
    assert np.array_equal(by_dicomkit, expected)
    assert np.array_equal(by_pydicom, expected)


@pytest.mark.parametrize(
    ("source", "syntax"),
    [("SC_rgb.dcm", "jpeg-baseline"), ("emri_small.dcm", "jpeg-extended"), ("SC_rgb.dcm", "jpeg-extended")],
)
def test_dcmtk_decompresses_dicomkit_lossy_jpeg(tmp_path: Path, source: str, syntax: str) -> None:
    src = _source(source, tmp_path)
    ours = tmp_path / "ours.dcm"
    dicomkit.write(compress(dicomkit.read(src), syntax, quality=90), ours)
    native = tmp_path / "native.dcm"
    _run(["dcmdjpeg", str(ours), str(native)])
    ours_decoded = pixel_array(dicomkit.read(ours)).astype(int)
    theirs = pixel_array(dicomkit.read(native)).astype(int)
    assert theirs.shape == ours_decoded.shape
    assert np.abs(theirs - ours_decoded).max() <= 2  # two IDCT implementations
    original = pixel_array(dicomkit.read(src)).astype(int)
    assert np.abs(theirs - original).mean() < 0.01 * original.max()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("syntax", sorted(COMPRESSOR))
def test_dicomkit_decodes_dcmtk_output(tmp_path: Path, source: str, syntax: str) -> None:
    src = _source(source, tmp_path)
    original = pixel_array(dicomkit.read(src))
    theirs = tmp_path / "theirs.dcm"
    _run([*COMPRESSOR[syntax], str(src), str(theirs)])
    back = dicomkit.read(theirs)
    assert back["PixelData"].undefined_length
    assert np.array_equal(pixel_array(back), original)


@pytest.mark.parametrize("syntax", ["rle", "jpeg-ls", "j2k", "jpeg-lossless", "jpeg-baseline", "j2k-lossy"])
def test_dciodvfy_finds_nothing_new(tmp_path: Path, syntax: str) -> None:
    # dicom3tools' IOD validator: the compressed file (pixel module, lossy attributes, derived
    # image attributes) has no error or warning the original does not have
    if shutil.which("dciodvfy") is None:
        pytest.skip("dicom3tools is not installed")
    src = _source("SC_rgb.dcm", tmp_path)
    ours = tmp_path / "ours.dcm"
    dicomkit.write(compress(dicomkit.read(src), syntax), ours)

    def findings(path: Path) -> set[str]:
        proc = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False, timeout=60
        )
        lines = (proc.stdout + proc.stderr).splitlines()
        return {line for line in lines if line.startswith(("Error", "Warning"))}

    assert findings(ours) - findings(src) == set()
