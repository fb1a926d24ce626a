"""The archive commands: ``import``, ``query``, ``export``, ``delete`` and ``archive stats|verify``.

::

    dicomkit import PATH... [--link] [--duplicates ignore|overwrite|reject] [--workers N] [--report FILE]
    dicomkit query [--level study] [KEY=VALUE...] [-r KEY]... [--order-by KEY]... [--limit N] [--offset N]
                   [--fuzzy] [--json]
    dicomkit export [KEY=VALUE...] --to DIR [--level study]
    dicomkit delete --level LEVEL UID
    dicomkit archive stats [--json]
    dicomkit archive verify [--repair] [--json]

Every command takes ``--archive DIR`` (else ``$DICOMKIT_ARCHIVE``, else
``${XDG_DATA_HOME:-~/.local/share}/dicomkit/archive``) and ``--database URL`` (else
``$DICOMKIT_DATABASE``, else SQLite at ``DIR/index.sqlite``). Queries are built with
:meth:`dicomkit.model.query.Query.from_params` (PS3.4 C.2.2.2 matching with QIDO-RS style values,
PS3.18 8.3.4); the archive is :mod:`dicomkit.archive`. This module only defines the arguments:
``import`` runs in :mod:`dicomkit.cli.importer`, the others in
:mod:`dicomkit.cli.archive_run`. Exit statuses: 0 done, 1 something failed (a file rejected, an
object not found, an inconsistency left by ``verify``), 2 a usage or query error.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dicomkit.cli import Output

__all__ = ["LEVELS", "archive_location", "database_url", "register"]

LEVELS = ("patient", "study", "series", "instance")
ARCHIVE_ENV = "DICOMKIT_ARCHIVE"
DATABASE_ENV = "DICOMKIT_DATABASE"


def archive_location(option: str | None) -> Path:
    """The archive folder: ``--archive``, else ``$DICOMKIT_ARCHIVE``, else the XDG data folder."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ARCHIVE_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "dicomkit" / "archive"


def database_url(option: str | None) -> str | None:
    """The index database: ``--database``, else ``$DICOMKIT_DATABASE``, else None (SQLite in the archive)."""
    return option or os.environ.get(DATABASE_ENV) or None


def _run(name: str) -> Any:
    """The ``run`` function of a command, imported only when the command runs."""

    def run(args: argparse.Namespace, out: Output) -> int:
        if name == "import":
            from dicomkit.cli import importer

            return importer.run(args, out)
        from dicomkit.cli import archive_run

        status: int = getattr(archive_run, f"run_{name}")(args, out)
        return status

    return run


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def _workers(text: str) -> int:
    n = _count(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the archive commands to the ``dicomkit`` parser (``sub``: its subparsers)."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--archive",
        metavar="DIR",
        help=f"the archive folder (default: ${ARCHIVE_ENV}, else "
        "${XDG_DATA_HOME:-~/.local/share}/dicomkit/archive)",
    )
    where.add_argument(
        "--database",
        metavar="URL",
        help=f"the index database, e.g. postgresql://host/db (default: ${DATABASE_ENV}, "
        "else SQLite in DIR/index.sqlite)",
    )
    parents = [common, where]
    query_help = (
        "KEY=VALUE matching keys: a PS3.6 keyword, GGGGEEEE or (gggg,eeee), 'Seq.Keyword' inside "
        "a sequence; values as in QIDO-RS: 'DOE*' wildcard, '20240101-' date range, 'a,b' UID list, "
        "'\"\"' empty value"
    )

    p = sub.add_parser(
        "import",
        parents=parents,
        help="store DICOM files in the archive",
        description=(
            "Store every DICOM file under each PATH (folders recursively, the archive's own folder "
            "excepted) in the archive, reading them in several processes. A progress bar (files/s, "
            "MB/s, ETA) shows on a terminal; a summary always ends the run: stored, replaced, "
            "duplicate, rejected (with the reasons) and skipped (not DICOM). Importing the same "
            "files again changes nothing. Exit status 0 when nothing was rejected, 1 when a file "
            "was rejected, a PATH does not exist or the archive failed (e.g. a full disk)."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--link", action="store_true", help="index the files where they are instead of copying")
    p.add_argument(
        "--duplicates",
        choices=("ignore", "overwrite", "reject"),
        default="ignore",
        help="an instance already in the archive: keep the stored one (ignore, the default), "
        "replace it (overwrite) or count the new file as rejected (reject)",
    )
    p.add_argument(
        "--workers", type=_workers, metavar="N", help="reading processes (default: the number of CPUs)"
    )
    p.add_argument(
        "--report", metavar="FILE", help="write every file's outcome to FILE (JSON, one object per line)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(run=_run("import"))

    p = sub.add_parser(
        "query",
        parents=parents,
        help="search the archive (C-FIND / QIDO-RS matching)",
        description=(
            "Print the patients, studies, series or instances matching every KEY=VALUE (PS3.4 "
            "C.2.2.2): a table, or with --json the DICOM JSON identifiers, one object per line. "
            "No KEY=VALUE lists everything at the level. A malformed key or value is reported on "
            "one line and makes the exit status 2."
        ),
        epilog=query_help,
    )
    p.add_argument("params", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--level", choices=LEVELS, default="study", help="the query level (default: study)")
    p.add_argument(
        "-r",
        "--return",
        dest="return_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="an attribute to show besides the level's default ones (repeatable)",
    )
    p.add_argument(
        "--order-by",
        action="append",
        metavar="KEY",
        help="sort by KEY ('-KEY': descending; repeatable; default: PatientName for patients, "
        "StudyDate and StudyTime for studies, the archive's order otherwise)",
    )
    p.add_argument("--limit", type=_count, metavar="N", help="at most N results")
    p.add_argument("--offset", type=_count, default=0, metavar="N", help="skip the first N results")
    p.add_argument("--fuzzy", action="store_true", help="match person names case-insensitively")
    p.add_argument("--json", action="store_true", help="DICOM JSON identifiers, one object per line")
    p.set_defaults(run=_run("query"))

    p = sub.add_parser(
        "export",
        parents=parents,
        help="copy the files of matching studies (series, ...) out of the archive",
        description=(
            "Copy the file of every instance of the patients, studies, series or instances "
            "matching every KEY=VALUE into DIR, as DIR/StudyInstanceUID/SeriesInstanceUID/"
            "SOPInstanceUID.dcm, each file atomically (a temporary name, then a rename). Existing "
            "files with those names are replaced. No KEY=VALUE exports everything."
        ),
        epilog=query_help,
    )
    p.add_argument("params", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--to", required=True, metavar="DIR", help="the folder to copy the files into")
    p.add_argument("--level", choices=LEVELS, default="study", help="the query level (default: study)")
    p.add_argument("--fuzzy", action="store_true", help="match person names case-insensitively")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(run=_run("export"))

    p = sub.add_parser(
        "delete",
        parents=parents,
        help="remove a patient, study, series or instance from the archive",
        description=(
            "Remove the patient (by Patient ID), study, series or instance (by UID) and everything "
            "below it from the index and the file store (files indexed in place with --link are "
            "left on disk). Exit status 1 when it is not in the archive."
        ),
    )
    p.add_argument("--level", choices=LEVELS, required=True, help="the level of UID")
    p.add_argument("uid", metavar="UID", help="the Patient ID or the Study/Series/SOP Instance UID")
    p.set_defaults(run=_run("delete"))

    p = sub.add_parser(
        "archive",
        parents=[common],
        help="archive statistics and index/file consistency",
        description="'dicomkit archive stats' and 'dicomkit archive verify [--repair]'.",
    )
    archive_sub = p.add_subparsers(dest="archive_command", metavar="COMMAND", required=True)
    q = archive_sub.add_parser(
        "stats",
        parents=parents,
        help="how many patients, studies, series and instances, and how many bytes",
        description="Print the archive's counts per level, its size and where its index is.",
    )
    q.add_argument("--json", action="store_true", help="one JSON object")
    q.set_defaults(run=_run("stats"))
    q = archive_sub.add_parser(
        "verify",
        parents=parents,
        help="check that the index and the stored files agree",
        description=(
            "Check that every indexed instance has its file (with the size recorded) and that "
            "every file in the store is indexed. Orphan files are left by an interrupted import. "
            "With --repair, orphans are removed and index rows whose file is missing are dropped. "
            "Exit status 0 when the archive is consistent (after the repair), else 1."
        ),
    )
    q.add_argument("--repair", action="store_true", help="fix what is found")
    q.add_argument("--json", action="store_true", help="one JSON object")
    q.set_defaults(run=_run("verify"))
