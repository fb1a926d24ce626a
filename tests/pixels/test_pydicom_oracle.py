"""Every pydicom test file with pixel data: dicomkit's array equals pydicom's.

pydicom 3.0.2 decodes with pylibjpeg / pylibjpeg-libjpeg / -openjpeg / -rle (test-only oracles in the
dev group); dicomkit with its own native and RLE code and imagecodecs (libjpeg-turbo, CharLS, OpenJPEG).

* Native, RLE, deflated and lossless files: bit-exact (same values and same shape).
* JPEG 2000 lossy: bit-exact too (both sides use OpenJPEG).
* Lossy JPEG Baseline/Extended: libjpeg-turbo (dicomkit) and Thomas Richter's libjpeg (pylibjpeg)
  use different IDCTs and, for 4:2:2 YCbCr, different chroma upsampling; the measured maximum
  absolute difference per file is in ``LOSSY_MAX_DIFF`` and is enforced exactly (a larger or a
  smaller difference fails, so the table stays true).
* Files pydicom cannot decode are in ``PYDICOM_CANNOT`` with the reason and what dicomkit does.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pydicom = pytest.importorskip("pydicom")
pytest.importorskip("imagecodecs")
pytest.importorskip("pylibjpeg")

import dicomkit  # noqa: E402
from dicomkit.errors import PixelDataError  # noqa: E402
from dicomkit.pixels import apply_palette, pixel_array, pixel_info  # noqa: E402

# file name -> max |dicomkit - pydicom| measured (libjpeg-turbo 3.1 vs pylibjpeg-libjpeg 2.5)
LOSSY_MAX_DIFF = {
    "JPGExtended.dcm": 1,  # 12-bit JPEG Extended: IDCT rounding
    "SC_jpeg_no_color_transform.dcm": 1,  # RGB stored without colour transform: IDCT rounding
    "SC_jpeg_no_color_transform_2.dcm": 1,
    "SC_rgb_dcmtk_+eb+cr.dcm": 1,
    "SC_rgb_jpeg.dcm": 1,
    "SC_rgb_jpeg_app14_dcmd.dcm": 1,
    "SC_rgb_dcmtk_+eb+cy+n1.dcm": 2,  # YCbCr → RGB rounding on top of the IDCT
    "SC_rgb_dcmtk_+eb+cy+np.dcm": 2,
    "SC_rgb_jpeg_lossy_gdcm.dcm": 2,
    "examples_ybr_color.dcm": 3,  # 4:2:2: libjpeg-turbo's "fancy" (triangular) chroma upsampling
    "color3d_jpeg_baseline.dcm": 5,  # 4:2:2, 120 frames
}

# file name -> (why pydicom fails, what dicomkit does: "decodes" or the PixelDataError text it raises)
PYDICOM_CANNOT = {
    "JPEG-lossy.dcm": ("pylibjpeg-libjpeg error -1038 on this 12-bit JPEG Extended file", "decodes"),
    "OT-PAL-8-face.dcm": (
        "no file meta Transfer Syntax UID; pydicom refuses (compared below with the syntax set)",
        "decodes",
    ),
    "JPEG2000-embedded-sequence-delimiter.dcm": (
        "the codestream is cut by an embedded sequence delimiter",
        "could not be decoded",
    ),
    "MR_truncated.dcm": ("8130 of 8192 bytes of its only frame", "shorter than one frame"),
    "badVR.dcm": ("Number of Frames is '1A'", "Number of Frames has an invalid value '1A'"),
    "meta_missing_tsyntax.dcm": ("no transfer syntax and no Rows", "Rows is missing"),
    "nested_priv_SQ.dcm": ("no Bits Allocated", "Rows is missing"),
}

SHARDS = 8


def _pixel_files(files: list[Path]) -> list[Path]:
    return [f for f in files if f.name != "DICOMDIR" and f.parent.name not in ("dicomdirtests",)]


def _reference(path: Path) -> tuple[Any, Any]:
    """(pydicom data set, pydicom's pixel_array or the exception)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pds = pydicom.dcmread(path, force=True)
        except Exception as exc:  # not a data set pydicom can read at all
            return None, exc
        if not any(k in pds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            return None, None
        if path.name == "OT-PAL-8-face.dcm":
            pds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        try:
            return pds, pds.pixel_array
        except Exception as exc:
            return pds, exc


def _check(path: Path) -> str | None:
    """None when dicomkit agrees with pydicom as the tables say, else what is wrong."""
    pds, ref = _reference(path)
    if pds is None:
        return None
    name = path.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = dicomkit.read(path)
            got: Any = pixel_array(ds)
        except PixelDataError as exc:
            got = exc
    if isinstance(ref, Exception):
        if name not in PYDICOM_CANNOT:
            return f"{name}: pydicom fails ({ref!r}) and the file is not in PYDICOM_CANNOT"
        expected = PYDICOM_CANNOT[name][1]
        if expected == "decodes":
            return None if not isinstance(got, Exception) else f"{name}: dicomkit raised {got}"
        if not isinstance(got, PixelDataError) or expected not in str(got):
            return f"{name}: expected PixelDataError containing {expected!r}, got {got!r}"
        return None
    if isinstance(got, Exception):
        return f"{name}: dicomkit raised {got}"
    if got.shape != ref.shape:
        return f"{name}: shape {got.shape} != pydicom {ref.shape}"
    if (got.dtype.kind, got.dtype.itemsize) != (ref.dtype.kind, ref.dtype.itemsize):
        return f"{name}: dtype {got.dtype} != pydicom {ref.dtype}"
    diff = int(np.abs(got.astype(np.int64) - ref.astype(np.int64)).max()) if got.size else 0
    if got.dtype.kind == "f":
        diff = 0 if np.array_equal(got, ref, equal_nan=True) else 1
    want = LOSSY_MAX_DIFF.get(name, 0)
    if diff != want:
        return f"{name}: max |difference| {diff}, the table says {want}"
    return None


def test_tables_name_real_files(pydicom_test_files: list[Path]) -> None:
    names = {f.name for f in pydicom_test_files}
    assert set(LOSSY_MAX_DIFF) <= names
    assert set(PYDICOM_CANNOT) <= names


@pytest.mark.parametrize("shard", range(SHARDS))
def test_arrays_equal_pydicom(pydicom_test_files: list[Path], shard: int) -> None:
    files = _pixel_files(pydicom_test_files)[shard::SHARDS]
    problems = [p for p in (_check(f) for f in files) if p]
    assert not problems, "\n".join(problems)


def test_frame_by_frame_equals_whole(pydicom_test_files: list[Path]) -> None:
    """pixel_array(ds, frame=i) is frame i of the whole array, for each kind of multi-frame file."""
    wanted = {
        "emri_small_RLE.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm",
        "emri_small_big_endian.dcm", "liver.dcm", "SC_rgb_rle_16bit_2frame.dcm", "rtdose.dcm",
        "examples_ybr_color.dcm",
    }  # fmt: skip
    seen = 0
    for path in pydicom_test_files:
        if path.name not in wanted:
            continue
        seen += 1
        ds = dicomkit.read(path)
        whole = pixel_array(ds)
        n = pixel_info(ds).number_of_frames
        assert whole.shape[0] == n > 1
        for i in (0, n - 1, -1):
            assert np.array_equal(pixel_array(ds, i), whole[i]), (path.name, i)
        assert np.array_equal(np.stack(list(dicomkit.pixels.iter_frames(ds))), whole)
    assert seen == len(wanted)


PALETTE_FILES = {
    # file -> the file whose pydicom apply_color_lut result is the reference
    "OBXXXX1A.dcm": "OBXXXX1A.dcm",
    "OBXXXX1A_rle_2frame.dcm": "OBXXXX1A_rle_2frame.dcm",
    "gdcm-US-ALOKA-16.dcm": "gdcm-US-ALOKA-16.dcm",  # segmented LUTs
    "gdcm-US-ALOKA-16_big.dcm": "gdcm-US-ALOKA-16_big.dcm",
    # pydicom 3.0.2 reads big-endian OW LUT data as little endian; dcmdump shows the same LUT
    # values for this file and OBXXXX1A.dcm, so the little-endian file is the reference
    "OBXXXX1A_expb.dcm": "OBXXXX1A.dcm",
}


def test_palette_equals_pydicom(pydicom_test_files: list[Path]) -> None:
    from pydicom.pixels import apply_color_lut

    by_name = {f.name: f for f in pydicom_test_files}
    for name, ref_name in PALETTE_FILES.items():
        pds = pydicom.dcmread(by_name[ref_name])
        ref = apply_color_lut(pds.pixel_array, pds)
        ds = dicomkit.read(by_name[name])
        got = apply_palette(pixel_array(ds), ds, little=pixel_info(ds).little_endian)
        assert got.shape == ref.shape and np.array_equal(got, ref), name
