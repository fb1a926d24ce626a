"""Properties of dicomkit.model.query checked with Hypothesis against independent oracles:
Python's ``datetime`` (date, time and aware datetime comparisons), ``fnmatch``-free pattern
construction (a wild card pattern made from a value), and pydicom's DA/TM/DT parsers
(pydicom.valuerep) for the normalized bounds (PS3.4 C.2.2.2.4 and C.2.2.2.5)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pydicom.valuerep
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dicomkit import Dataset
from dicomkit.errors import QueryError
from dicomkit.model import Query
from dicomkit.model.query import normalize_for_range

SETTINGS = settings(max_examples=150, deadline=None)

# characters of LO/PN values, including regex metacharacters (no "\\", "=", "*", "?")
_ALPHABET = "abcXYZ019 ^.-_()[]+$|{}"


def _record(keyword_tag: str, vr: str, value: Any) -> dict[str, Any]:
    if vr == "PN":
        value = {"Alphabetic": value}
    return {keyword_tag: {"vr": vr, "Value": [value]}}


@st.composite
def value_and_pattern(draw: st.DrawFn) -> tuple[str, str]:
    value = draw(st.text(_ALPHABET, min_size=1, max_size=16).map(str.strip).filter(bool))
    out = []
    i = 0
    while i < len(value):
        op = draw(st.sampled_from(["keep", "keep", "one", "run"]))
        if op == "one":
            out.append("?")
            i += 1
        elif op == "run":
            out.append("*")
            i += draw(st.integers(0, len(value) - i))
        else:
            out.append(value[i])
            i += 1
    if draw(st.booleans()):
        out.append("*")  # * also matches nothing
    return value, "".join(out)


@SETTINGS
@given(value_and_pattern())
def test_wildcard_made_from_a_value_matches_it(vp: tuple[str, str]) -> None:
    value, pattern = vp
    assume(pattern.strip() == pattern)  # padding spaces of the key are insignificant
    record = _record("00081030", "LO", value)
    assert Query.from_params("study", {"StudyDescription": pattern}).matches(record)
    pn_record = _record("00100010", "PN", value)
    assert Query.from_params("study", {"PatientName": pattern}).matches(pn_record)
    # fuzzy PN is case-insensitive (it folds runs of separators into one, see docs/query.md)
    if re.search(r"[\^ ]{2}|^\^|\^$", value) is None:
        assert Query.from_params("study", {"PatientName": pattern.swapcase()}, fuzzy=True).matches(pn_record)


@SETTINGS
@given(st.text("ab^ ", min_size=1, max_size=4).map(str.strip).filter(bool), st.text("ab^ ", max_size=4))
def test_single_value_matches_only_equal_values(query: str, stored: str) -> None:
    q = Query.from_params("study", {"StudyDescription": query})
    assert q.matches(_record("00081030", "LO", stored)) is (stored.strip() == query)


_DATES = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))


@SETTINGS
@given(st.one_of(st.none(), _DATES), st.one_of(st.none(), _DATES), _DATES)
def test_date_range_matches_exactly_the_dates_inside(
    a: dt.date | None, b: dt.date | None, d: dt.date
) -> None:
    assume(a is not None or b is not None)
    if a is not None and b is not None and a > b:
        a, b = b, a
    text = f"{a:%Y%m%d}" if a else ""
    text += "-" + (f"{b:%Y%m%d}" if b else "")
    q = Query.from_params("study", {"StudyDate": text})
    expected = (a is None or a <= d) and (b is None or d <= b)
    assert q.matches(_record("00080020", "DA", f"{d:%Y%m%d}")) is expected


# TM: a bound of lower precision covers its whole unit (see docs/query.md)
_UNITS = [
    ("%H", dt.timedelta(hours=1)),
    ("%H%M", dt.timedelta(minutes=1)),
    ("%H%M%S", dt.timedelta(seconds=1)),
    *((f"%H%M%S.{n}", dt.timedelta(microseconds=10 ** (6 - n))) for n in range(1, 7)),
]
_DAY = dt.date(2000, 1, 1)


def _tm_text(t: dt.time, fmt: str) -> tuple[str, dt.datetime, dt.datetime]:
    """The truncated TM text, its first instant and the first instant after it."""
    if "." in fmt:
        digits = int(fmt.rsplit(".", 1)[1])
        text = t.strftime("%H%M%S.%f")[: 7 + digits]
    else:
        text = t.strftime(fmt)
    unit = dict(_UNITS)[fmt]
    start = dt.datetime.strptime(
        text.ljust(6, "0") if "." not in text else text, "%H%M%S.%f" if "." in text else "%H%M%S"
    )
    start = dt.datetime.combine(_DAY, start.time())
    return text, start, start + unit


@SETTINGS
@given(
    st.times(),
    st.times(),
    st.times(),
    st.sampled_from([u[0] for u in _UNITS]),
    st.sampled_from([u[0] for u in _UNITS]),
)
def test_time_range_against_datetime(low: dt.time, high: dt.time, t: dt.time, f1: str, f2: str) -> None:
    low_text, low_start, _ = _tm_text(low, f1)
    high_text, _, high_end = _tm_text(high, f2)
    stored = dt.datetime.combine(_DAY, t)
    if low_start >= high_end:
        with pytest.raises(QueryError, match="ends before it starts"):
            Query.from_params("study", {"StudyTime": f"{low_text}-{high_text}"})
        return
    q = Query.from_params("study", {"StudyTime": f"{low_text}-{high_text}"})
    assert q.matches(_record("00080030", "TM", t.strftime("%H%M%S.%f"))) is (low_start <= stored < high_end)


_OFFSETS = st.integers(-12 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q)))
_AWARE = st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2050, 12, 31), timezones=_OFFSETS)


def _dt_text(value: dt.datetime) -> str:
    offset = value.strftime("%z")
    return value.strftime("%Y%m%d%H%M%S.%f") + offset


@SETTINGS
@given(_AWARE, _AWARE, _AWARE)
def test_datetime_range_against_aware_datetimes(a: dt.datetime, b: dt.datetime, d: dt.datetime) -> None:
    if a > b:
        a, b = b, a
    q = Query.from_params("instance", {"AcquisitionDateTime": f"{_dt_text(a)}-{_dt_text(b)}"})
    assert q.matches(_record("0008002A", "DT", _dt_text(d))) is (a <= d <= b)


@SETTINGS
@given(_AWARE, st.sampled_from([4, 6, 8, 10, 12, 14]), st.booleans())
def test_dt_low_bound_agrees_with_pydicom(value: dt.datetime, digits: int, with_offset: bool) -> None:
    text = value.strftime("%Y%m%d%H%M%S")[:digits]
    if digits == 14:
        text += value.strftime(".%f")
    if with_offset:
        text += value.strftime("%z")
    parsed = pydicom.valuerep.DT(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    assert normalize_for_range("DT", text) == parsed.strftime("%Y%m%d%H%M%S.%f").rjust(21, "0")


@SETTINGS
@given(st.times(), st.sampled_from([u[0] for u in _UNITS]))
def test_tm_low_bound_agrees_with_pydicom(value: dt.time, fmt: str) -> None:
    text, _, _ = _tm_text(value, fmt)
    assert normalize_for_range("TM", text) == pydicom.valuerep.TM(text).strftime("%H%M%S.%f")


@SETTINGS
@given(_DATES)
def test_da_agrees_with_pydicom(value: dt.date) -> None:
    text = f"{value:%Y%m%d}"
    assert normalize_for_range("DA", text) == pydicom.valuerep.DA(text).strftime("%Y%m%d")


_UIDS = st.lists(
    st.sampled_from(["1.2.3", "1.2.840.10008.1.2", "2.25.1234", "1.3.6.1.4.1.5962.1"]), min_size=1, max_size=3
)


@SETTINGS
@given(
    name=st.one_of(st.just(""), st.text("abDE^*?", min_size=1, max_size=8).map(str.strip)),
    date=st.one_of(st.just(""), _DATES.map(lambda d: f"{d:%Y%m%d}"), _DATES.map(lambda d: f"{d:%Y%m%d}-")),
    uids=st.one_of(st.just([]), _UIDS),
    accession=st.sampled_from(["", '""', "A1", "A*"]),
)
def test_identifier_and_params_give_the_same_query(
    name: str, date: str, uids: list[str], accession: str
) -> None:
    """The same keys written as a C-FIND identifier ("\\" lists) and as QIDO-RS parameters ("," lists)."""
    params = {
        "PatientName": name,
        "StudyDate": date,
        "StudyInstanceUID": ",".join(uids),
        "AccessionNumber": accession,
    }
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    ident.PatientName = name
    ident.StudyDate = date
    ident.StudyInstanceUID = tuple(uids) if len(uids) > 1 else "".join(uids)
    ident.AccessionNumber = accession
    from_params = Query.from_params("study", params)
    from_identifier = Query.from_identifier(ident)
    assert from_params.conditions == from_identifier.conditions
    assert set(from_identifier.return_tags) <= set(from_params.return_tags)


@SETTINGS
@given(st.text("ab^.*?", min_size=1, max_size=8), st.text("ab^.", max_size=8))
def test_wildcard_agrees_with_fnmatchcase(pattern: str, value: str) -> None:
    """Python's fnmatch.fnmatchcase is an independent implementation of "*" and "?" (C.2.2.2.4);
    the alphabet has no "[", which fnmatch would treat specially."""
    from fnmatch import fnmatchcase

    assume(pattern.strip("*") and ("*" in pattern or "?" in pattern))  # only "*": universal
    q = Query.from_params("study", {"StudyDescription": pattern})
    assert q.matches(_record("00081030", "LO", value)) is (bool(value) and fnmatchcase(value, pattern))
