"""dicomkit.archive.storage: UID-derived paths (PS3.5 9.1) never leave the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomkit.archive.storage import FileStore, uid_problem
from dicomkit.errors import ArchiveError


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty"),
        (None, "missing"),
        ("..", "not a valid UID"),
        ("../1.2", "not a valid UID"),
        ("/1.2.3", "not a valid UID"),
        ("1.2/3", "not a valid UID"),
        ("1.2\x00", "NUL"),
        ("1." + "2" * 63, "65 characters"),
        ("1..2", "not a valid UID"),
        (".1.2", "not a valid UID"),
        ("1.02", "not a valid UID"),  # PS3.5 9.1: no leading zero in a component
        ("1.2 ", "not a valid UID"),
    ],
)
def test_invalid_uids(value: object, why: str, tmp_path: Path) -> None:
    problem = uid_problem(value, "SOP Instance UID")
    assert problem is not None and why in problem
    with pytest.raises(ArchiveError, match="SOP Instance UID"):
        FileStore(tmp_path).path_for("1.2", "1.2.3", value)  # type: ignore[arg-type]


def test_valid_paths(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    uid64 = "1." + "2" * 62
    assert uid_problem(uid64, "x") is None and uid_problem("0", "x") is None
    path = store.path_for("1.2", "1.2.3", uid64)
    assert path == tmp_path / "files" / "1.2" / "1.2.3" / (uid64 + ".dcm")
    assert store.contains(path)
    assert not store.contains(tmp_path / "files" / ".." / "x")
    assert not store.contains(tmp_path / "elsewhere.dcm")


def test_remove_never_touches_files_outside(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "root")
    outside = tmp_path / "user.dcm"
    outside.write_bytes(b"x")
    assert store.remove(outside) is False and outside.exists()
    link = tmp_path / "root" / "files" / "1" / "2" / "3.dcm"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)  # a symlink inside the store pointing out: resolved, refused
    assert store.remove(link) is False and outside.exists()


def test_sync_each_fsyncs_every_file_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sync="each": no syncfs batching — each stored file and each directory it touched is fsynced
    import os

    import dicomkit.archive
    from tests.archive import data

    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    sources = data.tree(tmp_path / "in", [[3]])
    with dicomkit.archive.open(tmp_path / "each", sync="each") as archive:
        report = archive.store_many(sources, workers=0)  # in this process: fsync calls are seen
        assert report.counts["stored"] == 3
        assert sum(1 for _ in archive.iter_instances()) == 3
    assert len(synced) >= 3 + 1  # three files, at least their series folder
    # the option travels to worker processes too (the store is pickled for them)
    with dicomkit.archive.open(tmp_path / "each-workers", sync="each") as archive:
        assert archive.store_many(sources, workers=2).counts["stored"] == 3
    with pytest.raises(ArchiveError, match="sync must be one of"):
        FileStore(tmp_path, sync="never")


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 524_301])
def test_the_content_digest_is_zlibs_crc32(size: int) -> None:
    # ISA-L computes it when installed (the speedups extra): it must be the same checksum
    import random
    import zlib

    from dicomkit.archive.archive import _crc32, digest_of

    data = random.Random(size).randbytes(size)
    assert digest_of(data) == f"crc32:{zlib.crc32(data):08x}"
    half = size // 2
    assert _crc32(data[half:], _crc32(data[:half])) == zlib.crc32(data)  # incremental, as verify uses it
