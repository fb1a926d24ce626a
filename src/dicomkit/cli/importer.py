"""``dicomkit import``: store files and folders in the archive, with progress and a summary.

The PATHs are walked here (folders recursively, sorted, symbolic links to folders not followed,
the archive's own folder skipped so an archive inside an imported folder is never imported into
itself); :meth:`dicomkit.archive.Archive.store_many` parses the files in several processes and
stores them (PS3.10 files; the archive validates UIDs and writes atomically). On a terminal a rich
progress bar on stderr shows files/s, MB/s and the time left; the summary is always printed:

    imported 3000 files (1.5 MB) in 2.1 s: 2990 stored, 5 duplicate, 3 rejected, 2 skipped (not DICOM)
      rejected 3: SOP Instance UID in the file meta differs from the data set (e.g. bad/x.dcm)

``--report FILE`` writes one JSON object per file and line: ``source``, ``status``
(stored, replaced, duplicate, rejected, skipped), ``sop_instance_uid``, ``path`` (in the archive),
``reason``. Exit status 0 when nothing was rejected, 1 when a file was rejected, a PATH does not
exist or the archive failed (the files stored before the failure stay stored), 130 after Ctrl-C
(the summary still says what was stored).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dicomkit.cli import Output, describe_error
from dicomkit.cli.archive_cmd import archive_location, database_url
from dicomkit.errors import DicomError

if TYPE_CHECKING:
    from dicomkit.archive import StoreResult

__all__ = ["Tally", "one_line", "run", "summary", "walk"]

STATUSES = ("stored", "replaced", "duplicate", "rejected", "skipped")


def walk(paths: list[str], exclude: Path | None, out: Output) -> tuple[dict[str, int], bool]:
    """The files under ``paths`` (in order, sorted within folders) with their sizes, and whether
    every PATH existed (each missing one is reported on stderr)."""
    skip = os.path.realpath(exclude) if exclude is not None else None
    files: dict[str, int] = {}
    ok = True
    for path in paths:
        if os.path.isfile(path):
            files[path] = _size(path)
            continue
        if not os.path.isdir(path):
            out.error(path, "no such file or directory")
            ok = False
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            if skip is not None:
                dirnames[:] = [d for d in dirnames if os.path.realpath(os.path.join(dirpath, d)) != skip]
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if os.path.isfile(full):
                    files[full] = _size(full)
    return files, ok


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


@dataclass
class Tally:
    """The outcomes so far: counts, bytes, the rejections (for their reasons) and, when asked
    for, every outcome streamed to the report file (so a million files cost no memory)."""

    sizes: dict[str, int]
    report: TextIO | None = None
    counts: Counter[str] = field(default_factory=Counter)
    done: int = 0
    bytes_done: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)

    def add(self, result: StoreResult) -> None:
        self.counts[result.status] += 1
        self.done += 1
        self.bytes_done += self.sizes.get(result.source, 0)
        if result.status == "rejected":
            self.rejected.append((result.source, result.reason or "rejected"))
        if self.report is not None:
            line = {
                "source": result.source,
                "status": result.status,
                "sop_instance_uid": result.sop_instance_uid or None,
                "path": result.path or None,
                "reason": result.reason or None,
            }
            self.report.write(json.dumps(line, ensure_ascii=False) + "\n")


@contextmanager
def _progress(out: Output, total_files: int, total_bytes: int) -> Iterator[Callable[[Tally], None] | None]:
    """A progress bar on stderr while importing, when stderr is a terminal."""
    isatty = getattr(out.stderr, "isatty", None)
    if out.quiet or not (isatty and isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=out.stderr, no_color=not out.color)
    start = time.monotonic()
    # no refresh thread: store_many forks worker processes
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        TextColumn("{task.fields[rate]}"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task("importing", total=max(total_bytes, 1), files="", rate="")
        last = [0.0]

        def update(tally: Tally) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and tally.done != total_files:
                return
            last[0] = now
            elapsed = max(now - start, 1e-6)
            bar.update(
                task,
                completed=tally.bytes_done,
                files=f"{tally.done}/{total_files} files",
                rate=f"{tally.done / elapsed:.0f} files/s",
            )
            bar.refresh()

        yield update


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def summary(tally: Tally, seconds: float) -> str:
    """The summary line: how many files, how many bytes, and each outcome's count."""
    parts = [f"{tally.counts[s]} {s}" for s in STATUSES[:4] if tally.counts[s] or s != "replaced"]
    parts.append(f"{tally.counts['skipped']} skipped (not DICOM)")
    parts += [f"{n} {s}" for s, n in sorted(tally.counts.items()) if s not in STATUSES]
    return (
        f"imported {tally.done} file{'s' if tally.done != 1 else ''} ({_mb(tally.bytes_done)}) "
        f"in {seconds:.1f} s: " + ", ".join(parts)
    )


def _reasons(tally: Tally) -> list[str]:
    """One line per distinct rejection reason: how many files, and the first of them."""
    first: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for source, reason in tally.rejected:
        counts[reason] += 1
        first.setdefault(reason, source)
    return [f"  rejected {n}: {reason} (e.g. {first[reason]})" for reason, n in counts.most_common()]


@contextmanager
def _report(path: str | None) -> Iterator[TextIO | None]:
    """The report file, written under a temporary name and renamed into place at the end
    (also after a failure of the archive: it lists what was done)."""
    if path is None:
        yield None
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def one_line(text: str) -> str:
    """A message on one line (database drivers write several)."""
    return " ".join(text.split())


def run(args: argparse.Namespace, out: Output) -> int:
    import dicomkit.archive

    root = archive_location(args.archive)
    files, paths_ok = walk(args.paths, root, out)
    if not files and not paths_ok:  # nothing to import: do not create an archive for it
        return 1
    try:
        archive = dicomkit.archive.open(
            root, database_url(args.database), duplicates=args.duplicates, link=args.link
        )
    except (DicomError, OSError) as exc:
        out.error(str(root), one_line(describe_error(exc, str(root))))
        return 1
    failure: str | None = None
    start = time.monotonic()
    try:
        with archive, _report(args.report) as report, _progress(out, len(files), sum(files.values())) as bar:
            tally = Tally(files, report)

            def progress(result: StoreResult) -> None:
                tally.add(result)
                if bar is not None:
                    bar(tally)

            try:
                archive.store_many(list(files), workers=args.workers, progress=progress)
            except (DicomError, OSError) as exc:  # the archive failed (a full disk, the database)
                failure = one_line(describe_error(exc, str(root)))
            except KeyboardInterrupt:  # Ctrl-C: what was committed stays; say how far it got
                failure = "interrupted"
    except OSError as exc:  # the report could not be written
        out.error(str(args.report), f"cannot write the report: {describe_error(exc, str(args.report))}")
        return 1
    seconds = time.monotonic() - start
    out.text(summary(tally, seconds))
    if not args.quiet:
        for line in _reasons(tally):
            out.text(line)
    if failure == "interrupted":
        out.stderr.write("dicomkit: interrupted\n")
        return 130
    if failure is not None:
        out.error(str(root), f"import stopped: {failure}")
    return 0 if paths_ok and failure is None and not tally.counts["rejected"] else 1
