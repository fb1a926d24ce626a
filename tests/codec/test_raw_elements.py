"""codec.reader.raw_elements: (tag, VR, bytes) without building DataElements, equal to what the
DataElements say."""

from __future__ import annotations

import warnings
from pathlib import Path

import dicomkit
from dicomkit.codec.reader import raw_elements
from dicomkit.dataset import DataElement
from dicomkit.errors import DicomError


def _read(path: Path) -> dicomkit.Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = dicomkit.read(path)
            len(ds)  # the whole top level: a file that fails later fails here
            return ds
        except DicomError:
            return None


def test_raw_elements_equal_the_data_elements_on_pydicom_test_files(pydicom_test_files: list[Path]) -> None:
    compared = skipped_building = 0
    for path in pydicom_test_files:
        ds = _read(path)
        if ds is None:
            continue
        reference = _read(path)
        assert reference is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = list(raw_elements(ds))
            want = [(int(e.tag), e.VR._value_, e.raw) for e in reference]
        assert [(t, vr, raw) for t, vr, raw, _ in got] == want, path
        for tag, _, _, elem in got:
            if elem is None:
                skipped_building += 1
                assert type(ds._d[tag]) is not DataElement  # still the reader's entry
            else:
                assert elem is ds[tag]
        compared += len(got)
    assert compared > 10_000
    assert skipped_building > compared // 2  # most elements need no DataElement


def test_raw_elements_of_a_data_set_built_in_memory() -> None:
    ds = dicomkit.Dataset()
    ds.PatientName = "DOE^JANE"
    ds.Rows = 4
    got = list(raw_elements(ds))
    assert [(t, vr) for t, vr, _, _ in got] == [(0x00100010, "PN"), (0x00280010, "US")]
    assert all(elem is ds[t] for t, _, _, elem in got)


def test_raw_elements_completes_a_lazy_read(tmp_path: Path) -> None:
    ds = dicomkit.Dataset()
    ds.SOPInstanceUID = "1.2.3"
    ds.PatientID = "X"
    ds.StudyDate = "20240101"
    path = tmp_path / "a.dcm"
    dicomkit.write(ds, path, validate=False)
    lazy = dicomkit.read(path, stop_before_pixels=True)
    assert [t for t, *_ in raw_elements(lazy)] == [0x00080018, 0x00080020, 0x00100020]


def test_excluded_elements_are_skipped_without_touching_their_values() -> None:
    ds = dicomkit.Dataset()
    ds.PatientID = "X"
    ds.Rows = 2
    import io

    buf = io.BytesIO()
    dicomkit.write(ds, buf, validate=False)
    read_back = dicomkit.read(buf.getvalue())
    got = [t for t, *_ in raw_elements(read_back, lambda t: t >> 16 == 0x0028)]
    assert got == [0x00100020]
    assert type(read_back._d[0x00280010]) is not DataElement  # never built
