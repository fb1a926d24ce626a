"""Value encoding (codec/values.py ``encode_value``): the inverse of decoding, PS3.5 6.2.

Round trip ``decode_value(encode_value(v)) == v`` for every VR but SQ with random valid values
(Hypothesis), both byte orders and several character sets; pydicom's bytes as an oracle for a
table of values; invalid values raise ``EncodeError`` naming the tag and the VR.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomkit._dictdata import ELEMENTS
from dicomkit.codec.charset import Charset
from dicomkit.codec.values import DA, DT, TM, DecimalString, PersonName, decode_value, encode_value
from dicomkit.errors import EncodeError
from dicomkit.tag import Tag
from dicomkit.vr import VR

ALL_VRS = [vr.value for vr in VR if vr is not VR.SQ]
FIXED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _first_tag(vr: str, vm: str) -> int | None:
    for tag, entry in sorted(ELEMENTS.items()):
        if entry[0] == vr and entry[1] == vm and not entry[4] and tag >> 16 not in (0, 2):
            return tag
    return None


SCALAR_TAG = {vr: _first_tag(vr, "1") for vr in ALL_VRS}
MULTI_TAG = {vr: _first_tag(vr, "1-n") for vr in ALL_VRS}
MULTI_VRS = [vr for vr in ALL_VRS if MULTI_TAG[vr] is not None]


def roundtrip(tag: int, vr: str, value: Any, little: bool, cs: Charset | None, scalar: bool | None) -> Any:
    raw = encode_value(tag, vr, value, little=little, charset=cs)
    assert len(raw) % 2 == 0
    return decode_value(tag, vr, raw, little, cs, scalar, True)


# -- strategies of valid values -------------------------------------------------------------

ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
ALPHABETS: dict[str, tuple[Any, str]] = {
    "default": (None, ASCII),
    "latin1": (Charset("ISO_IR 100"), ASCII + "àéîõüÄÖÜßçñ"),
    "utf8": (Charset("ISO_IR 192"), ASCII + "àéΩЖ中文字😀한글ひらがなカタカナ"),
    "gb18030": (Charset("GB18030"), ASCII + "中文字符测试汉字"),
    "ir87": (Charset(("", "ISO 2022 IR 87")), ASCII + "山田太郎やまだたろう"),
    "ir149": (Charset(("", "ISO 2022 IR 149")), ASCII + "김희중홍길동"),
}
ISO2022 = {"ir87", "ir149"}
CHARSET_LIMITS = {"SH": 16, "LO": 64, "UC": 200, "ST": 1024, "LT": 2000, "UT": 2000}


def text(alphabet: str, max_size: int, *, strip: str = "both", min_size: int = 0) -> st.SearchStrategy[str]:
    """Text the decoder gives back unchanged: no padding characters where it strips them."""

    def ok(s: str) -> bool:
        if strip in ("both", "right") and s != s.rstrip(" "):
            return False
        return not (strip == "both" and s != s.lstrip(" "))

    return st.text(alphabet, min_size=min_size, max_size=max_size).filter(ok)


def dotted_uid() -> st.SearchStrategy[str]:
    comp = st.one_of(st.just("0"), st.integers(1, 10**12).map(str))
    return st.lists(comp, min_size=2, max_size=12).map(".".join).filter(lambda s: len(s) <= 64)


def scalar_values(vr: str, alphabet: str) -> st.SearchStrategy[Any]:
    """One valid value of ``vr`` and the value decoding must give back (value, expected)."""
    no_bs = alphabet.replace("\\", "")
    same: dict[str, st.SearchStrategy[Any]] = {
        "AE": text(ASCII.replace("\\", ""), 16, min_size=1),
        "AS": st.from_regex(r"\A[0-9]{3}[DWMY]\Z"),
        "CS": text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ", 16),
        "SH": text(no_bs, 16),
        "LO": text(no_bs, 64),
        "UC": text(no_bs, CHARSET_LIMITS["UC"], strip="right"),
        "ST": text(alphabet + "\r\n\t", 1024, strip="right"),
        "LT": text(alphabet + "\r\n\f", 2000, strip="right"),
        "UT": text(alphabet + "\r\n", 2000, strip="right"),
        "UR": st.from_regex(r"\A[!-~]{1,80}\Z"),
        "UI": dotted_uid(),
        "US": st.integers(0, 0xFFFF),
        "SS": st.integers(-0x8000, 0x7FFF),
        "UL": st.integers(0, 0xFFFFFFFF),
        "SL": st.integers(-(2**31), 2**31 - 1),
        "UV": st.integers(0, 2**64 - 1),
        "SV": st.integers(-(2**63), 2**63 - 1),
        "FL": st.floats(width=32, allow_nan=False),
        "FD": st.floats(allow_nan=False),
        "IS": st.integers(-(2**31), 2**31 - 1),
        "AT": st.integers(0, 0xFFFFFFFF).map(Tag),
        "OB": st.binary(max_size=64).map(lambda b: b + b"\0" if len(b) % 2 else b),
        "UN": st.binary(max_size=64).map(lambda b: b + b"\0" if len(b) % 2 else b),
        "OW": st.binary(max_size=32).map(lambda b: b[: len(b) // 2 * 2]),
        "OF": st.binary(max_size=32).map(lambda b: b[: len(b) // 4 * 4]),
        "OL": st.binary(max_size=32).map(lambda b: b[: len(b) // 4 * 4]),
        "OD": st.binary(max_size=32).map(lambda b: b[: len(b) // 8 * 8]),
        "OV": st.binary(max_size=32).map(lambda b: b[: len(b) // 8 * 8]),
    }
    if vr in same:
        return same[vr]
    if vr == "PN":
        group = text(no_bs.replace("=", "").replace("^", "") + "^", 64, strip="none").filter(
            lambda g: g.count("^") <= 4
        )
        return st.lists(group, min_size=1, max_size=3).map("=".join).filter(lambda s: s == s.rstrip(" "))
    if vr == "DA":
        return st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    if vr == "TM":
        return st.times()
    if vr == "DT":
        offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
        return st.datetimes(
            dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=st.one_of(st.none(), offsets)
        )
    if vr == "DS":
        return st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.from_regex(r"\A[+-]?[0-9]{1,7}\.[0-9]{1,7}\Z").map(DecimalString),
            st.integers(-(10**15), 10**16 - 1),
        )
    raise AssertionError(vr)


def check_equal(vr: str, value: Any, got: Any) -> None:
    if value is None or value in ("", b""):
        assert got in (None, "", b"", PersonName(""))
        return
    if vr == "DA" and isinstance(value, dt.date):
        assert isinstance(got, DA) and got.to_date() == value
    elif vr == "TM" and isinstance(value, dt.time):
        assert isinstance(got, TM) and got.to_time() == value
    elif vr == "DT" and isinstance(value, dt.datetime):
        assert isinstance(got, DT) and got.to_datetime() == value
    elif vr == "DS":
        assert isinstance(got, DecimalString)
        if isinstance(value, DecimalString):
            assert got.original == value.original
        elif isinstance(value, int) and len(str(value)) <= 16:
            assert got.original == str(value)
        elif isinstance(value, int):
            assert got == float(value)
        elif isinstance(value, float) and len(repr(value)) > 16:
            assert math.isclose(got, value, rel_tol=1e-8, abs_tol=1e-300)
        else:
            assert got == value
    elif vr == "FL":
        assert got == value or (got == 0.0 and value == 0.0)
    elif vr == "PN":
        assert isinstance(got, PersonName) and str(got) == value
    else:
        assert got == value
        assert type(got) is not tuple


@pytest.mark.parametrize("little", [True, False], ids=["LE", "BE"])
@pytest.mark.parametrize("vr", ALL_VRS)
@FIXED
@given(data=st.data())
def test_roundtrip_scalar_default_charset(vr: str, little: bool, data: st.DataObject) -> None:
    value = data.draw(scalar_values(vr, ASCII), label="value")
    tag = SCALAR_TAG[vr] or MULTI_TAG[vr]
    assert tag is not None
    scalar = True if SCALAR_TAG[vr] else None
    got = roundtrip(tag, vr, value, little, None, scalar)
    check_equal(vr, value, got)


@pytest.mark.parametrize("little", [True, False], ids=["LE", "BE"])
@pytest.mark.parametrize("vr", MULTI_VRS)
@FIXED
@given(data=st.data())
def test_roundtrip_multi(vr: str, little: bool, data: st.DataObject) -> None:
    values = tuple(data.draw(st.lists(scalar_values(vr, ASCII), min_size=1, max_size=4), label="values"))
    if vr in ("OB", "UN"):  # pragma: no cover - no 1-n tags
        return
    tag = MULTI_TAG[vr]
    assert tag is not None
    got = roundtrip(tag, vr, values, little, None, False)
    assert isinstance(got, tuple)
    if len(values) == 1 and values[0] in ("", PersonName("")):
        assert got == ()
        return
    assert len(got) == len(values)
    for v, g in zip(values, got, strict=True):
        check_equal(vr, v, g)


@pytest.mark.parametrize("name", sorted(ALPHABETS))
@pytest.mark.parametrize("vr", ["PN", "LO", "SH", "UC", "ST", "LT", "UT"])
@FIXED
@given(data=st.data())
def test_roundtrip_charsets(vr: str, name: str, data: st.DataObject) -> None:
    cs, alphabet = ALPHABETS[name]
    if name in ISO2022 and vr not in ("PN", "LO", "SH"):
        return
    value = data.draw(scalar_values(vr, alphabet), label="value")
    got = roundtrip(SCALAR_TAG[vr] or 0, vr, value, True, cs, True)
    check_equal(vr, value, got)
    if vr in MULTI_TAG and MULTI_TAG[vr] is not None:
        values = tuple(data.draw(st.lists(scalar_values(vr, alphabet), min_size=2, max_size=3)))
        got_many = roundtrip(MULTI_TAG[vr] or 0, vr, values, True, cs, False)
        assert tuple(str(g) for g in got_many) == values


# -- values at their limits and explicit forms ------------------------------------------------

LIMIT_VALUES = [
    ("AE", "A" * 16),
    ("CS", "ORIGINAL_PRIMARY"),
    ("SH", "x" * 16),
    ("LO", "é" * 64),
    ("PN", "=".join(["a" * 16 + "^" + "b" * 47] * 3)),
    ("UI", "1." + "2" * 62),
    ("DS", "-1.234567890E-12"),
    ("IS", "-2147483648"),
    ("IS", "+00002147483647"[:12]),
    ("DA", "20241231"),
    ("TM", "235960.999999"),
    ("DT", "20241231235959.999999+1400"[:26]),
    ("AS", "120Y"),
]


@pytest.mark.parametrize(("vr", "value"), LIMIT_VALUES)
def test_limits_accepted(vr: str, value: str) -> None:
    cs = Charset("ISO_IR 192")
    raw = encode_value(0x00090010, vr, value, little=True, charset=cs)
    assert len(raw) % 2 == 0
    assert raw.rstrip(b" \0").decode("utf-8") == value.rstrip(" ")


def test_padding_bytes() -> None:
    enc = encode_value
    assert enc(0x00080018, "UI", "1.2.3", little=True, charset=None) == b"1.2.3\0"
    assert enc(0x00100010, "PN", "Doe", little=True, charset=None) == b"Doe "
    assert enc(0x00100020, "LO", "abc", little=True, charset=None) == b"abc "
    assert enc(0x7FE00010, "OB", b"\1\2\3", little=True, charset=None) == b"\1\2\3\0"
    assert enc(0x00081190, "UR", "http://a", little=True, charset=None) == b"http://a"
    assert enc(0x00081190, "UR", "http://", little=True, charset=None) == b"http:// "


@pytest.mark.parametrize("empty", [None, "", (), [], b""])
@pytest.mark.parametrize("vr", ALL_VRS)
def test_empty_values(vr: str, empty: Any) -> None:
    assert encode_value(0x00100010, vr, empty, little=True, charset=None) == b""


def test_other_value_forms() -> None:
    enc = encode_value
    kw: dict[str, Any] = {"little": True, "charset": None}
    assert enc(0x00100010, "PN", {"alphabetic": "Doe^J", "phonetic": "do"}, **kw) == b"Doe^J==do "
    assert enc(0x00100010, "PN", {"Alphabetic": "Doe"}, **kw) == b"Doe "
    assert enc(0x00100010, "PN", [("Doe", "", "do"), "X"], **kw) == b"Doe==do\\X "
    assert enc(0x00100010, "AT", (0x0010, 0x0020), **kw) == b"\x10\x00\x20\x00"
    assert enc(0x00100010, "AT", "PatientID", **kw) == b"\x10\x00\x20\x00"
    assert enc(0x00100010, "AT", [Tag(0x00100010), (0x0008, 0x0018)], **kw) == bytes.fromhex(
        "1000100008001800"
    )
    assert enc(0x00100010, "DS", 1.0, **kw) == b"1.0 "
    assert enc(0x00100010, "DS", DecimalString("0001.50"), **kw) == b"0001.50 "
    assert enc(0x00100010, "DS", 0.1 + 0.2, **kw) == b"0.3 "  # repr has 19 chars: rounded to 16 digits
    assert enc(0x00100010, "DS", 2 / 3, **kw) == b"0.66666666666667"
    assert enc(0x00100010, "DS", 1e300, **kw) == b"1e+300"
    assert enc(0x00100010, "IS", 3.0, **kw) == b"3 "
    assert enc(0x00100010, "DA", dt.datetime(2020, 1, 2, 3, 4), **kw) == b"20200102"
    assert enc(0x00100010, "TM", dt.time(1, 2, 3, 500000), **kw) == b"010203.500000 "
    assert enc(0x00100010, "DA", "20200101-", **kw) == b"20200101- "
    dtz = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(-dt.timedelta(hours=5)))
    assert enc(0x00100010, "DT", dtz, **kw) == b"20200102030405-0500 "
    assert enc(0x00100010, "OW", (1, 0x0203), little=False, charset=None) == b"\0\1\2\3"
    assert enc(0x00100010, "OW", memoryview(b"\1\2\3\4"), **kw) == b"\1\2\3\4"
    assert enc(0x00100010, "OB", bytearray(b"\1"), **kw) == b"\1\0"
    assert enc(0x00100010, "FD", (1, 2.5), little=False, charset=None) == struct.pack(">2d", 1, 2.5)
    assert enc(0x00100010, "SV", -1, little=False, charset=None) == b"\xff" * 8
    assert enc(0x00100010, "LT", "a\\b\r\n", **kw) == b"a\\b\r\n "


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=300, deadline=None)
def test_ds_float_format(x: float) -> None:
    raw = encode_value(0x00281050, "DS", x, little=True, charset=None).rstrip(b" ")
    assert len(raw) <= 16
    back = float(raw)
    if len(repr(x)) <= 16:
        assert raw.decode() == repr(x) and back == x
    else:
        assert math.isclose(back, x, rel_tol=1e-8, abs_tol=1e-300)


# -- invalid values ------------------------------------------------------------------------------

INVALID = [
    ("US", -1),
    ("US", 65536),
    ("US", 1.5),
    ("US", "1"),
    ("SS", 40000),
    ("SS", True),
    ("UL", 2**32),
    ("SL", -(2**31) - 1),
    ("UV", -1),
    ("SV", 2**63),
    ("FL", 1e39),
    ("FD", "1.0"),
    ("FD", (1.0, "x")),
    ("IS", 2**31),
    ("IS", "1.5"),
    ("IS", "1234567890123"),
    ("IS", 1.5),
    ("DS", float("nan")),
    ("DS", float("inf")),
    ("DS", "1,5"),
    ("DS", "12345678901234567"),
    ("DS", object()),
    ("CS", "lower"),
    ("CS", "A" * 17),
    ("CS", ("A", "B\\C")),
    ("AE", "A" * 17),
    ("AE", "   "),
    ("AE", "A\\B"),
    ("AS", "45Y"),
    ("AS", "045X"),
    ("DA", "2020-01-01"),
    ("DA", "20201301"),
    ("DA", dt.time(1, 2)),
    ("TM", "25"),
    ("TM", "12:00"),
    ("TM", dt.time(1, tzinfo=dt.UTC)),
    ("DT", "2020010100000000000000000000"),
    ("UI", "1.2.a"),
    ("UI", "1." * 32 + "1"),
    ("UI", 123),
    ("UR", " http://x"),
    ("UR", ("a", "b")),
    ("SH", "x" * 17),
    ("LO", "x" * 65),
    ("LO", "a\\b"),
    ("LO", ("a", "b\\c")),
    ("LO", "tab\there"),
    ("LO", "Müller"),  # not in the default repertoire
    ("LO", 5),
    ("ST", "x" * 1025),
    ("LT", "x" * 10241),
    ("ST", ("a", "b")),
    ("PN", "a=b=c=d"),
    ("PN", "a^b^c^d^e^f"),
    ("PN", "a" * 65),
    ("PN", "a\\b"),
    ("PN", 7),
    ("PN", {"bogus": "x"}),
    ("AT", 2**32),
    ("AT", "NoSuchKeyword"),
    ("AT", 1.5),
    ("OW", b"\1\2\3"),
    ("OF", b"\1\2"),
    ("OD", b"\1" * 12),
    ("OB", "text"),
    ("OB", 5),
    ("SQ", [1]),
    ("XX", "x"),
]


@pytest.mark.parametrize(("vr", "value"), INVALID, ids=[f"{vr}-{i}" for i, (vr, _) in enumerate(INVALID)])
@pytest.mark.parametrize("little", [True, False], ids=["LE", "BE"])
def test_invalid_values_raise(vr: str, value: Any, little: bool) -> None:
    with pytest.raises(EncodeError) as info:
        encode_value(0x00091001, vr, value, little=little, charset=None)
    assert info.value.tag == 0x00091001
    assert info.value.vr == vr
    assert "(0009,1001)" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_charset_error_names_tag() -> None:
    with pytest.raises(EncodeError) as info:
        encode_value(0x00100010, "PN", "山田", little=True, charset=Charset("ISO_IR 100"))
    assert info.value.tag == 0x00100010 and info.value.vr == "PN"


# -- pydicom as the oracle -------------------------------------------------------------------------

LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def pydicom_bytes(tag: int, vr: str, value: Any, little: bool, charset: str | None = None) -> bytes:
    from pydicom.dataelem import DataElement as PdElement
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_data_element

    fp = DicomBytesIO()
    fp.is_little_endian = little
    fp.is_implicit_VR = False
    write_data_element(fp, PdElement(tag, vr, value), encodings=[charset] if charset else None)
    return fp.getvalue()[12 if vr in LONG else 8 :]


ORACLE = [
    ("US", 0x00280010, 512),
    ("US", 0x00280010, 0),
    ("US", 0x00280010, 65535),
    ("US", 0x00080304, [1, 2, 65535]),
    ("SS", 0x00189219, -32768),
    ("SS", 0x00189219, 1234),
    ("UL", 0x00081161, [1, 4294967295]),
    ("SL", 0x00186020, -5),
    ("FL", 0x00089459, 1.5),
    ("FD", 0x00082134, -2.25),
    ("FD", 0x00186054, [1e-300, 3.0]),
    ("AT", 0x00209165, 0x00100010),
    ("AT", 0x00209165, [0x00100010, 0x7FE00010]),
    ("UI", 0x00080016, "1.2.840.10008.5.1.4.1.1.2"),
    ("UI", 0x00080018, "1.2.3.4"),
    ("UI", 0x00080018, "1.2.3.45"),
    ("PN", 0x00100010, "Doe^Jane"),
    ("PN", 0x00100010, "Doe^Jane^M^Dr^Jr"),
    ("PN", 0x00100010, "Yamada^Tarou"),
    ("DA", 0x00080020, "20240229"),
    ("DA", 0x00080020, "19991231"),
    ("TM", 0x00080030, "101010.123456"),
    ("LO", 0x00100020, "ID123"),
    ("CS", 0x00080060, "CT"),
    ("CS", 0x00080008, ["ORIGINAL", "PRIMARY", "AXIAL"]),
    ("SH", 0x00080050, "ACC1"),
    ("IS", 0x00200013, "12"),
    ("DS", 0x00280030, ["0.5", "0.25"]),
    ("LT", 0x00284000, "line one\r\nline two\\with backslash"),
    ("OB", 0x7FE00010, b"\x01\x02\x03"),
    ("UV", 0x00720083, [0, 2**64 - 1]),
    ("SV", 0x00720082, [-(2**63), 5]),
]


@pytest.mark.parametrize("little", [True, False], ids=["LE", "BE"])
@pytest.mark.parametrize(("vr", "tag", "value"), ORACLE)
def test_same_bytes_as_pydicom(vr: str, tag: int, value: Any, little: bool) -> None:
    ours = encode_value(tag, vr, value, little=little, charset=None)
    assert ours == pydicom_bytes(tag, vr, value, little)


@pytest.mark.parametrize(
    ("charset", "value"),
    [
        ("ISO_IR 100", "Müller^Jürgen"),
        ("ISO_IR 192", "Wang^XiaoDong=王^小東"),
        ("GB18030", "Wang^XiaoDong=王^小东"),
        (("", "ISO 2022 IR 87"), "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        (("", "ISO 2022 IR 149"), "Hong^Gildong=洪^吉洞=홍^길동"),
    ],
)
def test_pn_charsets_same_bytes_as_pydicom(charset: Any, value: str) -> None:
    from pydicom.charset import convert_encodings
    from pydicom.valuerep import PersonName as PdPersonName

    terms = charset if isinstance(charset, tuple) else (charset,)
    ours = encode_value(0x00100010, "PN", value, little=True, charset=Charset(terms))
    encodings = convert_encodings(list(terms))
    theirs = PdPersonName(value, encodings=encodings).encode(encodings)
    if len(theirs) % 2:
        theirs += b" "
    assert ours == theirs
