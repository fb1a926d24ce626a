"""Display pipeline (PS3.4 N.2): dicomkit's 8-bit output against references built independently.

* ``reference()`` below decodes with **pydicom** and applies the PS3.3 formulas written out
  here one scalar at a time (C.11.1 Rescale / Modality LUT, C.11.2.1.2 LINEAR, C.11.2.1.3
  LINEAR_EXACT and SIGMOID, VOI LUT, MONOCHROME1 / INVERSE), rounded half up to 0…255.
  dicomkit's ``to_display`` must equal it exactly.
* pydicom 3's ``apply_modality_lut`` / ``apply_windowing`` / ``apply_voi_lut`` /
  ``apply_color_lut``, where their semantics agree with ours. Where they differ (documented in
  docs/rendering.md): pydicom's windowing output range is derived from Bits Stored and the
  rescale (ours is a parameter, so the comparison passes pydicom's range); pydicom leaves the
  data unchanged when there is no VOI (we stretch min…max); pydicom's INVERSE is
  ``arr.max() - arr`` and it does not invert MONOCHROME1; pydicom ignores functional groups.
* DCMTK ``dcm2pnm`` (+Wi/+Ww/+Wfs/+Wm/+Wl, ``--write-png``): DCMTK truncates the windowed value
  where we round half up, so ``ours - dcmtk`` is 0 or 1 everywhere (measured: about half the pixels
  of MR_small differ by 1); exact for a VOI LUT and 16-bit RGB; -1 or 0 for 16-bit palette entries.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pydicom = pytest.importorskip("pydicom")
pytest.importorskip("imagecodecs")

import dicomkit  # noqa: E402
from dicomkit.errors import PixelDataError  # noqa: E402
from dicomkit.pixels.decode import pixel_array  # noqa: E402
from dicomkit.pixels.display import (  # noqa: E402
    apply_modality_lut,
    apply_voi_lut,
    apply_windowing,
    modality_units,
    to_display,
)


def data_file(name: str) -> str:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)


# -- the reference: PS3.3 formulas, one value at a time ---------------------------------------


def linear(x: float, c: float, w: float, y_min: float = 0.0, y_max: float = 255.0) -> float:
    """PS3.3 C.11.2.1.2.1."""
    if x <= c - 0.5 - (w - 1) / 2:
        return y_min
    if x > c - 0.5 + (w - 1) / 2:
        return y_max
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * (y_max - y_min) + y_min


def linear_exact(x: float, c: float, w: float, y_min: float = 0.0, y_max: float = 255.0) -> float:
    """PS3.3 C.11.2.1.3.2."""
    if x <= c - w / 2:
        return y_min
    if x > c + w / 2:
        return y_max
    return ((x - c) / w + 0.5) * (y_max - y_min) + y_min


def sigmoid(x: float, c: float, w: float, y_min: float = 0.0, y_max: float = 255.0) -> float:
    """PS3.3 C.11.2.1.3.1."""
    return (y_max - y_min) / (1 + math.exp(-4 * (x - c) / w)) + y_min


FUNCTIONS: dict[str, Callable[..., float]] = {
    "LINEAR": linear,
    "LINEAR_EXACT": linear_exact,
    "SIGMOID": sigmoid,
}


def per_value(arr: Any, fn: Callable[[float], float]) -> Any:
    """``fn`` applied to each distinct value of ``arr`` (images have few distinct values)."""
    values, inverse = np.unique(arr, return_inverse=True)
    mapped = np.array([fn(float(v)) for v in values], dtype=np.float64)
    return mapped[inverse].reshape(arr.shape)


def lut_lookup(x: float, descriptor: Any, data: Any) -> int:
    entries, first, _ = (int(v) for v in descriptor)
    index = min(max(int(x) - first, 0), (entries or 65536) - 1)
    return int(data[index])


def round_half_up(y: Any) -> Any:
    """P-values in [0, 255] → uint8, .5 rounded up."""
    assert y.min() >= 0 and y.max() <= 255
    return np.floor(y + 0.5).astype(np.uint8)


def reference(
    name: str,
    *,
    frame: int | None = None,
    index: int = 0,
    window: tuple[float, float] | None = None,
    function: str | None = None,
    invert: bool | None = None,
) -> Any:
    """The 8-bit image of a grey pydicom test file, computed from the standard's formulas."""
    ds = pydicom.dcmread(data_file(name))
    x = ds.pixel_array if frame is None else ds.pixel_array[frame]
    x = x.astype(np.float64)
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    attrs = ds
    if shared is not None and "PixelValueTransformationSequence" in shared:
        attrs = shared.PixelValueTransformationSequence[0]
    # Modality LUT (C.11.1)
    if "ModalityLUTSequence" in ds:
        item = ds.ModalityLUTSequence[0]
        x = per_value(x, lambda v: lut_lookup(v, item.LUTDescriptor, item.LUTData))
    elif "RescaleSlope" in attrs:
        slope, intercept = float(attrs.RescaleSlope), float(attrs.RescaleIntercept)
        x = per_value(x, lambda v: v * slope + intercept)
    # VOI LUT (C.11.2)
    voi = ds
    if shared is not None and "FrameVOILUTSequence" in shared:
        voi = shared.FrameVOILUTSequence[0]
    fn = FUNCTIONS[function or str(voi.get("VOILUTFunction", "LINEAR"))]
    if window is not None:
        c, w = window
        y = per_value(x, lambda v: fn(v, c, w))
    elif "VOILUTSequence" in ds:
        item = ds.VOILUTSequence[index]
        top = 2 ** int(item.LUTDescriptor[2]) - 1
        y = per_value(x, lambda v: lut_lookup(v, item.LUTDescriptor, item.LUTData) / top * 255)
    elif "WindowCenter" in voi:
        centers = voi["WindowCenter"].value
        widths = voi["WindowWidth"].value
        c = float(centers[index] if voi["WindowCenter"].VM > 1 else centers)
        w = float(widths[index] if voi["WindowWidth"].VM > 1 else widths)
        y = per_value(x, lambda v: fn(v, c, w))
    else:  # no VOI: min → 0, max → 255
        lo, hi = float(x.min()), float(x.max())
        y = per_value(x, lambda v: (v - lo) / (hi - lo) * 255)
    # Presentation LUT: MONOCHROME1 or INVERSE
    if invert is None:
        invert = ds.PhotometricInterpretation == "MONOCHROME1" or ds.get("PresentationLUTShape") == "INVERSE"
    if invert:
        y = 255 - y
    return round_half_up(y)


def ours(name: str, **kwargs: Any) -> Any:
    return to_display(dicomkit.read(data_file(name)), **kwargs)


# -- hand-computed values -------------------------------------------------------------------------


def test_linear_hand_values() -> None:
    x = np.array([-1.0, -0.5, 0.0, 49.5, 99.0, 99.5, 100.0])
    # c = 50, w = 101: below -0.5 → 0, above 99.5 → 255, ((x - 49.5) / 100 + 0.5) * 255 between
    expected = [0.0, 0.0, 1.275, 127.5, 253.725, 255.0, 255.0]
    np.testing.assert_allclose(apply_windowing(x, 50, 101), expected, atol=1e-9)


def test_linear_exact_and_sigmoid_hand_values() -> None:
    x = np.array([0.0, 25.0, 50.0, 100.0, 101.0])
    np.testing.assert_allclose(
        apply_windowing(x, 50, 100, "LINEAR_EXACT"), [0.0, 63.75, 127.5, 255.0, 255.0], atol=1e-9
    )
    sig = apply_windowing(x, 50, 100, "SIGMOID")
    np.testing.assert_allclose(sig[[2, 3]], [127.5, 255 / (1 + math.exp(-2))], atol=1e-9)


def test_linear_width_one_is_a_threshold() -> None:
    # c = 10, w = 1: x <= 9.5 → y_min, x > 9.5 → y_max (the middle formula is never used)
    out = apply_windowing(np.array([9.0, 9.5, 9.6, 10.0]), 10, 1, output_range=(-1.0, 1.0))
    np.testing.assert_array_equal(out, [-1.0, -1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("function", "width", "message"),
    [("LINEAR", 0.5, "less than 1"), ("LINEAR_EXACT", 0, "positive"), ("SIGMOID", -3, "positive")],
)
def test_bad_width(function: str, width: float, message: str) -> None:
    with pytest.raises(PixelDataError, match=message):
        apply_windowing(np.zeros(3), 0, width, function)


def test_unknown_function_is_reported() -> None:
    ds = dicomkit.read(data_file("MR_small.dcm"))
    ds.VOILUTFunction = "GAMMA"
    with pytest.raises(PixelDataError, match="VOI LUT Function 'GAMMA'"):
        to_display(ds)


# -- whole pipeline against the reference ------------------------------------------------------------

CASES = {
    "MR_small.dcm": {},  # window 600/1600, signed 16-bit
    "MR_small_bigendian.dcm": {},
    "MR_small_RLE.dcm": {},
    "CT_small.dcm": {},  # rescale, no window: min-max
    "693_UNCI.dcm": {},  # rescale (HU) + window 40/100
    "MR2_UNCI.dcm": {},  # slope 3.774114, window 1000/2000
    "RG1_UNCI.dcm": {},  # MONOCHROME1, 15 bits
    "RG3_UNCI.dcm": {},  # MONOCHROME1, 10 bits
    "6154": {},  # CR MONOCHROME1 with rescale 0.684/200 (OD) and a window
    "examples_overlay.dcm": {"index": 1},  # the second of two windows
    "JPGLosslessP14SV1_1s_1f_8b.dcm": {},  # Presentation LUT Shape IDENTITY
    "mlut_18.dcm": {},  # Modality LUT Sequence, first value mapped -2048
    "vlut_04.dcm": {},  # VOI LUT Sequence, 16-bit entries
    "emri_small.dcm": {"frame": 3},  # multi-frame, no VOI
    "eCT_Supplemental.dcm": {"frame": 1},  # window and rescale in the shared functional groups
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_display_equals_reference(name: str) -> None:
    kwargs = CASES[name]
    got = ours(name, **kwargs)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, reference(name, **kwargs))


def test_window_override() -> None:
    np.testing.assert_array_equal(
        ours("CT_small.dcm", window=(40.0, 400.0)), reference("CT_small.dcm", window=(40.0, 400.0))
    )


def test_first_window_by_default() -> None:
    np.testing.assert_array_equal(ours("examples_overlay.dcm"), reference("examples_overlay.dcm", index=0))


@pytest.mark.parametrize("function", ["LINEAR_EXACT", "SIGMOID"])
def test_voi_functions(function: str) -> None:
    ds = dicomkit.read(data_file("MR_small.dcm"))
    ds.VOILUTFunction = function
    np.testing.assert_array_equal(to_display(ds), reference("MR_small.dcm", function=function))


def test_presentation_lut_shape_inverse_inverts_monochrome2() -> None:
    ds = dicomkit.read(data_file("MR_small.dcm"))
    ds.PresentationLUTShape = "INVERSE"
    np.testing.assert_array_equal(to_display(ds), reference("MR_small.dcm", invert=True))


def test_monochrome1_is_inverted() -> None:
    # the same stored values read as MONOCHROME2 give the complement (up to the rounding of .5)
    ds = dicomkit.read(data_file("RG3_UNCI.dcm"))
    inverted = to_display(ds).astype(int)
    ds.PhotometricInterpretation = "MONOCHROME2"
    plain = to_display(ds).astype(int)
    assert set(np.unique(inverted + plain).tolist()) <= {255, 256}
    np.testing.assert_array_equal(plain, reference("RG3_UNCI.dcm", invert=False))


def test_all_frames() -> None:
    got = ours("emri_small.dcm")
    assert got.shape == (10, 64, 64)
    for k in (0, 9):
        np.testing.assert_array_equal(got[k], reference("emri_small.dcm", frame=k))


def test_per_frame_functional_groups() -> None:
    """Frame VOI LUT in the per-frame groups wins over the shared one (PS3.3 C.7.6.16)."""
    ds = dicomkit.read(data_file("eCT_Supplemental.dcm"))
    per_frame = ds.PerFrameFunctionalGroupsSequence
    from dicomkit.dataset import Dataset, Sequence

    voi = Dataset()
    voi.WindowCenter = "100"
    voi.WindowWidth = "50"
    per_frame[1].FrameVOILUTSequence = Sequence([voi])
    both = to_display(ds)
    np.testing.assert_array_equal(both[0], reference("eCT_Supplemental.dcm", frame=0))
    np.testing.assert_array_equal(both[1], reference("eCT_Supplemental.dcm", frame=1, window=(100.0, 50.0)))
    np.testing.assert_array_equal(to_display(ds, 1), both[1])
    # the functions on the whole (frames, rows, cols) stack go frame by frame too
    stack = apply_voi_lut(apply_modality_lut(pixel_array(ds), ds), ds)
    np.testing.assert_array_equal(np.floor(stack + 0.5).astype(np.uint8), both)


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["SC_rgb.dcm", "SC_rgb_2frame.dcm", "SC_ybr_full_uncompressed.dcm", "US1_UNCR.dcm"]
)
def test_rgb_8bit_is_pydicoms_rgb(name: str) -> None:
    expected = pydicom.dcmread(data_file(name)).pixel_array
    np.testing.assert_array_equal(ours(name), expected)


def test_rgb_16bit_scaled_to_8() -> None:
    x = pydicom.dcmread(data_file("SC_rgb_16bit.dcm")).pixel_array.astype(np.float64)
    expected = np.floor(x * 255 / 65535 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(ours("SC_rgb_16bit.dcm"), expected)


@pytest.mark.parametrize("name", ["OBXXXX1A.dcm", "OBXXXX1A_2frame.dcm", "gdcm-US-ALOKA-16.dcm"])
def test_palette_is_pydicoms_color_lut(name: str) -> None:
    from pydicom.pixels import apply_color_lut

    pds = pydicom.dcmread(data_file(name))
    rgb = apply_color_lut(pds.pixel_array, pds)
    if rgb.dtype != np.uint8:  # 16-bit palette entries
        rgb = np.floor(rgb.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(ours(name), rgb)


# -- float pixel data ----------------------------------------------------------------------------------


def _float_dataset(values: Any, double: bool = False, **attrs: Any) -> Any:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.30"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    if double:
        ds.BitsAllocated = 64
        ds.DoubleFloatPixelData = values.astype("<f8").tobytes()
    else:
        ds.BitsAllocated = 32
        ds.FloatPixelData = values.astype("<f4").tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return dicomkit.read(buffer.getvalue())


@pytest.mark.parametrize("double", [False, True])
def test_float_pixel_data_windowed(double: bool) -> None:
    values = np.array([[-1.5, 0.0, 0.25], [0.5, 0.75, np.nan]])
    ds = _float_dataset(values, double, WindowCenter="0.5", WindowWidth="1", VOILUTFunction="LINEAR_EXACT")
    # LINEAR_EXACT c = 0.5, w = 1: ((x - 0.5) / 1 + 0.5) * 255 → 0, 0, 63.75, 127.5, 191.25; NaN → 0
    np.testing.assert_array_equal(to_display(ds), [[0, 0, 64], [128, 191, 0]])


@pytest.mark.parametrize("double", [False, True])
def test_float_pixel_data_without_window_is_stretched(double: bool) -> None:
    values = np.array([[2.0, 4.0], [3.0, 6.0]])
    # (x - 2) / 4 * 255 → 0, 127.5, 63.75, 255
    np.testing.assert_array_equal(to_display(_float_dataset(values, double)), [[0, 128], [64, 255]])


# -- pydicom's functions, where the semantics agree ------------------------------------------------------


@pytest.mark.parametrize("name", ["CT_small.dcm", "mlut_18.dcm", "MR2_UNCI.dcm", "6154"])
def test_modality_lut_equals_pydicom(name: str) -> None:
    from pydicom.pixels import apply_modality_lut as pd_modality

    pds = pydicom.dcmread(data_file(name))
    expected = pd_modality(pds.pixel_array, pds)
    ds = dicomkit.read(data_file(name))
    np.testing.assert_array_equal(apply_modality_lut(pixel_array(ds), ds), expected)


def _pydicom_range(pds: Any) -> tuple[float, float]:
    """The output range pydicom's apply_windowing uses (Bits Stored, then the rescale)."""
    bits = int(pds.BitsStored)
    lo, hi = (
        (0.0, 2.0**bits - 1)
        if pds.PixelRepresentation == 0
        else (-(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1)
    )
    if "RescaleSlope" in pds:
        m, b = float(pds.RescaleSlope), float(pds.RescaleIntercept)
        lo, hi = lo * m + b, hi * m + b
    return lo, hi


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("MR_small.dcm", None),
        ("MR_small.dcm", "LINEAR_EXACT"),
        ("MR_small.dcm", "SIGMOID"),
        ("693_UNCI.dcm", None),
        ("MR2_UNCI.dcm", None),
        ("RG1_UNCI.dcm", None),
    ],
)
def test_windowing_equals_pydicom(name: str, function: str | None) -> None:
    from pydicom.pixels import apply_modality_lut as pd_modality
    from pydicom.pixels import apply_voi_lut as pd_voi

    pds = pydicom.dcmread(data_file(name))
    ds = dicomkit.read(data_file(name))
    if function:
        pds.VOILUTFunction = function
        ds.VOILUTFunction = function
    expected = pd_voi(pd_modality(pds.pixel_array, pds), pds)
    got = apply_voi_lut(apply_modality_lut(pixel_array(ds), ds), ds, output_range=_pydicom_range(pds))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * (np.ptp(expected) or 1))


def test_voi_lut_sequence_equals_pydicom() -> None:
    from pydicom.pixels import apply_voi_lut as pd_voi

    pds = pydicom.dcmread(data_file("vlut_04.dcm"))
    ds = dicomkit.read(data_file("vlut_04.dcm"))
    expected = pd_voi(pds.pixel_array, pds)  # the raw 16-bit LUT entries
    got = apply_voi_lut(pixel_array(ds), ds, output_range=(0.0, 65535.0))
    np.testing.assert_array_equal(got, expected)


# -- attributes and errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "units"),
    [
        ("CT_small.dcm", "HU"),
        ("693_UNCI.dcm", "HU"),
        ("MR2_UNCI.dcm", "US"),
        ("6154", "OD"),
        ("mlut_18.dcm", "US"),
        ("MR_small.dcm", None),
    ],
)
def test_modality_units(name: str, units: str | None) -> None:
    assert modality_units(dicomkit.read(data_file(name))) == units


def test_window_index_out_of_range() -> None:
    with pytest.raises(PixelDataError, match="window 2 requested but the data set has 2"):
        ours("examples_overlay.dcm", index=2)


def test_mismatched_window_values() -> None:
    ds = dicomkit.read(data_file("MR_small.dcm"))
    ds.WindowWidth = ("100", "200")
    with pytest.raises(PixelDataError, match="Window Center has 1 values but"):
        to_display(ds)


def test_no_pixel_data() -> None:
    with pytest.raises(PixelDataError, match="no Pixel Data"):
        to_display(dicomkit.read(data_file("rtplan.dcm")))


def test_first_value_mapped_read_as_us_for_signed_pixels() -> None:
    """The implicit-VR reader takes LUT Descriptor as US (docs/conformance.md): 63488 is -2048 when
    Pixel Representation is 1 (PS3.3 C.11.1.1.1)."""
    ds = dicomkit.read(data_file("mlut_18.dcm"))
    ds.ModalityLUTSequence[0].LUTDescriptor = (4096, 63488, 16)
    np.testing.assert_array_equal(to_display(ds), reference("mlut_18.dcm"))


def test_modality_lut_8bit_entries_packed_in_ow() -> None:
    """8-bit Modality LUT entries are stored as 8 bits allocated: two per OW word (PS3.3 C.11.1.1.1)."""
    from dicomkit.dataset import DataElement

    ds = dicomkit.read(data_file("mlut_18.dcm"))
    item = ds.ModalityLUTSequence[0]
    table = (np.arange(4096) * 7 % 256).astype(np.uint8)  # not monotonic: a wrong index shows
    item.LUTDescriptor = (4096, -2048, 8)
    item[0x00283006] = DataElement(0x00283006, "OW", table.tobytes())
    stored = pydicom.dcmread(data_file("mlut_18.dcm")).pixel_array.astype(int)
    expected = table[np.clip(stored + 2048, 0, 4095)]
    np.testing.assert_array_equal(apply_modality_lut(pixel_array(ds), ds), expected)


def test_voi_lut_8bit_entries() -> None:
    """A VOI LUT of 8-bit entries (one per US value) is scaled from 0..255."""
    ds = dicomkit.read(data_file("vlut_04.dcm"))
    item = ds.VOILUTSequence[0]
    table = [255 - k for k in range(256)]
    item.LUTDescriptor = (256, 0, 8)
    item.LUTData = tuple(table)
    stored = pydicom.dcmread(data_file("vlut_04.dcm")).pixel_array.astype(int)
    expected = 255 - np.clip(stored, 0, 255)
    np.testing.assert_array_equal(to_display(ds), expected.astype(np.uint8))
    np.testing.assert_allclose(apply_voi_lut(pixel_array(ds), ds, output_range=(0.0, 1.0)), expected / 255)


def test_short_lut_data() -> None:
    ds = dicomkit.read(data_file("vlut_04.dcm"))
    item = ds.VOILUTSequence[0]
    item.LUTDescriptor = (4096, 0, 16)  # more entries than the 256 present
    with pytest.raises(PixelDataError, match="has 256 entries, its descriptor says 4096"):
        to_display(ds)


# -- DCMTK dcm2pnm as an oracle ------------------------------------------------------------------------------

# name -> (dcm2pnm options, to_display keywords, data set changes, allowed dicomkit - DCMTK differences)
TRUNCATES = frozenset({0, 1})  # DCMTK truncates the windowed value where we round half up
DCMTK_CASES: dict[str, tuple[list[str], dict[str, Any], dict[str, str], frozenset[int]]] = {
    "MR_small.dcm": (["+Wi", "1"], {}, {}, TRUNCATES),
    "MR_small.dcm sigmoid": (["+Wi", "1", "+Wfs"], {}, {"VOILUTFunction": "SIGMOID"}, TRUNCATES),
    "MR_small.dcm window": (["+Ww", "600", "800"], {"window": (600.0, 800.0)}, {}, TRUNCATES),
    "693_UNCI.dcm": (["+Wi", "1"], {}, {}, TRUNCATES),
    "6154": (["+Wi", "1"], {}, {}, TRUNCATES),  # MONOCHROME1 with rescale
    "examples_overlay.dcm": (["+Wi", "2", "-O"], {"index": 1}, {}, TRUNCATES),  # second window, no overlays
    "CT_small.dcm": (["+Wm"], {}, {}, TRUNCATES),
    "emri_small.dcm": (["+Wm", "+F", "4"], {"frame": 3}, {}, TRUNCATES),
    "mlut_18.dcm": (["+Wm"], {}, {}, TRUNCATES),
    "vlut_04.dcm": (["+Wl", "1"], {}, {}, frozenset({0})),
    "SC_rgb_16bit.dcm": ([], {}, {}, frozenset({0})),
    # 16-bit palette entries: DCMTK's scaling to 8 bits is at most 1 above ours
    "OBXXXX1A.dcm": ([], {}, {}, frozenset({-1, 0})),
}


@pytest.mark.parametrize("case", sorted(DCMTK_CASES))
def test_dcm2pnm(case: str, tmp_path: Path) -> None:
    if shutil.which("dcm2pnm") is None:
        pytest.skip("DCMTK's dcm2pnm is not installed")
    from PIL import Image

    options, kwargs, changes, allowed = DCMTK_CASES[case]
    name = case.split()[0]
    target = tmp_path / "out.png"
    subprocess.run(
        ["dcm2pnm", *options, "--write-png", data_file(name), str(target)], check=True, capture_output=True
    )
    dcmtk = np.asarray(Image.open(target)).astype(int)
    ds = dicomkit.read(data_file(name))
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    diff = to_display(ds, **kwargs).astype(int) - dcmtk
    assert set(np.unique(diff).tolist()) <= allowed
