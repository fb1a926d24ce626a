"""How the archive benchmarks drive ``dicomkit.archive`` (issue 6): open, import, count, close.

Both archive benchmarks go through these few functions, so an API detail (how an archive is
closed, what ``stats()`` returns, how an ``ImportReport`` counts) is adapted in one place.
``missing()`` says why the archive cannot be benchmarked yet (the benchmarks then report PENDING).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def missing() -> str | None:
    """``None`` when ``dicomkit.archive.open`` and ``dicomkit.model.query.Query`` import, else why not."""
    try:
        from dicomkit.archive import open as _open  # noqa: F401
    except ImportError as exc:
        return f"dicomkit.archive is not importable ({exc})"
    return None


def query_missing() -> str | None:
    try:
        from dicomkit.model.query import Query

        Query.from_params  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"dicomkit.model.query.Query.from_params is not available ({exc})"
    return None


@contextlib.contextmanager
def opened(root: Path, database: str | None = None, **options: Any) -> Iterator[Any]:
    """``dicomkit.archive.open(root, database, **options)``, closed on exit."""
    from dicomkit import archive

    arch = archive.open(root, database, **options)
    try:
        yield arch
    finally:
        close = getattr(arch, "close", None)
        if callable(close):
            close()


def _field(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return len(value)
    return None


def instance_count(arch: Any) -> int | None:
    """The number of instances the archive's index holds (from ``stats()``)."""
    stats = arch.stats()
    return _as_int(_field(stats, "instances", "instance_count", "n_instances", "NumberOfInstances"))


def report_counts(report: Any) -> dict[str, int | None]:
    """stored / duplicate / rejected counts of an ``ImportReport``."""
    counts = _field(report, "counts")
    if isinstance(counts, dict):
        return {k: int(v) for k, v in counts.items()}
    return {
        "stored": _as_int(_field(report, "stored", "n_stored", "stored_count")),
        "duplicates": _as_int(_field(report, "duplicates", "duplicate", "n_duplicates", "ignored")),
        "rejected": _as_int(_field(report, "rejected", "n_rejected", "failed", "errors")),
    }


def store_many(arch: Any, sources: Iterable[Any], workers: int | None) -> Any:
    if workers is None:
        return arch.store_many(sources)
    return arch.store_many(sources, workers=workers)


def api_import(files: list[Path], root: Path, *, workers: int | None = None) -> dict[str, Any]:
    """Import ``files`` into a new archive at ``root`` (copy mode, SQLite) through the Python API.

    The timed span is open + store_many + close (close is where a batched commit may land).
    """
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    with opened(root) as arch:
        report = store_many(arch, files, workers)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    with opened(root) as arch:
        count = instance_count(arch)
    return {"seconds": seconds, "cpu_s": round(cpu, 3), "instances": count, "report": report_counts(report)}


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its ended children (store_many's worker
    processes have ended when it returns): the import's CPU cost, whatever else the machine runs."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cli_available() -> str | None:
    proc = subprocess.run(
        [sys.executable, "-m", "dicomkit", "import", "--help"], capture_output=True, text=True, check=False
    )
    return None if proc.returncode == 0 else "no `dicomkit import` command"


def cli_import(corpus_dir: Path, root: Path, extra: list[str] | None = None) -> dict[str, Any]:
    """``python -m dicomkit import CORPUS --archive ROOT``, timed as a whole process (start-up included)."""
    cmd = [
        sys.executable,
        "-m",
        "dicomkit",
        "import",
        str(corpus_dir),
        "--archive",
        str(root),
        *(extra or []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    with opened(root) as arch:
        count = instance_count(arch)
    return {"seconds": seconds, "instances": count, "output_tail": (proc.stdout + proc.stderr)[-400:]}


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
