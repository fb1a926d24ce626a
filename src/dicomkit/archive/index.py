"""The archive index: patient / study / series / instance tables, and what goes into them.

Each level's table has typed, indexed columns for its query keys (:data:`COLUMNS`: the
identifying attributes, the PS3.18 Table 10.6.1-5 QIDO-RS keys and the PS3.4 C.6.1.1 /
C.6.2.1 unique and required keys), and the level's remaining non-bulk attributes as DICOM
JSON text (PS3.18 F.2; binary values over 1 KiB, pixel data and the archive-computed
attributes left out). Typed column values:

* text: the attribute's single value; a PN's Alphabetic group, plus ``<col>_fold``: the whole
  name folded by :func:`dicomkit.model.query.pn_fold`, for fuzzy matching;
* DA / TM / DT: the value's first instant, normalized by
  :func:`dicomkit.model.query.normalize_for_range` (what the in-memory matcher compares), so
  ranges are index range scans; ``''`` for a value that does not normalize;
* IS / US (Series Number, Rows, ...): an integer, for ordering.

A value the columns cannot represent exactly (several values, a PN with ideographic or
phonetic groups, padding the matcher would strip, a number that is not an integer) marks
the row ``loose``: the query compiler then always lets that row through to the exact
in-memory matcher, and orders such a level in Python.

The derived attributes (PS3.4 C.6.1.1.x / C.6.2.1.x: Number of Patient Related Studies /
Series / Instances, Number of Study Related Series / Instances, Modalities in Study, SOP
Classes in Study, Number of Series Related Instances) are columns recounted in every write
transaction that changes the rows below them.

Planner statistics: the statements run per stored batch read by unique keys or through
parameterized (``LATERAL`` / scalar) subqueries, so they are index scans even when PostgreSQL's
statistics describe empty tables (autovacuum off), and :meth:`Index.after_commit` runs
``ANALYZE`` on PostgreSQL as the tables grow (policy: :data:`ANALYZE_MIN_ROWS`,
:data:`ANALYZE_FRACTION`).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dicomkit.archive.dialects import Dialect
from dicomkit.codec.reader import raw_elements
from dicomkit.dataset import DataElement, Dataset
from dicomkit.dictionary import tag_for_keyword, vr_of
from dicomkit.errors import ArchiveError
from dicomkit.model.findings import Level
from dicomkit.uid import transfer_syntax

__all__ = [
    "COLUMNS",
    "DERIVED",
    "LEVELS",
    "TABLE",
    "Column",
    "Index",
    "LevelRow",
    "RowCache",
    "column_for",
    "level_of",
    "level_rows",
]

SCHEMA_VERSION = 1
LEVELS = (Level.PATIENT, Level.STUDY, Level.SERIES, Level.INSTANCE)
TABLE = {Level.PATIENT: "patient", Level.STUDY: "study", Level.SERIES: "series", Level.INSTANCE: "instance"}
ALIAS = {Level.PATIENT: "p", Level.STUDY: "st", Level.SERIES: "se", Level.INSTANCE: "i"}
PARENT_FK = {Level.STUDY: "patient_pk", Level.SERIES: "study_pk", Level.INSTANCE: "series_pk"}
#: The key column (the level's identifying attribute) of each table.
KEY = {
    Level.PATIENT: "patient_id",
    Level.STUDY: "study_uid",
    Level.SERIES: "series_uid",
    Level.INSTANCE: "sop_uid",
}
_DATE_VRS = frozenset({"DA", "TM", "DT"})
_INT_VRS = frozenset({"IS", "US", "UL", "SS", "SL"})
_TRAILING_ONLY = frozenset({"LT", "ST", "UT", "UC", "UR"})
BULK_THRESHOLD = 1024


@dataclass(frozen=True, slots=True)
class Column:
    """A typed column of one level's table."""

    keyword: str
    tag: int
    vr: str
    name: str  # SQL column name
    level: Level
    is_key: bool = False

    @property
    def hex(self) -> str:
        """The attribute's key in DICOM JSON (8 upper-case hex digits)."""
        return f"{self.tag:08X}"

    @property
    def ranged(self) -> bool:
        return self.vr in _DATE_VRS

    @property
    def folded(self) -> bool:
        return self.vr == "PN"

    @property
    def integer(self) -> bool:
        return self.vr in _INT_VRS

    def sql_names(self) -> tuple[str, ...]:
        names = [self.name]
        if self.folded:
            names.append(self.name + "_fold")
        return tuple(names)


def _col(level: Level, keyword: str, name: str | None = None, *, key: bool = False) -> Column:
    tag = int(tag_for_keyword(keyword))
    vr = (vr_of(tag) or "LO").split(" or ")[0]
    return Column(keyword, tag, vr, name or keyword.lower(), level, key)


_P, _ST, _SE, _I = Level.PATIENT, Level.STUDY, Level.SERIES, Level.INSTANCE
COLUMNS: dict[Level, tuple[Column, ...]] = {
    _P: (
        _col(_P, "PatientID", "patient_id", key=True),
        _col(_P, "PatientName"),
        _col(_P, "IssuerOfPatientID"),
        _col(_P, "PatientBirthDate"),
        _col(_P, "PatientSex"),
    ),
    _ST: (
        _col(_ST, "StudyInstanceUID", "study_uid", key=True),
        _col(_ST, "StudyDate"),
        _col(_ST, "StudyTime"),
        _col(_ST, "AccessionNumber"),
        _col(_ST, "ReferringPhysicianName"),
        _col(_ST, "StudyDescription"),
        _col(_ST, "StudyID"),
    ),
    _SE: (
        _col(_SE, "SeriesInstanceUID", "series_uid", key=True),
        _col(_SE, "Modality"),
        _col(_SE, "SeriesNumber"),
        _col(_SE, "SeriesDescription"),
        _col(_SE, "SeriesDate"),
        _col(_SE, "SeriesTime"),
        _col(_SE, "BodyPartExamined"),
        _col(_SE, "PerformedProcedureStepStartDate"),
        _col(_SE, "PerformedProcedureStepStartTime"),
    ),
    _I: (
        _col(_I, "SOPInstanceUID", "sop_uid", key=True),
        _col(_I, "SOPClassUID"),
        _col(_I, "InstanceNumber"),
        _col(_I, "ContentDate"),
        _col(_I, "ContentTime"),
        _col(_I, "Rows"),
        _col(_I, "Columns"),
        _col(_I, "BitsAllocated"),
        _col(_I, "NumberOfFrames"),
    ),
}
_BY_TAG: dict[int, Column] = {c.tag: c for cols in COLUMNS.values() for c in cols}


def column_for(tag: int) -> Column | None:
    """The typed column holding ``tag`` (any level), or None."""
    return _BY_TAG.get(tag)


#: Derived attributes: tag → (level, VR, SQL column).
DERIVED: dict[int, tuple[Level, str, str]] = {
    0x00201200: (_P, "IS", "n_studies"),  # NumberOfPatientRelatedStudies
    0x00201202: (_P, "IS", "n_series"),  # NumberOfPatientRelatedSeries
    0x00201204: (_P, "IS", "n_instances"),  # NumberOfPatientRelatedInstances
    0x00201206: (_ST, "IS", "n_series"),  # NumberOfStudyRelatedSeries
    0x00201208: (_ST, "IS", "n_instances"),  # NumberOfStudyRelatedInstances
    0x00080061: (_ST, "CS", "modalities"),  # ModalitiesInStudy
    0x00080062: (_ST, "UI", "sop_classes"),  # SOPClassesInStudy
    0x00201209: (_SE, "IS", "n_instances"),  # NumberOfSeriesRelatedInstances
}
DERIVED_COLUMNS: dict[Level, tuple[tuple[int, str, str], ...]] = {
    lv: tuple((tag, vr, col) for tag, (lvl, vr, col) in DERIVED.items() if lvl == lv) for lv in LEVELS
}

_NOT_STORED = frozenset(DERIVED) | {0x00080005}  # derived values are recomputed; JSON text is Unicode


def level_of(tag: int) -> Level:
    """The level whose table keeps the attribute ``tag`` (the query model's PS3.4 C.6.1.1 /
    C.6.2.1 tables; any other attribute is the instance's)."""
    from dicomkit.model.query import attribute_level

    return attribute_level(tag, Level.INSTANCE)


@dataclass(slots=True)
class LevelRow:
    """One level's row values: typed columns by SQL name, the JSON text, the loose flag."""

    values: dict[str, Any]
    attrs: str
    loose: bool


def level_rows(record: Mapping[str, Any]) -> dict[Level, LevelRow]:
    """Split a data set's DICOM JSON object into the four levels' rows."""
    parts: dict[Level, dict[str, Any]] = {lv: {} for lv in LEVELS}
    for key, elem in record.items():
        tag = int(key, 16)
        if not _stored(tag):
            continue
        clean = _strip_bulk(elem)
        if clean is not None:
            parts[_level_of(tag)][key] = clean
    return {lv: _level_row(lv, parts[lv], _dumps(parts[lv])) for lv in LEVELS}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _stored(tag: int) -> bool:
    """Does a level's JSON keep this (top-level) attribute? Not the derived attributes, the File
    Meta Information, pixel data or group lengths."""
    return not (tag in _NOT_STORED or tag >> 16 in _GROUPS_NOT_STORED or tag & 0xFFFF == 0)


_LEVELS_BY_TAG: dict[int, Level] = {}


def _level_of(tag: int) -> Level:
    lv = _LEVELS_BY_TAG.get(tag)
    if lv is None:
        lv = _LEVELS_BY_TAG[tag] = level_of(tag)
    return lv


def _level_row(lv: Level, attrs: Mapping[str, Any], text: str) -> LevelRow:
    """One level's row from its attributes (DICOM JSON, bulk data stripped) and their JSON text."""
    values: dict[str, Any] = {}
    loose = False
    for col in COLUMNS[lv]:
        elem = attrs.get(col.hex)
        text_value, exact = _column_text(elem, col.vr)
        if col.is_key:
            values[col.name] = text_value or ""
        elif col.integer:
            number = None
            if text_value is not None:
                try:
                    number = int(text_value)
                except ValueError:
                    exact = False
            values[col.name] = number
        elif col.ranged:
            point = None
            if text_value is not None:
                try:
                    point = normalize(col.vr, text_value)
                except ValueError:
                    point = ""  # present but not a valid value: matches no range
            values[col.name] = point
        else:
            values[col.name] = text_value
            if col.folded:
                values[col.name + "_fold"] = _fold_pn(elem)
        loose |= not exact
    return LevelRow(values, text, loose)


#: An element's index entry: its level, JSON key, bulk-stripped DICOM JSON (None: left out)
#: and its ``"key":value`` JSON text.
_Entry = tuple[Level, str, Any, str]
_MAX_CACHED_VALUE = 1024  # longer values are bulk data (left out) or rare: not memoised
_MAX_CONTEXTS = 64


class RowCache:
    """Builds the index rows of read data sets (:func:`level_rows` of their DICOM JSON), memoising
    each element's JSON by its encoded bytes, and the patient / study / series rows.

    The instances of one series share almost all their attributes byte for byte (a CT image
    carries ~250, of which ~5 differ per image), so decoding and encoding every value for every
    file is most of an import's CPU time. An element's JSON is fully determined by its tag, VR,
    value bytes, byte order and character set: the memo is keyed by those (the last two per
    data set: its Transfer Syntax UID and the bytes of its Specific Character Set). Elements
    read without their bytes (a data set built in memory), values over 1 KiB and values whose
    decoding warned are converted every time; a sequence is memoised by its items' elements'
    keys. One cache per process; it empties itself when full.
    """

    def __init__(self, limit: int = 50_000) -> None:
        #: values memoised per context, and patient / study / series rows, before emptying
        #: (a few MB for typical headers; values are at most 1 KiB each)
        self.limit = limit
        self._elements: dict[Hashable, dict[Hashable, _Entry]] = {}
        self._rows: dict[tuple[Level, tuple[str, ...]], LevelRow] = {}

    def rows(self, ds: Dataset, *, memo: bool = True) -> dict[Level, LevelRow]:
        """The four levels' rows of ``ds`` (equal to ``level_rows(to_json_dict(ds, bulk_data_
        threshold=1024, ...))``). Raises what :func:`~dicomkit.codec.json.to_json_dict` raises.

        Pass ``memo=False`` when reading ``ds`` warned: the reader may then have decoded it
        otherwise than its Transfer Syntax UID says (a mismatch it detected and worked around)."""
        from dicomkit.codec.json import to_json_dict

        ctx = self._context(ds) if memo else None
        known = None
        if ctx is not None:
            if len(self._elements) > _MAX_CONTEXTS:
                self._elements.clear()
            known = self._elements.setdefault(ctx, {})
            if len(known) > self.limit:
                known.clear()
        if len(self._rows) > self.limit:
            self._rows.clear()
        found: list[_Entry | None] = []
        keys: list[Hashable] = []
        misses = Dataset()
        # (tag, VR, bytes) straight from the reader's entries: no DataElement for the ~250
        # elements a file has, most of them memo hits
        for tag, vr, raw, elem in raw_elements(ds, _not_stored):
            key: Hashable = None
            if known is not None:
                if raw is not None:  # (the common case, inline: this loop runs ~250 times a file)
                    key = (tag, vr, raw) if len(raw) <= _MAX_CACHED_VALUE else None
                else:
                    key = _element_key(elem if elem is not None else ds[tag])
                if key is not None:
                    hit = known.get(key)
                    if hit is not None:
                        found.append(hit)
                        continue
            found.append(None)
            keys.append(key)
            misses[tag] = elem if elem is not None else ds[tag]
        if keys:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                record = to_json_dict(misses, bulk_data_threshold=BULK_THRESHOLD, bulk_data_uri=_bulk_uri)
            for w in caught:  # to the caller's filters (an import counts data loss)
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            computed = iter(zip(record.items(), keys, strict=True))
            for k, entry in enumerate(found):
                if entry is not None:
                    continue
                (hex_key, value), key = next(computed)
                clean = _strip_bulk(value)
                text = "" if clean is None else f'"{hex_key}":{_dumps(clean)}'
                entry = found[k] = (_level_of(int(hex_key, 16)), hex_key, clean, text)
                if key is not None and known is not None and not caught:
                    known[key] = entry
        parts: dict[Level, list[_Entry]] = {lv: [] for lv in LEVELS}
        for entry in found:
            assert entry is not None
            if entry[2] is not None:
                parts[entry[0]].append(entry)
        out: dict[Level, LevelRow] = {}
        for lv in LEVELS:
            texts = tuple([e[3] for e in parts[lv]])
            row_key = (lv, texts)
            row = self._rows.get(row_key) if lv is not Level.INSTANCE else None
            if row is None:
                row = _level_row(lv, {e[1]: e[2] for e in parts[lv]}, "{" + ",".join(texts) + "}")
                if lv is not Level.INSTANCE:
                    self._rows[row_key] = row
            out[lv] = row
        return out

    @staticmethod
    def _context(ds: Dataset) -> tuple[str, bytes | None] | None:
        """What besides its bytes decides an element's JSON: the byte order (Transfer Syntax) and
        the character set; None when unknown (no memo then)."""
        meta = ds.meta
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        if not ts or transfer_syntax(str(ts)) is None:  # unknown: the reader guessed the encoding
            return None
        charset = ds[0x00080005].raw if 0x00080005 in ds else None
        return (str(ts), None if charset is None else bytes(charset))


def _bulk_uri(_elem: Any) -> str:
    return "bulk"


_GROUPS_NOT_STORED = frozenset({0x0002, 0x7FE0})


def _not_stored(tag: int) -> bool:
    """Elements left out of the index: bulk pixel data, group lengths, the File Meta group."""
    return tag in _NOT_STORED or tag >> 16 in _GROUPS_NOT_STORED or not tag & 0xFFFF


def _element_key(elem: DataElement) -> Hashable:
    """What decides the element's JSON within one data set context (tag, VR, value bytes; a
    sequence's items' elements' keys), or None when it cannot be memoised (a value built in
    memory, or longer than :data:`_MAX_CACHED_VALUE`)."""
    raw = elem.raw
    vr = elem.VR._value_  # (a plain str: hashing a VR enum member runs Python code)
    if raw is not None:
        return (elem.tag, vr, raw) if len(raw) <= _MAX_CACHED_VALUE else None
    if vr != "SQ":
        return None
    items = elem.value
    if not isinstance(items, list):
        return None
    parts: list[Hashable] = [elem.tag]
    for item in items:
        if not isinstance(item, Dataset):
            return None
        for sub in item:
            key = _element_key(sub)
            if key is None:
                return None
            parts.append(key)
        parts.append(None)  # the end of an item
    return tuple(parts)


def _value_sets(pks: Iterable[int], rows: Iterable[Sequence[Any]]) -> dict[int, set[str]]:
    """The distinct values per primary key of ``(pk, value)`` rows (multi-valued ``a\\b`` split;
    empty values dropped), with an empty set for each of ``pks`` that has none."""
    out: dict[int, set[str]] = {pk: set() for pk in pks}
    for pk, value in rows:
        if value:
            out[pk].update(v for v in value.split("\\") if v)
    return out


def normalize(vr: str, value: str, *, high: bool = False) -> str:
    from dicomkit.model.query import normalize_for_range

    return normalize_for_range(vr, value, high=high)


def fold(value: str) -> str:
    from dicomkit.model.query import pn_fold

    return pn_fold(value)


def _clean(vr: str, text: str) -> str:
    return text.rstrip(" \x00") if vr in _TRAILING_ONLY else text.strip(" \x00")


def _column_text(elem: Any, vr: str) -> tuple[str | None, bool]:
    """(the column text, True when it is exactly what the in-memory matcher compares).

    Empty values are dropped as the matcher drops them; several values are joined with
    ``\\`` (not exact); a PN is its Alphabetic group (exact only when it is the only group).
    """
    if not isinstance(elem, dict):
        return None, True
    raw = elem.get("Value")
    if not raw:
        return None, "InlineBinary" not in elem and "BulkDataURI" not in elem
    texts = []
    exact = True
    for v in raw:
        if v is None or v == "":
            continue
        if isinstance(v, dict):  # PN
            if set(v) - {"Alphabetic"} or not v.get("Alphabetic"):
                exact = False
            t = str(v.get("Alphabetic") or "")
        elif isinstance(v, bool | int | float):
            t = str(v)
        elif isinstance(v, str):
            t = v
        else:
            return None, False
        c = _clean(vr, t)
        if c != t:
            exact = False
        texts.append(c)
    if len(texts) != 1:
        exact = False
    if not texts:
        return None, exact
    return "\\".join(texts), exact


def _fold_pn(elem: Any) -> str | None:
    """pn_fold of the first PN value's full text (all component groups), as the matcher folds it."""
    if not isinstance(elem, dict):
        return None
    for v in elem.get("Value") or ():
        if isinstance(v, dict):
            groups = [str(v.get(g) or "") for g in ("Alphabetic", "Ideographic", "Phonetic")]
            return fold("=".join(groups).rstrip("="))
        if isinstance(v, str) and v:
            return fold(v)
    return None


def _strip_bulk(elem: Any) -> Any:
    """The element without bulk values (None when nothing is left of it)."""
    if not isinstance(elem, dict):
        return elem
    if "BulkDataURI" in elem or ("InlineBinary" in elem and len(elem["InlineBinary"]) > BULK_THRESHOLD):
        return None
    if elem.get("vr") == "SQ" and elem.get("Value"):
        items = []
        for item in elem["Value"]:
            items.append({k: v for k, v in ((k, _strip_bulk(v)) for k, v in item.items()) if v is not None})
        return {"vr": "SQ", "Value": items}
    return elem


# ---------------------------------------------------------------------------------------
# Schema and operations


def _chunks(seq: Sequence[Any], n: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _marks(n: int) -> str:
    return ",".join("?" * n)


#: Planner statistics (PostgreSQL): :meth:`Index.after_commit` runs ``ANALYZE`` on the index
#: tables once the instance rows changed since the last ANALYZE (by this connection, plus what
#: the server counted for other writers when it first looked) reach
#: ``max(ANALYZE_MIN_ROWS, ANALYZE_FRACTION x the instance rows then)``. 10 % is
#: autovacuum's own ``autovacuum_analyze_scale_factor``; the floor keeps a small archive
#: from analyzing every few batches. The growth is geometric, so a fill from empty to N rows
#: analyzes at most ~log(N / 1000) / log(1.1) times (72 for 1,000,000), and one ANALYZE samples
#: 300 x default_statistics_target rows per table, so its cost grows far slower than the table
#: (measured: 133 ms at 100,000 instances, 364 ms at 1,000,000).
ANALYZE_MIN_ROWS = 1_000
ANALYZE_FRACTION = 0.10
_INDEX_TABLES = ", ".join(TABLE[lv] for lv in LEVELS)


class Index:
    """The index tables on one :class:`Dialect` connection."""

    def __init__(self, db: Dialect) -> None:
        self.db = db
        #: instance rows written (inserted, replaced or deleted) since the last ANALYZE
        self.changed_since_analyze = 0
        #: instance rows at the last ANALYZE (None: not looked up yet)
        self.rows_at_analyze: int | None = None
        #: ANALYZE statements run, and their total duration (s)
        self.analyze_count = 0
        self.analyze_seconds = 0.0

    # -- schema
    def create_schema(self) -> None:
        db = self.db
        text = db.text_type
        with db.write():
            db.execute(f"CREATE TABLE IF NOT EXISTS archive_meta (name {text} PRIMARY KEY, value {text})")
            for lv in LEVELS:
                table = TABLE[lv]
                cols = [f"pk {db.pk_type}"]
                if lv in PARENT_FK:
                    cols.append(f"{PARENT_FK[lv]} BIGINT NOT NULL")
                for c in COLUMNS[lv]:
                    if c.is_key:
                        cols.append(f"{c.name} {text} NOT NULL UNIQUE")
                        continue
                    for name in c.sql_names():
                        cols.append(f"{name} {'BIGINT' if c.integer and name == c.name else text}")
                for _tag, vr, name in DERIVED_COLUMNS[lv]:
                    cols.append(f"{name} {'BIGINT NOT NULL DEFAULT 0' if vr == 'IS' else text}")
                if lv is Level.INSTANCE:
                    cols += [
                        f"path {text} NOT NULL",
                        "size BIGINT NOT NULL",
                        f"digest {text} NOT NULL",
                        f"transfer_syntax {text}",
                    ]
                cols += [f"attrs {text} NOT NULL", "loose SMALLINT NOT NULL DEFAULT 0"]
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")
                if lv in PARENT_FK:
                    fk = PARENT_FK[lv]
                    db.execute(f"CREATE INDEX IF NOT EXISTS {table}_{fk} ON {table} ({fk})")
                db.execute(f"CREATE INDEX IF NOT EXISTS {table}_loose ON {table} (loose) WHERE loose = 1")
                for c in COLUMNS[lv]:
                    if c.is_key or lv is Level.INSTANCE:
                        continue
                    db.execute(f"CREATE INDEX IF NOT EXISTS {table}_{c.name} ON {table} ({c.name})")
                    if c.folded:
                        db.execute(
                            f"CREATE INDEX IF NOT EXISTS {table}_{c.name}_fold ON {table} ({c.name}_fold)"
                        )
            got = db.execute("SELECT value FROM archive_meta WHERE name = 'schema'")
            if not got:
                db.execute(
                    "INSERT INTO archive_meta (name, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )

    # -- planner statistics
    def after_commit(self, changed: int) -> bool:
        """Count ``changed`` instance rows written by a committed transaction; on PostgreSQL,
        ``ANALYZE`` the index tables when they grew past the policy above (True: it ran).

        PostgreSQL plans with the statistics of its last ANALYZE; without autovacuum (or while
        it lags behind a bulk import) those describe a far smaller, often empty, table. The first
        commit of a connection starts from the server's view: the rows at the last ANALYZE by
        anyone (``pg_class.reltuples``) and the rows changed since by any writer
        (``pg_stat_user_tables.n_mod_since_analyze``), so writers that each store a few rows
        still get an ANALYZE once their sum grew past the policy. SQLite is left alone: without
        ``sqlite_stat1`` its planner assumes selective indexes, which suits these tables
        (``PRAGMA optimize`` runs when the connection closes).
        """
        if self.db.kind != "postgresql" or changed <= 0:
            return False
        try:
            if self.rows_at_analyze is None:
                self.rows_at_analyze, counted = self._server_statistics()
                # (the server may or may not have counted this commit yet: never count it twice)
                self.changed_since_analyze += max(0, counted - changed)
            self.changed_since_analyze += changed
            if self.changed_since_analyze < max(ANALYZE_MIN_ROWS, ANALYZE_FRACTION * self.rows_at_analyze):
                return False
            self.analyze()
        except ArchiveError as exc:  # the rows are committed: a failed refresh must not fail the store
            self.changed_since_analyze = 0  # (try again after as many rows, not every batch)
            warnings.warn(f"could not refresh the index statistics (ANALYZE): {exc}", stacklevel=3)
            return False
        return True

    def analyze(self) -> None:
        """Refresh the planner statistics of the index tables (PostgreSQL ``ANALYZE``; SQLite
        ``PRAGMA optimize``), outside any write transaction."""
        started = time.perf_counter()
        if self.db.kind == "postgresql":
            self.db.execute(f"ANALYZE {_INDEX_TABLES}")
            self.rows_at_analyze = self._server_statistics()[0]
        else:
            self.db.execute("PRAGMA optimize")
        self.changed_since_analyze = 0
        self.analyze_count += 1
        self.analyze_seconds += time.perf_counter() - started

    def _server_statistics(self) -> tuple[int, int]:
        """PostgreSQL's view of the instance table: (rows at its last ANALYZE or VACUUM, by
        anyone, autovacuum included: 0 when never analyzed; rows changed since, by anyone: 0
        without ``track_counts``; the counters reach the server within a second or so)."""
        got = self.db.execute(
            "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c"
            " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'instance'::regclass"
        )
        return (max(0, int(got[0][0])), max(0, int(got[0][1]))) if got else (0, 0)

    def schema_version(self) -> int | None:
        try:
            got = self.db.execute("SELECT value FROM archive_meta WHERE name = 'schema'")
        except Exception:
            return None
        return int(got[0][0]) if got else None

    # -- lookups (inside a write transaction)
    # Every lookup below reads one table by a unique key, the parents' keys through scalar
    # subqueries (one primary-key probe per row): no join for the planner to turn into a scan
    # of a whole table when its statistics are stale (with the statistics of empty tables, the
    # former joins of a batch of 256 instances were planned as hash joins over the whole series
    # and patient tables when the rows were narrow; whether that happens depends on row widths
    # and the batch's length, so no join is left to chance).
    _SERIES_PARENTS = (
        "(SELECT st.study_uid FROM study st WHERE st.pk = se.study_pk),"
        " (SELECT p.patient_id FROM patient p WHERE p.pk ="
        " (SELECT st.patient_pk FROM study st WHERE st.pk = se.study_pk))"
    )

    def existing_instances(self, sop_uids: Sequence[str]) -> dict[str, tuple[str, str, str, str, int, str]]:
        """sop uid → (series uid, study uid, patient id, path, size, digest)."""
        found: list[tuple[Any, ...]] = []
        for chunk in _chunks(sorted(set(sop_uids))):
            found += self.db.execute(
                "SELECT sop_uid, series_pk, path, size, digest FROM instance"
                f" WHERE sop_uid IN ({_marks(len(chunk))})",
                chunk,
            )
        parents: dict[int, tuple[str, str, str]] = {}
        for chunk in _chunks(sorted({int(r[1]) for r in found})):
            rows = self.db.execute(
                f"SELECT se.pk, se.series_uid, {self._SERIES_PARENTS} FROM series se"
                f" WHERE se.pk IN ({_marks(len(chunk))})",
                chunk,
            )
            parents.update((int(r[0]), (r[1], r[2], r[3])) for r in rows)
        out: dict[str, tuple[str, str, str, str, int, str]] = {}
        for sop, series_pk, path, size, digest in found:
            up = parents.get(int(series_pk))
            if up is not None:  # (always: a row's parents exist in the same transaction)
                out[sop] = (*up, path, int(size), digest)
        return out

    def study_patients(self, study_uids: Sequence[str]) -> dict[str, str]:
        """Study Instance UID → the Patient ID it is indexed under."""
        return self._parents(
            "SELECT st.study_uid, (SELECT p.patient_id FROM patient p WHERE p.pk = st.patient_pk)"
            " FROM study st WHERE st.study_uid IN ",
            study_uids,
        )

    def series_studies(self, series_uids: Sequence[str]) -> dict[str, str]:
        """Series Instance UID → the Study Instance UID it is indexed under."""
        return self._parents(
            "SELECT se.series_uid, (SELECT st.study_uid FROM study st WHERE st.pk = se.study_pk)"
            " FROM series se WHERE se.series_uid IN ",
            series_uids,
        )

    def _parents(self, select_in: str, uids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(uids))):
            rows = self.db.execute(f"{select_in}({_marks(len(chunk))})", chunk)
            out.update((r[0], r[1]) for r in rows if r[1] is not None)
        return out

    # -- writes (inside a write transaction)
    def upsert(self, level: Level, row: LevelRow, parent_pk: int | None) -> int:
        """Insert or update one patient / study / series row; its pk."""
        names = list(row.values)
        params: list[Any] = list(row.values.values())
        if level in PARENT_FK:
            names.insert(0, PARENT_FK[level])
            params.insert(0, parent_pk)
        names += ["attrs", "loose"]
        params += [row.attrs, int(row.loose)]
        key = KEY[level]
        sets = ", ".join(f"{n} = excluded.{n}" for n in names if n != key)
        got = self.db.execute(
            f"INSERT INTO {TABLE[level]} ({', '.join(names)}) VALUES ({_marks(len(names))})"
            f" ON CONFLICT ({key}) DO UPDATE SET {sets} RETURNING pk",
            params,
        )
        return int(got[0][0])

    def put_instances(self, rows: Sequence[tuple[LevelRow, int, str, int, str, str | None]]) -> None:
        """Insert or replace instance rows: (row, series pk, path, size, digest, transfer syntax)."""
        if not rows:
            return
        first = rows[0][0]
        names = ["series_pk", *first.values, "path", "size", "digest", "transfer_syntax", "attrs", "loose"]
        sets = ", ".join(f"{n} = excluded.{n}" for n in names if n != "sop_uid")
        sql = (
            f"INSERT INTO instance ({', '.join(names)}) VALUES ({_marks(len(names))})"
            f" ON CONFLICT (sop_uid) DO UPDATE SET {sets}"
        )
        params = [
            (series_pk, *row.values.values(), path, size, digest, ts, row.attrs, int(row.loose))
            for row, series_pk, path, size, digest, ts in rows
        ]
        self.db.executemany(sql, params)

    def recount(
        self, series_pks: Iterable[int], study_pks: Iterable[int], patient_pks: Iterable[int]
    ) -> None:
        """Recompute the derived attributes of these rows (and their parents'); empty parents go."""
        db = self.db
        series = sorted(set(series_pks))
        studies = set(study_pks)
        patients = set(patient_pks)
        for chunk in _chunks(series):
            m = _marks(len(chunk))
            db.execute(
                "UPDATE series SET n_instances = (SELECT count(*) FROM instance WHERE series_pk = series.pk)"
                f" WHERE pk IN ({m})",
                chunk,
            )
            studies.update(r[0] for r in db.execute(f"SELECT study_pk FROM series WHERE pk IN ({m})", chunk))
            db.execute(f"DELETE FROM series WHERE pk IN ({m}) AND n_instances = 0", chunk)
        for chunk in _chunks(sorted(studies)):
            m = _marks(len(chunk))
            db.execute(
                "UPDATE study SET n_series = (SELECT count(*) FROM series WHERE study_pk = study.pk),"
                " n_instances = (SELECT coalesce(sum(n_instances), 0) FROM series WHERE study_pk = study.pk)"
                f" WHERE pk IN ({m})",
                chunk,
            )
            modalities = _value_sets(chunk, db.execute(self._study_modalities_sql(m), chunk))
            classes = _value_sets(chunk, db.execute(self._study_sop_classes_sql(m), chunk))
            db.executemany(
                "UPDATE study SET modalities = ?, sop_classes = ? WHERE pk = ?",
                [
                    ("\\".join(sorted(modalities[pk])) or None, "\\".join(sorted(classes[pk])) or None, pk)
                    for pk in chunk
                ],
            )
            patients.update(
                r[0] for r in db.execute(f"SELECT patient_pk FROM study WHERE pk IN ({m})", chunk)
            )
            db.execute(f"DELETE FROM study WHERE pk IN ({m}) AND n_series = 0", chunk)
        for chunk in _chunks(sorted(patients)):
            m = _marks(len(chunk))
            db.execute(
                "UPDATE patient SET n_studies = (SELECT count(*) FROM study WHERE patient_pk = patient.pk),"
                " n_series = (SELECT coalesce(sum(n_series), 0) FROM study WHERE patient_pk = patient.pk),"
                " n_instances = (SELECT coalesce(sum(n_instances), 0) FROM study WHERE patient_pk = patient.pk)"
                f" WHERE pk IN ({m})",
                chunk,
            )
            db.execute(f"DELETE FROM patient WHERE pk IN ({m}) AND n_studies = 0", chunk)

    def _study_modalities_sql(self, marks: str) -> str:
        """(study pk, modality) of every series of the studies ``pk IN (marks)``."""
        if self.db.kind == "postgresql":
            # Driven from the studies' primary keys; the fenced (OFFSET 0) LATERAL subquery can
            # only run once per study, so it is an index scan on series_study_pk whatever the
            # planner's statistics say (stale ones estimate 0.5 % of the table per key, which
            # for a long IN list makes a whole-table scan look cheaper).
            return (
                "SELECT st.pk, se.modality FROM study st CROSS JOIN LATERAL"
                " (SELECT s.modality FROM series s WHERE s.study_pk = st.pk OFFSET 0) se"
                f" WHERE st.pk IN ({marks})"
            )
        return f"SELECT study_pk, modality FROM series WHERE study_pk IN ({marks})"

    def _study_sop_classes_sql(self, marks: str) -> str:
        """(study pk, SOP Class UID) of the instances of the studies ``pk IN (marks)`` (distinct
        per series at least)."""
        if self.db.kind == "postgresql":
            # study pk -> its series (series_study_pk) -> each series' distinct classes
            # (instance_series_pk): nested loops by construction, never a scan of the instance
            # table (which the join below became with the statistics of empty tables).
            return (
                "SELECT st.pk, x.sopclassuid FROM study st CROSS JOIN LATERAL"
                " (SELECT s.pk FROM series s WHERE s.study_pk = st.pk OFFSET 0) se CROSS JOIN LATERAL"
                " (SELECT DISTINCT i.sopclassuid FROM instance i WHERE i.series_pk = se.pk) x"
                f" WHERE st.pk IN ({marks})"
            )
        return (
            "SELECT DISTINCT se.study_pk, i.sopclassuid FROM instance i JOIN series se ON se.pk = i.series_pk"
            f" WHERE se.study_pk IN ({marks})"
        )

    def instances_under(self, level: Level, uid: str) -> list[tuple[int, int, str, str]]:
        """(instance pk, series pk, sop uid, path) of every instance under the entity."""
        base = (
            "SELECT i.pk, i.series_pk, i.sop_uid, i.path FROM instance i JOIN series se ON se.pk = i.series_pk"
            " JOIN study st ON st.pk = se.study_pk JOIN patient p ON p.pk = st.patient_pk WHERE "
        )
        where = {
            Level.PATIENT: "p.patient_id = ?",
            Level.STUDY: "st.study_uid = ?",
            Level.SERIES: "se.series_uid = ?",
            Level.INSTANCE: "i.sop_uid = ?",
        }[level]
        return [(int(r[0]), int(r[1]), r[2], r[3]) for r in self.db.execute(base + where, (uid,))]

    def delete_instances(self, pks: Sequence[int]) -> None:
        for chunk in _chunks(sorted(pks)):
            self.db.execute(f"DELETE FROM instance WHERE pk IN ({_marks(len(chunk))})", chunk)

    # -- reads
    def instance_file(self, sop_uid: str) -> tuple[str, int, str] | None:
        got = self.db.execute("SELECT path, size, digest FROM instance WHERE sop_uid = ?", (sop_uid,))
        return (got[0][0], int(got[0][1]), got[0][2]) if got else None

    def counts(self) -> dict[str, int]:
        out = {}
        for lv in LEVELS:
            out[TABLE[lv]] = int(self.db.execute(f"SELECT count(*) FROM {TABLE[lv]}")[0][0])
        out["bytes"] = int(self.db.execute("SELECT coalesce(sum(size), 0) FROM instance")[0][0])
        return out

    def iter_instances(self, page: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Every instance row, in pages by primary key: memory stays flat, no cursor is held open
        between pages (the caller may write meanwhile)."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT i.sop_uid, se.series_uid, st.study_uid, p.patient_id, i.sopclassuid, i.path, i.size,"
                " i.digest, i.transfer_syntax, i.pk FROM instance i JOIN series se ON se.pk = i.series_pk"
                " JOIN study st ON st.pk = se.study_pk JOIN patient p ON p.pk = st.patient_pk"
                " WHERE i.pk > ? ORDER BY i.pk LIMIT ?",
                (last, page),
            )
            yield from rows
            if len(rows) < page:
                return
            last = int(rows[-1][9])

    def loose_levels(self) -> set[Level]:
        """The levels that have ``loose`` rows (one round trip; partial indexes make it cheap)."""
        parts = ", ".join(f"EXISTS (SELECT 1 FROM {TABLE[lv]} WHERE loose = 1)" for lv in LEVELS)
        row = self.db.execute(f"SELECT {parts}")[0]
        return {lv for lv, flag in zip(LEVELS, row, strict=True) if flag}
