"""The archive's file store: UID-validated paths under the root, atomic durable writes.

Layout: ``<root>/files/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``. Every path
component comes from a UID that passed PS3.5 9.1 validation (1-64 characters, digits and dots, no
empty component, no leading zero), so no component can be ``..``, absolute, hold a separator or a
NUL; the joined path is checked once more to resolve under the root.

A write goes to a temporary file in the destination directory (``.<sop>.<random>.tmp``).
Durability is batched (group commit): before a batch's index transaction commits, the caller
makes the batch's temporary files durable (:meth:`FileStore.sync_data`), renames them over their
final names (:meth:`FileStore.publish`) and makes the renames durable
(:meth:`FileStore.sync_names`). On Linux both steps are one ``syncfs(2)`` of the archive's file
system each — far cheaper than an fsync per file, which costs a journal commit each; elsewhere
every file is fsynced as it is written and every touched directory before the commit. A crash
therefore leaves complete indexed files, plus files or temporary files without an index row,
which ``verify`` reports and removes.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

from dicomkit.errors import ArchiveError
from dicomkit.uid import is_valid_uid

__all__ = ["FILES_DIR", "SYNC_MODES", "TEMP_SUFFIX", "FileStore", "fsync_dirs", "uid_problem"]

FILES_DIR = "files"
TEMP_SUFFIX = ".tmp"
_SUFFIX = ".dcm"


def uid_problem(value: object, name: str) -> str | None:
    """Why ``value`` cannot name a path component (None when it is a valid UID, PS3.5 9.1)."""
    if not isinstance(value, str):
        return f"{name} is missing"
    if value == "":
        return f"{name} is empty"
    if "\x00" in value:
        return f"{name} {value[:80]!r} holds a NUL byte"
    if len(value) > 64:
        return f"{name} is {len(value)} characters long (PS3.5 9.1 allows 64)"
    if not is_valid_uid(value):
        return f"{name} {value!r} is not a valid UID (PS3.5 9.1: digits and dots, no empty component)"
    return None


class FileStore:
    """Paths and atomic writes under ``<root>/files``."""

    def __init__(self, root: Path, *, sync: str = "batch") -> None:
        if sync not in SYNC_MODES:
            raise ArchiveError(f"sync must be one of {', '.join(SYNC_MODES)}, not {sync!r}")
        self.root = root
        #: syncfs(2) once per batch ("batch", Linux) or an fsync per file and directory (a plain
        #: bool: the store is sent to worker processes, the ctypes function is not picklable)
        self._batch_sync = sync == "batch" and _SYNCFS is not None
        self.files = root / FILES_DIR
        self._real_files = os.path.realpath(self.files)
        self._norm_files = os.path.normpath(self.files)

    def path_for(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        """The stored file's path; :class:`ArchiveError` for anything but valid UIDs."""
        for value, name in (
            (study_uid, "Study Instance UID"),
            (series_uid, "Series Instance UID"),
            (sop_uid, "SOP Instance UID"),
        ):
            problem = uid_problem(value, name)
            if problem:
                raise ArchiveError(problem)
        path = self.files / study_uid / series_uid / (sop_uid + _SUFFIX)
        # a second fence, unreachable with valid UIDs (no syscalls: this runs once per import)
        if not os.path.normpath(path).startswith(self._norm_files + os.sep):
            raise ArchiveError(f"{path} would leave the archive root")
        return path

    def contains(self, path: Path | str) -> bool:
        """True when ``path`` lies inside the file store (no traversal, symlinks resolved)."""
        real = os.path.realpath(path)
        return real.startswith(self._real_files + os.sep)

    def write_temp(self, final: Path, data: bytes | memoryview, *, source: str | None = None) -> Path:
        """Write ``data`` to a temporary file next to ``final`` (fsynced unless ``syncfs`` batches
        durability); returns its path. With ``source`` (a file holding exactly ``data``) the
        kernel copies it (``copy_file_range``), which is several times faster than writing.

        Any OSError (disk full, permissions) leaves no file behind and becomes an
        :class:`ArchiveError` naming the cause.
        """
        directory = final.parent
        tmp = directory / f".{final.stem}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        fd = -1
        try:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:  # a new study or series folder (mkdir only then: it is not free)
                directory.mkdir(parents=True, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            if source is None or not _kernel_copy(source, fd, len(data)):
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            if not self._batch_sync:
                os.fsync(fd)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
                fd = -1
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise _archive_error(exc, f"cannot write {final}") from exc
        finally:
            if fd >= 0:
                os.close(fd)
        return tmp

    def sync_data(self, temps: Iterable[Path | str]) -> None:
        """Make the written temporary files durable (before they are renamed into place)."""
        if self._batch_sync and any(True for _ in temps):
            self._syncfs()

    def sync_names(self, published: Iterable[Path | str]) -> None:
        """Make the renames durable (before the index commit)."""
        if self._batch_sync:
            if any(True for _ in published):
                self._syncfs()
        else:
            fsync_dirs(Path(p) for p in published)

    def _syncfs(self) -> None:
        assert _SYNCFS is not None
        self.files.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.files, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise _archive_error(OSError(err, os.strerror(err)), "cannot sync the file store")
        finally:
            os.close(fd)

    @staticmethod
    def publish(tmp: Path | str, final: Path | str) -> None:
        """Rename the durable temporary file over the final name (atomic on POSIX)."""
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise _archive_error(exc, f"cannot rename {tmp} to {final}") from exc

    @staticmethod
    def discard(tmp: Path | str | None) -> None:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def remove(self, path: Path) -> bool:
        """Delete a stored file (only inside the store; linked files are never touched)."""
        if not self.contains(path):
            return False
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _archive_error(exc, f"cannot delete {path}") from exc
        for parent in (path.parent, path.parent.parent):  # empty series / study folders
            try:
                parent.rmdir()
            except OSError:
                break
        return True


def fsync_dirs(paths: Iterable[Path]) -> None:
    """fsync each stored file's directory and the two above it (a new series or study folder's
    entry lives in its parent), each distinct directory once."""
    seen: set[Path] = set()
    for path in paths:
        d = path.parent
        for _ in range(3):
            if d in seen:
                break
            seen.add(d)
            d = d.parent
    for d in seen:
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _archive_error(exc, f"cannot open {d}") from exc
        try:
            os.fsync(fd)
        except OSError as exc:
            raise _archive_error(exc, f"cannot fsync {d}") from exc
        finally:
            os.close(fd)


def _kernel_copy(source: str, fd: int, size: int) -> bool:
    """Copy ``size`` bytes of ``source`` to ``fd`` in the kernel; False when it cannot (then
    nothing was written) — a changed source, or no ``copy_file_range`` here."""
    if not hasattr(os, "copy_file_range"):
        return False
    try:
        src = os.open(source, os.O_RDONLY)
    except OSError:
        return False
    try:
        if os.fstat(src).st_size != size:
            return False
        done = 0
        while done < size:
            n = os.copy_file_range(src, fd, size - done)
            if n == 0:
                break
            done += n
        if done != size:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            return False
        return True
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        return False
    finally:
        os.close(src)


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs(2)`` (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return cast("Callable[[int], int]", fn)


_SYNCFS = _load_syncfs()

#: how stored files are made durable: "batch" (one syncfs(2) per batch where the platform has it,
#: else as "each") or "each" (an fsync per file and per touched directory)
SYNC_MODES = ("batch", "each")


def _archive_error(exc: OSError, what: str) -> ArchiveError:
    if exc.errno == errno.ENOSPC:
        return ArchiveError(f"{what}: no space left on device")
    return ArchiveError(f"{what}: {exc.strerror or exc}")
