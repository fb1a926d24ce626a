"""Compile a :class:`dicomkit.model.query.Query` to SQL over the index tables, and run it.

PS3.4 C.2.2.2 matching is done in two steps. The SQL is a *prefilter*: every condition on an
attribute with a typed column (see :mod:`dicomkit.archive.index`) becomes a predicate that
never drops a matching row: single value ``=``; wildcard ``GLOB`` (SQLite) or ``LIKE``
(PostgreSQL), both case-sensitive; UID list ``IN``; date/time ranges as comparisons on the
normalized bounds (``<col>_hi >= low AND <col> <= high``); empty value ``IS NULL``; Modalities
in Study / SOP Classes in Study as ``EXISTS`` over the series / instances. Rows the columns
cannot represent exactly (``loose``) always pass. Each row that passes is then checked with
:meth:`Query.matches` on its full DICOM JSON record (the entity, its parents and the derived
attributes), so conditions without a column (any other attribute, sequences, fuzzy names)
still work, and the result equals the in-memory matcher's.

Paging and ordering: when every condition compiled to an exact predicate, ``LIMIT``/``OFFSET``
go to the database; otherwise they are applied to the checked rows. Ordering by typed
columns is SQL ``ORDER BY`` (absent values first when ascending), then the level's UID;
ordering by any other attribute (or on a level with ``loose`` rows) uses :meth:`Query.apply`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from dicomkit.archive.index import (
    ALIAS,
    DERIVED_COLUMNS,
    KEY,
    LEVELS,
    PARENT_FK,
    TABLE,
    Column,
    Index,
    column_for,
)
from dicomkit.model.findings import Level

if TYPE_CHECKING:
    from dicomkit.model.query import Condition, Query

__all__ = ["Plan", "count", "plan", "run"]

_MODALITIES_IN_STUDY = 0x00080061
_SOP_CLASSES_IN_STUDY = 0x00080062


@dataclass(slots=True)
class Plan:
    """The SQL of one query: ``FROM``/``WHERE`` with parameters, ``ORDER BY``, and whether
    the database's answer is exact (no row needs the in-memory check to be dropped)."""

    chain: tuple[Level, ...]
    from_sql: str
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order_sql: str = ""
    exact: bool = True
    python_order: bool = False

    def where_sql(self) -> str:
        return (" WHERE " + " AND ".join(self.where)) if self.where else ""


def _from(level: Level) -> tuple[tuple[Level, ...], str]:
    chain = LEVELS[: LEVELS.index(level) + 1]
    sql = f"{TABLE[level]} {ALIAS[level]}"
    for child, parent in zip(reversed(chain), reversed(chain[:-1]), strict=False):
        sql += (
            f" JOIN {TABLE[parent]} {ALIAS[parent]} ON {ALIAS[parent]}.pk = {ALIAS[child]}.{PARENT_FK[child]}"
        )
    return chain, sql


def plan(index: Index, query: Query) -> Plan:
    from dicomkit.model.query import MatchKind

    level = Level(query.level)
    chain, from_sql = _from(level)
    p = Plan(chain, from_sql)
    groups: dict[Level, list[tuple[str, list[Any]]]] = {}
    loose_found: list[set[Level]] = []

    def loose(lv: Level) -> bool:
        if not loose_found:
            loose_found.append(index.loose_levels())
        return lv in loose_found[0]

    for cond in query.conditions:
        if cond.tag in (_MODALITIES_IN_STUDY, _SOP_CLASSES_IN_STUDY) and Level.STUDY in chain:
            if cond.kind not in (MatchKind.SINGLE, MatchKind.WILDCARD, MatchKind.LIST):
                p.exact = False
                continue
            if cond.tag == _MODALITIES_IN_STUDY:
                sub_level, col = Level.SERIES, column_for(0x00080060)
                sub_from = "series sx"
                alias = "sx"
            else:
                sub_level, col = Level.INSTANCE, column_for(0x00080016)
                sub_from = "series sx JOIN instance ix ON ix.series_pk = sx.pk"
                alias = "ix"
            assert col is not None
            compiled = _compile(index, cond, col, f"{alias}.{col.name}")
            if compiled is None:
                p.exact = False
                continue
            sql, params, exact = compiled
            if loose(sub_level):
                sql = f"({alias}.loose = 1 OR {sql})"
                exact = False
            p.where.append(f"EXISTS (SELECT 1 FROM {sub_from} WHERE sx.study_pk = st.pk AND {sql})")
            p.params += params
            p.exact &= exact
            continue
        col = column_for(cond.tag)
        if col is None or col.level not in chain:
            p.exact = False
            continue
        compiled = _compile(index, cond, col, f"{ALIAS[col.level]}.{col.name}")
        if compiled is None:
            p.exact = False
            continue
        sql, params, exact = compiled
        p.exact &= exact
        groups.setdefault(col.level, []).append((sql, params))
    for lv in chain:
        if lv not in groups:
            continue
        parts = groups[lv]
        sql = " AND ".join(s for s, _ in parts)
        params = [v for _, ps in parts for v in ps]
        if loose(lv):
            sql = f"({ALIAS[lv]}.loose = 1 OR ({sql}))"
            p.exact = False
        p.where.append(sql)
        p.params += params
    order = []
    for tag, descending in query.order_by:
        col = column_for(tag)
        if col is None or col.level not in chain or loose(col.level):
            p.python_order = True
            break
        name = f"{ALIAS[col.level]}.{col.name}"
        order.append(f"{name} DESC NULLS LAST" if descending else f"{name} ASC NULLS FIRST")
    if p.python_order:
        order = []
    order.append(f"{ALIAS[level]}.{KEY[level]} ASC")
    p.order_sql = " ORDER BY " + ", ".join(order)
    return p


def _compile(index: Index, cond: Condition, col: Column, name: str) -> tuple[str, list[Any], bool] | None:
    """(predicate, parameters, exact) for one condition on a typed column; None: no predicate.

    Mirrors :mod:`dicomkit.model.query`'s matcher: values compared after stripping padding
    (the columns hold stripped text), a DA/TM/DT value as the first instant it covers, a PN
    against its only (Alphabetic) group, a fuzzy PN on ``pn_fold`` of the whole name.
    """
    from dicomkit.model.query import MatchKind

    kind = cond.kind
    db = index.db
    if col.integer or kind == MatchKind.SEQUENCE:
        return None
    if kind == MatchKind.EMPTY:
        return (f"{name} = ''" if col.is_key else f"{name} IS NULL"), [], True
    if kind == MatchKind.RANGE:
        if not col.ranged:
            return None
        parts, params = [f"{name} <> ''"], []
        if cond.low is not None:
            parts.append(f"{name} >= ?")
            params.append(cond.low)
        if cond.high is not None:
            parts.append(f"{name} <= ?")
            params.append(cond.high)
        return " AND ".join(parts), params, True
    if not cond.values or col.ranged:
        return None
    if kind == MatchKind.LIST:
        return f"{name} IN ({','.join('?' * len(cond.values))})", list(cond.values), True
    value = cond.values[0]
    if col.folded and cond.fuzzy:
        from dicomkit.model.query import pn_fold

        folded = (
            pn_fold(value.replace("*", "\x00").replace("?", "\x01")).replace("\x00", "*").replace("\x01", "?")
        )
        if kind == MatchKind.WILDCARD:
            sql, param = db.wildcard(f"{name}_fold", folded)
            return sql, [param], True
        if not folded:
            return "1 = 0", [], True
        sql, param = db.contains(f"' ' || {name}_fold", " " + folded)
        return sql, [param], True
    if kind == MatchKind.WILDCARD:
        sql, param = db.wildcard(name, value)
        if col.is_key:
            sql += f" AND {name} <> ''"
        return sql, [param], True
    if kind == MatchKind.SINGLE:
        return f"{name} = ?", [value], True
    return None


def _select(p: Plan) -> str:
    cols = []
    for lv in p.chain:
        a = ALIAS[lv]
        cols.append(f"{a}.attrs")
        cols += [f"{a}.{c}" for _tag, _vr, c in DERIVED_COLUMNS[lv]]
    return ", ".join(cols)


def _record(p: Plan, row: tuple[Any, ...], parsed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The merged DICOM JSON record of one row (``parsed`` caches the parents' JSON)."""
    merged: dict[str, Any] = {}
    k = 0
    last = len(p.chain) - 1
    for n, lv in enumerate(p.chain):
        text = row[k]
        k += 1
        if n == last:
            merged.update(json.loads(text))
        else:
            attrs = parsed.get(text)
            if attrs is None:
                if len(parsed) > 4096:
                    parsed.clear()
                attrs = parsed[text] = json.loads(text)
            merged.update(attrs)
        for tag, vr, _c in DERIVED_COLUMNS[lv]:
            value = row[k]
            k += 1
            key = f"{tag:08X}"
            if vr == "IS":
                merged[key] = {"vr": vr, "Value": [int(value or 0)]}
            elif value:
                merged[key] = {"vr": vr, "Value": str(value).split("\\")}
            else:
                merged[key] = {"vr": vr}
    return merged


def run(index: Index, query: Query) -> Iterator[dict[str, Any]]:
    """The matching records (full DICOM JSON), ordered and paged."""
    p = plan(index, query)
    sql = f"SELECT {_select(p)} FROM {p.from_sql}{p.where_sql()}{p.order_sql}"
    params = list(p.params)
    limit, offset = query.limit, query.offset or 0
    if p.exact and not p.python_order and limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
        limit, offset = None, 0
    parsed: dict[str, dict[str, Any]] = {}
    candidates = (_record(p, row, parsed) for row in index.db.stream(sql, params))
    if p.python_order:  # the in-memory reference: match, order, page
        for record in query.apply(candidates):
            yield cast("dict[str, Any]", record)  # the records built above
        return
    skipped = sent = 0
    for record in candidates:
        if not query.matches(record):
            continue
        if skipped < offset:
            skipped += 1
            continue
        if limit is not None and sent >= limit:
            return
        sent += 1
        yield record


def count(index: Index, query: Query) -> int:
    """The number of matches (ignoring ``limit`` / ``offset``)."""
    p = plan(index, query)
    if p.exact:
        return int(index.db.execute(f"SELECT count(*) FROM {p.from_sql}{p.where_sql()}", p.params)[0][0])
    sql = f"SELECT {_select(p)} FROM {p.from_sql}{p.where_sql()}"
    parsed: dict[str, dict[str, Any]] = {}
    return sum(1 for row in index.db.stream(sql, p.params) if query.matches(_record(p, row, parsed)))
