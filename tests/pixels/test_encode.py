"""``set_pixel_data``: native pixel data and a consistent pixel module.

Oracle: pydicom 3 reads every file written after ``set_pixel_data`` and its ``pixel_array``
must equal the array given (and dicomkit's own read-back too); the expected attribute values
are PS3.3 C.7.6.3 / PS3.5 8.1 rules applied by hand.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit import Dataset
from dicomkit.dataset import DataElement
from dicomkit.errors import PixelDataError
from dicomkit.pixels import pixel_array
from dicomkit.pixels.encode import set_pixel_data

pydicom = pytest.importorskip("pydicom")


def _new() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    return ds


def _round_trip(ds: Dataset, syntax: str | None = None) -> bytes:
    buf = io.BytesIO()
    dicomkit.write(ds, buf, transfer_syntax=syntax)
    return buf.getvalue()


def _pydicom_array(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
        return np.asarray(ds.pixel_array)


@st.composite
def _arrays(draw: Any) -> tuple[np.ndarray, dict[str, Any]]:
    kind = draw(st.sampled_from(["u1", "i1", "u2", "i2", "u4", "i4", "f4", "f8", "bool"]))
    samples = 1 if kind[0] == "f" else draw(st.sampled_from([1, 3]))
    frames = draw(st.sampled_from([0, 1, 2, 3]))
    rows = draw(st.integers(1, 6))
    cols = draw(st.integers(1, 7))
    shape: tuple[int, ...] = (rows, cols) + ((samples,) if samples == 3 else ())
    if frames:
        shape = (frames, *shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kwargs: dict[str, Any] = {}
    if kind == "bool":
        arr = rng.integers(0, 2, shape).astype(bool)
    elif kind[0] == "f":
        arr = rng.normal(size=shape).astype(kind)
    else:
        dt = np.dtype(kind)
        bits = dt.itemsize * 8
        bs = draw(st.integers(2 if dt.kind == "i" else 1, bits))
        if dt.kind == "i":
            arr = rng.integers(-(1 << (bs - 1)), 1 << (bs - 1), shape, dtype=np.int64).astype(dt)
        else:
            arr = rng.integers(0, 1 << bs, shape, dtype=np.uint64).astype(dt)
        kwargs["bits_stored"] = bs
    if samples == 3:
        kwargs["photometric_interpretation"] = "RGB"
        kwargs["planar_configuration"] = draw(st.sampled_from([0, 1]))
    elif arr.ndim == 3:
        kwargs["photometric_interpretation"] = "MONOCHROME2"
    return arr, kwargs


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_arrays(), syntax=st.sampled_from(["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]))
def test_round_trip_through_write_read_and_pydicom(
    case: tuple[np.ndarray, dict[str, Any]], syntax: str
) -> None:
    arr, kwargs = case
    ds = _new()
    set_pixel_data(ds, arr, **kwargs)
    expected = arr.astype(np.uint8) if arr.dtype == bool else arr
    if arr.ndim == (3 if kwargs.get("photometric_interpretation") != "RGB" else 4) and len(arr) == 1:
        expected = expected[0]  # one frame reads back without a frame axis (as pydicom's)
    assert np.array_equal(pixel_array(ds), expected)  # in memory, before writing
    data = _round_trip(ds, syntax)
    back = dicomkit.read(io.BytesIO(data))
    assert np.array_equal(pixel_array(back), expected)
    theirs = _pydicom_array(data)
    assert theirs.shape == expected.shape
    assert np.array_equal(theirs, expected)
    assert theirs.dtype.kind == expected.dtype.kind


def test_pixel_module_is_what_ps33_says() -> None:
    ds = _new()
    arr = np.arange(2 * 3 * 4 * 3, dtype=np.int16).reshape(2, 3, 4, 3) - 30
    set_pixel_data(ds, arr, photometric_interpretation="RGB", bits_stored=12, planar_configuration=1)
    assert (ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.NumberOfFrames) == (3, 4, 3, 2)
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 1)
    assert (ds.PhotometricInterpretation, ds.PlanarConfiguration) == ("RGB", 1)
    assert ds["PixelData"].VR == "OW"
    # planar configuration 1: frame 0's R plane first (PS3.3 C.7.6.3.1.3)
    raw = np.frombuffer(ds.PixelData, dtype="<i2")
    assert np.array_equal(raw[:12], arr[0, :, :, 0].reshape(-1))


def test_one_bit_packing_is_little_endian_bit_order() -> None:
    # PS3.5 8.1.1: the first pixel is the least significant bit of the first byte
    ds = _new()
    bits = np.array([[1, 0, 0, 0, 0, 0, 0, 0, 1, 1]], dtype=bool)
    set_pixel_data(ds, bits)
    assert ds.PixelData == bytes([0b00000001, 0b00000011])
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (1, 1, 0)
    assert ds["PixelData"].VR == "OB"


def test_float_pixel_data() -> None:
    ds = _new()
    ds.BitsStored = 16  # stale: not in the Floating Point Image Pixel module
    set_pixel_data(ds, np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4))
    assert "FloatPixelData" in ds and "PixelData" not in ds and "BitsStored" not in ds
    assert ds["FloatPixelData"].VR == "OF"
    set_pixel_data(ds, np.zeros((2, 2), dtype=np.float64))
    assert "DoubleFloatPixelData" in ds and "FloatPixelData" not in ds


@pytest.mark.parametrize(
    ("arr", "kwargs", "message"),
    [
        (np.array([[4096]], dtype=np.uint16), {"bits_stored": 12}, "do not fit Bits Stored 12"),
        (np.array([[-2049]], dtype=np.int16), {"bits_stored": 12}, "do not fit Bits Stored 12"),
        (np.zeros((2, 2), dtype=np.uint8), {"bits_stored": 9}, "Bits Stored 9"),
        (np.zeros((2, 2, 2), dtype=np.uint8), {"photometric_interpretation": "RGB"}, "does not fit RGB"),
        (np.zeros((2, 2, 3), dtype=np.float32), {}, "one sample"),
        (np.zeros((2, 2), dtype=np.complex64), {}, "integer, bool or float"),
        (np.zeros((0, 2), dtype=np.uint8), {}, "no pixels"),
        (np.zeros((2, 2), dtype=np.uint8), {"photometric_interpretation": "YBR_FULL_422"}, "YBR_FULL"),
        (np.full((2, 2), 2, dtype=np.uint8), {"bits_allocated": 1}, "do not fit Bits Stored 1"),
    ],
)
def test_bad_input_is_a_pixel_data_error(arr: np.ndarray, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PixelDataError, match=message):
        set_pixel_data(_new(), arr, **kwargs)


def test_stale_attributes_are_removed() -> None:
    path = pydicom.data.get_testdata_file("OBXXXX1A.dcm", download=False)  # PALETTE COLOR, 8-bit
    if path is None:
        pytest.skip("pydicom-data is not installed")
    ds = dicomkit.read(path)
    assert "RedPaletteColorLookupTableData" in ds
    ds[0x00280106] = DataElement(0x00280106, "US", 0)
    ds[0x7FE00001] = DataElement(0x7FE00001, "OV", b"\0" * 8)
    set_pixel_data(ds, np.zeros((4, 5), dtype=np.uint16))
    for keyword in (
        "RedPaletteColorLookupTableData",
        "RedPaletteColorLookupTableDescriptor",
        "SmallestImagePixelValue",
        "ExtendedOffsetTable",
        "PlanarConfiguration",
    ):
        assert keyword not in ds, keyword
    theirs = _pydicom_array(_round_trip(ds))
    assert theirs.shape == (4, 5) and not theirs.any()


def test_encapsulated_source_becomes_explicit_little_endian() -> None:
    ds = dicomkit.read(pydicom.data.get_testdata_file("MR_small_RLE.dcm", download=False))
    original = pixel_array(ds).copy()
    set_pixel_data(ds, original)
    assert ds.meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert not ds["PixelData"].undefined_length
    assert np.array_equal(_pydicom_array(_round_trip(ds)), original)


def test_big_endian_data_set_keeps_its_byte_order() -> None:
    ds = dicomkit.read(pydicom.data.get_testdata_file("MR_small_bigendian.dcm", download=False))
    arr = (np.arange(64 * 64, dtype=np.int16).reshape(64, 64) % 3000) - 1000
    set_pixel_data(ds, arr)
    assert ds.meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
    assert np.array_equal(pixel_array(ds), arr)
    assert np.array_equal(_pydicom_array(_round_trip(ds)), arr)


def test_copy_is_not_changed() -> None:
    ds = dicomkit.read(pydicom.data.get_testdata_file("CT_small.dcm", download=False))
    copy = ds.copy()
    set_pixel_data(copy, np.zeros((2, 3), dtype=np.uint8))
    assert (ds.Rows, ds.BitsAllocated) == (128, 16)
    assert (copy.Rows, copy.BitsAllocated) == (2, 8)


def test_pixel_padding_value_goes_when_pixel_representation_changes() -> None:
    # (0028,0120) is US or SS by Pixel Representation (PS3.3 C.7.5.1.1.2)
    ds = _new()
    set_pixel_data(ds, np.zeros((2, 2), dtype=np.int16))
    ds[0x00280120] = DataElement(0x00280120, "SS", -2000)
    set_pixel_data(ds, np.ones((2, 2), dtype=np.int16))
    assert ds.PixelPaddingValue == -2000  # same representation: kept
    set_pixel_data(ds, np.ones((2, 2), dtype=np.uint16))
    assert "PixelPaddingValue" not in ds
