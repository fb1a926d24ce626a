"""What ``dicomkit query``, ``export``, ``delete`` and ``archive stats|verify`` do once parsed.

``query`` builds a :class:`dicomkit.model.query.Query` (PS3.4 C.2.2.2 matching, QIDO-RS style
values, PS3.18 8.3.4) and prints the archive's answers as a rich table, or as DICOM JSON
identifiers (PS3.18 F.2), one object per line, with ``--json``. ``export`` copies the files of
every instance below the matching entities to ``DIR/StudyInstanceUID/SeriesInstanceUID/
SOPInstanceUID.dcm`` (each through a temporary file, fsync and rename). The argument parsing
and the archive location rules are in :mod:`dicomkit.cli.archive_cmd`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dicomkit.cli import Output, describe_error
from dicomkit.cli.archive_cmd import archive_location, database_url
from dicomkit.cli.importer import one_line
from dicomkit.dictionary import keyword_of
from dicomkit.errors import ArchiveError, DicomError, NotFoundError, QueryError
from dicomkit.model.findings import Level
from dicomkit.uid import is_valid_uid

if TYPE_CHECKING:
    from dicomkit.archive import Archive
    from dicomkit.model.query import Query

__all__ = ["parse_params", "run_delete", "run_export", "run_query", "run_stats", "run_verify"]

#: The attribute that identifies an entity of each level (PS3.4 C.6.1.1 / C.6.2.1 unique keys).
UNIQUE_KEYS = {
    Level.PATIENT: 0x00100020,  # PatientID
    Level.STUDY: 0x0020000D,  # StudyInstanceUID
    Level.SERIES: 0x0020000E,  # SeriesInstanceUID
    Level.INSTANCE: 0x00080018,  # SOPInstanceUID
}
_UNIQUE_KEYWORDS = {level: keyword_of(tag) or "" for level, tag in UNIQUE_KEYS.items()}
_PLURALS = {
    Level.PATIENT: "patients",
    Level.STUDY: "studies",
    Level.SERIES: "series",
    Level.INSTANCE: "instances",
}
#: ``query``'s order when no ``--order-by`` is given.
DEFAULT_ORDER = {Level.PATIENT: ("PatientName", "PatientID"), Level.STUDY: ("StudyDate", "StudyTime")}
#: The table's columns before the ``-r`` and matching keys (the JSON output has all of the
#: level's QIDO-RS default attributes, PS3.18 Table 10.6.3-3/4/5, plus the ``-r`` keys).
TABLE_KEYS = {
    Level.PATIENT: (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "NumberOfPatientRelatedStudies",
    ),
    Level.STUDY: (
        "StudyDate",
        "StudyTime",
        "PatientName",
        "PatientID",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
        "StudyInstanceUID",
    ),
    Level.SERIES: (
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
        "SeriesInstanceUID",
    ),
    Level.INSTANCE: ("InstanceNumber", "SOPClassUID", "SOPInstanceUID"),
}
#: Not shown in the table (still in --json): they say how to read the others, not what matched.
_HIDDEN = frozenset({0x00080005, 0x00080052, 0x00081190})
#: UIDs per UID-list condition when the instances of many entities are looked up.
_CHUNK = 500


def parse_params(params: Iterable[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments as pairs (the value may contain '='); no '=' → QueryError."""
    pairs = []
    for param in params:
        key, sep, value = param.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"{param!r}: expected KEY=VALUE (e.g. PatientName=DOE*)")
        pairs.append((key.strip(), value))
    return pairs


def _open(args: argparse.Namespace) -> Archive:
    """The existing archive (never created here: a mistyped --archive must not make a new one)."""
    import dicomkit.archive

    root = archive_location(args.archive)
    if not root.is_dir():
        raise ArchiveError(f"no archive at {root} (import files first, or give --archive DIR)")
    return dicomkit.archive.open(root, database_url(args.database), create=False)


def _query(args: argparse.Namespace, level: Level, **kwargs: Any) -> Query:
    from dicomkit.model.query import Query

    # patients exist only in the Patient Root model; other levels are asked in the Study Root one
    root = "PATIENT" if level is Level.PATIENT else "STUDY"
    return Query.from_params(level, parse_params(args.params), fuzzy=args.fuzzy, root=root, **kwargs)


# ---------------------------------------------------------------------------------------
# query


def value_text(attribute: Mapping[str, Any]) -> str:
    """A DICOM JSON attribute (PS3.18 F.2.2) as one line of text: values joined by '\\'."""
    values = attribute.get("Value")
    if values is None:
        if "InlineBinary" in attribute or "BulkDataURI" in attribute:
            return "(binary)"
        return ""
    if attribute.get("vr") == "SQ":
        return f"({len(values)} item{'s' if len(values) != 1 else ''})"
    texts = []
    for v in values:
        if isinstance(v, Mapping):  # PN: the alphabetic group first
            groups = [str(v[g]) for g in ("Alphabetic", "Ideographic", "Phonetic") if g in v]
            texts.append("=".join(groups))
        else:
            texts.append("" if v is None else str(v))
    return "\\".join(texts)


def _key_tag(key: str) -> int | None:
    """The tag of a return key (keyword, GGGGEEEE or (gggg,eeee)); None for a sequence path."""
    from dicomkit.tag import Tag

    try:
        return int(Tag(key))
    except (DicomError, ValueError, TypeError):
        return None


def _columns(query: Query, asked: list[str], results: list[dict[str, Any]]) -> list[str]:
    """The table's columns: the level's summary keys, then the ``-r`` keys, then the matching
    keys, leaving out those empty in every row."""
    keys = [*TABLE_KEYS[query.level], *asked]
    tags = [*(_key_tag(k) for k in keys), *(c.tag for c in query.conditions)]
    columns = [f"{t:08X}" for t in dict.fromkeys(tags) if t is not None and t not in _HIDDEN]
    return [c for c in columns if any(value_text(r.get(c, {})) for r in results)]


def _tag(key: str) -> int | None:
    """The tag of a DICOM JSON key ('0020000D'), None for anything else."""
    try:
        return int(key, 16) if len(key) == 8 else None
    except ValueError:
        return None


def _header(key: str) -> str:
    tag = _tag(key)
    if tag is None:
        return key
    return keyword_of(tag) or f"({key[:4]},{key[4:]})"


def run_query(args: argparse.Namespace, out: Output) -> int:
    level = Level(args.level)
    try:
        query = _query(
            args,
            level,
            # the table shows a few more than the QIDO-RS defaults (e.g. StudyDescription)
            return_keys=[*args.return_keys, *(() if args.json else TABLE_KEYS[level])],
            limit=args.limit,
            offset=args.offset,
            order_by=DEFAULT_ORDER.get(level, ()) if args.order_by is None else args.order_by,
        )
    except QueryError as exc:
        out.error("query", str(exc))
        return 2
    try:
        with _open(args) as archive:
            results = archive.find(query)
            total = archive.count(query) if args.limit is not None or args.offset else len(results)
    except QueryError as exc:
        out.error("query", str(exc))
        return 2
    except (DicomError, OSError) as exc:
        out.error(str(archive_location(args.archive)), one_line(describe_error(exc, "")))
        return 1
    if args.json:
        for r in results:
            out.text(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
        return 0
    if results:
        _table(out, _columns(query, args.return_keys, results), results)
    shown = f"{len(results)} {_PLURALS[level] if len(results) != 1 else level.value}"
    if total != len(results):
        shown += f" (of {total}; from {args.offset + 1})" if results else f" (of {total})"
    out.text(shown)
    return 0


def _table(out: Output, columns: list[str], results: list[dict[str, Any]]) -> None:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, safe_box=True, pad_edge=False, show_edge=False)
    for key in columns:
        table.add_column(_header(key), overflow="fold")
    for r in results:
        table.add_row(*(value_text(r[key]) if key in r else "" for key in columns))
    if out.color:
        out.console.print(table)
        return
    with out.console.capture() as captured:  # plain text: no padding at the ends of the lines
        out.console.print(table)
    for line in captured.get().splitlines():
        out.text(line.rstrip())


# ---------------------------------------------------------------------------------------
# export


def _string(record: Mapping[str, Any], tag: int) -> str:
    attribute = record.get(f"{tag:08X}")
    return value_text(attribute) if isinstance(attribute, Mapping) else ""


def _instances(archive: Archive, level: Level, keys: list[str]) -> Iterator[dict[str, Any]]:
    """The instance identifiers (Study, Series, SOP Instance UIDs) below the entities ``keys``."""
    from dicomkit.model.query import Query

    returned = ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]
    keyword = _UNIQUE_KEYWORDS[level]
    if level is Level.PATIENT:  # Patient IDs are not UIDs: one query each
        batches: Iterable[list[tuple[str, str]]] = ([(keyword, key)] for key in keys)
    else:
        batches = ([(keyword, ",".join(keys[i : i + _CHUNK]))] for i in range(0, len(keys), _CHUNK))
    for params in batches:
        root = "PATIENT" if level is Level.PATIENT else "STUDY"
        yield from archive.find(Query.from_params(Level.INSTANCE, params, return_keys=returned, root=root))


def _copy_atomic(src: BinaryIO, target: Path) -> int:
    """Copy the open binary file ``src`` to ``target`` (temporary name, fsync, rename): bytes copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            shutil.copyfileobj(src, fh, 1 << 20)
            size = fh.tell()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size


def run_export(args: argparse.Namespace, out: Output) -> int:
    level = Level(args.level)
    destination = Path(args.to)
    unique = UNIQUE_KEYS[level]
    try:
        query = _query(args, level, return_keys=[_UNIQUE_KEYWORDS[level]])
    except QueryError as exc:
        out.error("export", str(exc))
        return 2
    copied = failed = size = 0
    try:
        with _open(args) as archive:
            keys = sorted({_string(r, unique) for r in archive.find(query)} - {""})
            for record in _instances(archive, level, keys):
                uids = [_string(record, tag) for tag in (0x0020000D, 0x0020000E, 0x00080018)]
                if not all(is_valid_uid(u) for u in uids):  # never a path from an unchecked value
                    out.error(uids[2] or "?", "not exported: a UID in the index is not a valid UID")
                    failed += 1
                    continue
                target = destination.joinpath(uids[0], uids[1], uids[2] + ".dcm")
                try:
                    with archive.open_file(uids[2]) as src:
                        size += _copy_atomic(src, target)
                except (NotFoundError, OSError) as exc:
                    out.error(str(target), describe_error(exc, str(target)))
                    failed += 1
                    continue
                copied += 1
                if not args.quiet:
                    out.text(str(target))
    except QueryError as exc:
        out.error("export", str(exc))
        return 2
    except (DicomError, OSError) as exc:
        out.error(str(archive_location(args.archive)), one_line(describe_error(exc, "")))
        return 1
    noun = _PLURALS[level] if len(keys) != 1 else level.value
    out.text(
        f"exported {copied} file{'s' if copied != 1 else ''} ({size / 1e6:.1f} MB) of {len(keys)} "
        f"{noun} to {destination}" + (f"; {failed} failed" if failed else "")
    )
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------
# delete, stats, verify


def run_delete(args: argparse.Namespace, out: Output) -> int:
    level = Level(args.level)
    try:
        with _open(args) as archive:
            removed = archive.delete(level, args.uid)
    except NotFoundError:
        out.error(args.uid, f"no such {level.value} in the archive")
        return 1
    except (DicomError, OSError) as exc:
        out.error(str(archive_location(args.archive)), one_line(describe_error(exc, "")))
        return 1
    out.text(f"deleted {level.value} {args.uid}: {removed} instance{'s' if removed != 1 else ''}")
    return 0


def _plain(value: Any) -> Any:
    """A report value (dataclass, mapping, sequence, path) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def run_stats(args: argparse.Namespace, out: Output) -> int:
    try:
        with _open(args) as archive:
            stats = _plain(archive.stats())
    except (DicomError, OSError) as exc:
        out.error(str(archive_location(args.archive)), one_line(describe_error(exc, "")))
        return 1
    if args.json:
        out.text(json.dumps(stats, ensure_ascii=False))
        return 0
    counts = ", ".join(f"{stats[k]} {k}" for k in ("patients", "studies", "series", "instances"))
    out.text(f"{stats['root']}: {counts}, {stats['bytes'] / 1e6:.1f} MB")
    out.text(f"index: {stats['database']} ({stats['database_location']})")
    return 0


def run_verify(args: argparse.Namespace, out: Output) -> int:
    try:
        with _open(args) as archive:
            found = archive.verify(repair=args.repair)
    except (DicomError, OSError) as exc:
        out.error(str(archive_location(args.archive)), one_line(describe_error(exc, "")))
        return 1
    problems = {
        "orphans": [str(p) for p in found.orphan_files],
        "temporary": [str(p) for p in found.temp_files],
        "missing": list(found.missing_files),
        "mismatched": list(found.mismatched),
    }
    ok = found.ok or found.repaired
    if args.json:
        report = {"checked": found.checked, **problems, "repaired": found.repaired, "ok": ok}
        out.text(json.dumps(report, ensure_ascii=False))
        return 0 if ok else 1
    what = {
        "orphans": "file(s) in the store that are not indexed",
        "temporary": "temporary file(s) left by an interrupted write",
        "missing": "indexed instance(s) whose file is missing",
        "mismatched": "indexed instance(s) whose file differs from what was stored",
    }
    for key, items in problems.items():
        if items:
            out.text(f"{len(items)} {what[key]}{' (repaired)' if found.repaired else ''}:")
            for item in items:
                out.text(f"  {item}")
    if found.ok:
        out.text(f"checked {found.checked} instances: the index and the files agree")
    elif found.repaired:
        out.text(f"checked {found.checked} instances: repaired")
    else:
        out.text(f"checked {found.checked} instances: run 'dicomkit archive verify --repair' to fix this")
    return 0 if ok else 1
