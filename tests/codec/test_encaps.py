"""Encapsulated pixel data (PS3.5 A.4): fragments and frames, with pydicom as the oracle."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import generate_frames

import dicomkit
from dicomkit.codec.encaps import encapsulated_frames, get_frame, iter_frames, parse_encapsulated
from dicomkit.dataset import DataElement, Dataset
from dicomkit.errors import DecodeError, PixelDataError


def _encapsulated_files(files: list[Path]) -> list[Path]:
    out = []
    for p in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True)
            except Exception:
                continue
        ts = getattr(ds, "file_meta", None) and ds.file_meta.get("TransferSyntaxUID")
        if ts and ts.is_compressed:
            out.append(p)
    return out


def test_frames_equal_pydicom(pydicom_test_files: list[Path]) -> None:
    files = _encapsulated_files(pydicom_test_files)
    assert len(files) >= 50  # the installed test data has 58 encapsulated files
    compared = 0
    for p in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_ds = pydicom.dcmread(p)
            if "PixelData" not in ref_ds:
                continue
            nf = int(ref_ds.get("NumberOfFrames", 1) or 1)
            ref = list(generate_frames(ref_ds.PixelData, number_of_frames=nf))
            ds = dicomkit.read(p)
        assert encapsulated_frames(ds) == ref, p.name
        assert list(iter_frames(ds)) == ref, p.name
        assert get_frame(ds, len(ref) - 1) == ref[-1], p.name
        compared += 1
    assert compared >= 50


def _item(data: bytes) -> bytes:
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(data)) + data


def _ds(value: bytes, frames: int, **extra: DataElement) -> Dataset:
    ds = Dataset()
    ds.NumberOfFrames = frames
    for elem in extra.values():
        ds[elem.tag] = elem
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB", value, undefined_length=True)
    return ds


FRAG_A, FRAG_B, FRAG_C = b"\xff\xd8AAAA", b"BBBB", b"\xff\xd8CC"


def test_basic_offset_table_groups_fragments() -> None:
    # frame 0 = A + B (two fragments), frame 1 = C; offsets count from the first fragment item tag
    bot = struct.pack("<2L", 0, 8 + len(FRAG_A) + 8 + len(FRAG_B))
    value = _item(bot) + _item(FRAG_A) + _item(FRAG_B) + _item(FRAG_C)
    ds = _ds(value, 2)
    assert encapsulated_frames(ds) == [FRAG_A + FRAG_B, FRAG_C]
    assert get_frame(ds, 1) == FRAG_C
    assert get_frame(ds, -1) == FRAG_C
    with pytest.raises(PixelDataError):
        get_frame(ds, 2)


def test_empty_offset_table_uses_markers() -> None:
    value = _item(b"") + _item(FRAG_A) + _item(FRAG_B) + _item(FRAG_C)
    assert encapsulated_frames(_ds(value, 2)) == [FRAG_A + FRAG_B, FRAG_C]
    assert encapsulated_frames(_ds(value, 1)) == [FRAG_A + FRAG_B + FRAG_C]
    assert encapsulated_frames(_ds(value, 3)) == [FRAG_A, FRAG_B, FRAG_C]
    with pytest.raises(PixelDataError, match="fragments"):
        encapsulated_frames(_ds(value, 5))


def test_extended_offset_table() -> None:
    value = _item(b"") + _item(FRAG_A) + _item(FRAG_C)
    eot = DataElement(0x7FE00001, "OV", struct.pack("<2Q", 0, 8 + len(FRAG_A)))
    eotl = DataElement(0x7FE00002, "OV", struct.pack("<2Q", len(FRAG_A), len(FRAG_C)))
    ds = _ds(value, 2, eot=eot, eotl=eotl)
    assert encapsulated_frames(ds) == [FRAG_A, FRAG_C]


def test_bad_offset_table_is_reported() -> None:
    bot = struct.pack("<2L", 0, 3)  # 3 does not point at an item
    value = _item(bot) + _item(FRAG_A) + _item(FRAG_C)
    with pytest.raises(PixelDataError, match="Basic Offset Table entry 1"):
        encapsulated_frames(_ds(value, 2))


def test_malformed_items_raise_decode_error() -> None:
    with pytest.raises(DecodeError):
        parse_encapsulated(b"\x00" * 4)
    with pytest.raises(DecodeError, match="item tag"):
        parse_encapsulated(struct.pack("<HHL", 0x0008, 0x0010, 0))
    with pytest.raises(DecodeError) as exc:
        parse_encapsulated(_item(b"") + struct.pack("<HHL", 0xFFFE, 0xE000, 100) + b"xx")
    assert exc.value.offset == 8


def test_native_pixel_data_is_not_encapsulated() -> None:
    ds = Dataset()
    ds[0x7FE00010] = DataElement(0x7FE00010, "OW", b"\x00\x00")
    with pytest.raises(PixelDataError, match="native"):
        encapsulated_frames(ds)
    with pytest.raises(PixelDataError, match="no Pixel Data"):
        encapsulated_frames(Dataset())
