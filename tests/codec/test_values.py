"""Value decoding per VR (PS3.5 section 6.2, Table 6.2-1) and the value types.

Expected values come from the standard (hand-encoded bytes: ``struct.pack`` for binary
numbers, backslash-joined and padded text), from Python's ``datetime`` and from pydicom's
value types (``pydicom.valuerep``) used as an oracle -- never from dicomkit's own output.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import struct
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit import dictionary
from dicomkit.codec.charset import Charset
from dicomkit.codec.values import DA, DT, TM, DecimalString, PersonName, decode_value
from dicomkit.errors import DecodeError, DicomWarning
from dicomkit.tag import Tag
from dicomkit.vr import VR

pydicom = pytest.importorskip("pydicom")
from pydicom import valuerep as pv  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TAG = 0x00091010  # a private tag: the VM is unknown to the dictionary
UTF8 = Charset.from_value("ISO_IR 192")
LATIN1 = Charset.from_value("ISO_IR 100")
BYTE_ORDERS = pytest.mark.parametrize("little", [True, False], ids=["LE", "BE"])


def dec(
    vr: str, raw: bytes, *, little: bool = True, cs: Charset | None = None, scalar: bool | None = None
) -> Any:
    return decode_value(ANY_TAG, vr, raw, little, cs, scalar, False)


def pad(raw: bytes, vr: str) -> bytes:
    """Pad to even length as PS3.5 6.2 says: NUL for UI, space for other text VRs."""
    return raw + (b"\x00" if vr == "UI" else b" ") * (len(raw) % 2)


def expected_multi(values: list[Any], scalar: bool | None, empty: Any) -> Any:
    """Type-stable multiplicity: scalar when the VM is 1 (or unknown with one value), else a tuple."""
    if scalar is False:
        return tuple(values)
    if not values:
        return empty
    if len(values) == 1:
        return values[0]
    return tuple(values)


def test_all_34_vrs_have_a_decoder_or_are_sequences() -> None:
    # PS3.5 Table 6.2-1 lists 34 VRs; each decodes to something other than the raw bytes
    # unless it is a bytes VR (SQ is decoded by the reader, see test_sequence_round_trip).
    assert len(VR) == 34
    samples = {"AT": b"\x10\x00\x10\x00", "FD": bytes(8), "SV": bytes(8), "UV": bytes(8)}
    for vr in VR:
        if vr == "SQ":
            continue
        raw = samples.get(vr, b"1234")
        value = dec(vr, raw)
        if vr in {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}:
            assert value == raw and type(value) is bytes, vr
        else:
            assert not isinstance(value, bytes), vr


# --------------------------------------------------------------------------------------------
# binary numbers (PS3.5 6.2: US SS UL SL FL FD SV UV), AT, and the bytes VRs
# --------------------------------------------------------------------------------------------

INTS = {
    "US": ("H", st.integers(0, 2**16 - 1)),
    "SS": ("h", st.integers(-(2**15), 2**15 - 1)),
    "UL": ("L", st.integers(0, 2**32 - 1)),
    "SL": ("l", st.integers(-(2**31), 2**31 - 1)),
    "SV": ("q", st.integers(-(2**63), 2**63 - 1)),
    "UV": ("Q", st.integers(0, 2**64 - 1)),
}


@pytest.mark.parametrize("vr", sorted(INTS))
@SETTINGS
@given(data=st.data(), little=st.booleans(), scalar=st.sampled_from([True, False, None]))
def test_integer_vrs_round_trip(vr: str, data: st.DataObject, little: bool, scalar: bool | None) -> None:
    fmt, ints = INTS[vr]
    values = data.draw(st.lists(ints, min_size=1 if scalar else 0, max_size=1 if scalar else 6))
    raw = struct.pack(("<" if little else ">") + str(len(values)) + fmt, *values)
    got = dec(vr, raw, little=little, scalar=scalar)
    assert got == expected_multi(values, scalar, None)
    if isinstance(got, tuple):
        assert all(type(v) is int for v in got)
    elif got is not None:
        assert type(got) is int


@pytest.mark.parametrize(("vr", "fmt", "width"), [("FL", "f", 32), ("FD", "d", 64)])
@SETTINGS
@given(data=st.data(), little=st.booleans(), scalar=st.sampled_from([False, None]))
def test_float_vrs_round_trip(
    vr: str, fmt: str, width: int, data: st.DataObject, little: bool, scalar: bool | None
) -> None:
    values = data.draw(st.lists(st.floats(width=width, allow_nan=True), max_size=6))
    bo = "<" if little else ">"
    raw = struct.pack(bo + str(len(values)) + fmt, *values)
    got = dec(vr, raw, little=little, scalar=scalar)
    got_t = got if isinstance(got, tuple) else (() if got is None else (got,))
    assert len(got_t) == len(values)
    # compare bit patterns: NaN != NaN, and -0.0 == 0.0 would hide a sign error
    assert struct.pack(bo + str(len(got_t)) + fmt, *got_t) == raw
    if len(values) == 1 and scalar is None:
        assert isinstance(got, float)


@BYTE_ORDERS
def test_binary_numbers_known_bytes(little: bool) -> None:
    le = little
    assert dec("US", b"\x01\x02" if le else b"\x02\x01", little=le) == 0x0201
    assert dec("SS", b"\xff\xff", little=le) == -1
    assert dec("UL", b"\x01\x00\x00\x00" if le else b"\x00\x00\x00\x01", little=le) == 1
    assert dec("SL", b"\xfe\xff\xff\xff" if le else b"\xff\xff\xff\xfe", little=le) == -2
    assert dec("FL", struct.pack("<f" if le else ">f", 1.5), little=le) == 1.5
    assert dec("FD", struct.pack("<d" if le else ">d", -0.25), little=le) == -0.25
    assert dec("SV", (b"\xff" * 8), little=le) == -1
    assert dec("UV", (b"\xff" * 8), little=le) == 2**64 - 1
    assert dec("UV", struct.pack("<Q" if le else ">Q", 2**63 + 5), little=le) == 2**63 + 5


@SETTINGS
@given(
    pairs=st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)), max_size=5),
    little=st.booleans(),
    scalar=st.sampled_from([False, None]),
)
def test_at_round_trip(pairs: list[tuple[int, int]], little: bool, scalar: bool | None) -> None:
    # PS3.5 6.2 AT: an ordered pair of 16-bit unsigned integers, group number first
    bo = "<" if little else ">"
    raw = b"".join(struct.pack(bo + "HH", g, e) for g, e in pairs)
    got = dec("AT", raw, little=little, scalar=scalar)
    expected = [g << 16 | e for g, e in pairs]
    assert got == expected_multi(expected, scalar, None)
    for t in got if isinstance(got, tuple) else [got] if got is not None else []:
        assert isinstance(t, Tag)


BYTES_VRS = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


@pytest.mark.parametrize("vr", sorted(BYTES_VRS))
@SETTINGS
@given(data=st.data(), little=st.booleans())
def test_bytes_vrs_are_kept_as_read(vr: str, data: st.DataObject, little: bool) -> None:
    unit = BYTES_VRS[vr]
    n = data.draw(st.integers(0, 12)) * max(unit, 2)
    raw = data.draw(st.binary(min_size=n, max_size=n))
    for scalar in (True, False, None):
        got = dec(vr, raw, little=little, scalar=scalar)
        assert got == raw and isinstance(got, bytes)


def test_binary_length_not_a_multiple_warns_or_raises() -> None:
    raw = struct.pack("<HH", 7, 9) + b"\x01"
    with pytest.warns(DicomWarning, match="multiple of 2") as rec:
        assert decode_value(0x00281101, "US", raw, True, None, False, False) == (7, 9)
    assert len(rec) == 1
    with pytest.raises(DecodeError) as exc:
        decode_value(0x00281101, "US", raw, True, None, False, True)
    assert exc.value.tag == 0x00281101
    with pytest.raises(DecodeError) as exc:
        decode_value(0x00209165, "AT", b"\x10\x00\x10\x00\x20", True, None, None, True)
    assert exc.value.tag == 0x00209165
    with pytest.warns(DicomWarning):
        assert decode_value(0x00209165, "AT", b"\x10\x00\x10\x00\x20", True, None, None, False) == 0x00100010


# --------------------------------------------------------------------------------------------
# text VRs: padding, backslash multi-values, character sets
# --------------------------------------------------------------------------------------------


def _words(first: str, middle: str, max_size: int) -> st.SearchStrategy[str]:
    """Text from ``middle`` characters that starts and ends with a ``first`` character."""
    return st.builds(
        lambda a, m, b: (a + m + b)[:max_size].rstrip(" ") if m or b else a,
        st.text(first, min_size=1, max_size=1),
        st.text(middle, max_size=max(max_size - 2, 0)),
        st.text(first, max_size=1),
    )


UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F) if c != 0x5C)  # no backslash, no space
UNICODE_SAFE = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Co", "Cn"), blacklist_characters="\\=^"
)

# (values strategy, strip leading spaces?) per multi-valued text VR without conversion
MULTI_TEXT = {
    "AE": _words(PRINTABLE, PRINTABLE + " ", 16),
    "CS": _words(UPPER, UPPER + " ", 16),
    "SH": _words(PRINTABLE, PRINTABLE + " ", 16),
    "LO": _words(PRINTABLE, PRINTABLE + " ", 64),
    "UC": st.builds(lambda a, b: a + b, st.text(" ", max_size=2), _words(PRINTABLE, PRINTABLE + " ", 100)),
    "UI": st.from_regex(r"[1-9][0-9]{0,5}(\.(0|[1-9][0-9]{0,5})){0,8}", fullmatch=True),
    "AS": st.from_regex(r"[0-9]{3}[DWMY]", fullmatch=True),
}


@pytest.mark.parametrize("vr", sorted(MULTI_TEXT))
@SETTINGS
@given(data=st.data(), scalar=st.sampled_from([True, False, None]))
def test_multi_valued_text_round_trip(vr: str, data: st.DataObject, scalar: bool | None) -> None:
    values = data.draw(st.lists(MULTI_TEXT[vr], min_size=1 if scalar else 0, max_size=1 if scalar else 5))
    raw = pad("\\".join(values).encode("ascii"), vr)
    # PS3.5 Table 6.2-1: AE, CS, SH, LO may carry insignificant leading/trailing spaces,
    # UC and UI only trailing padding (space; NUL for UI)
    got = dec(vr, raw, scalar=scalar)
    assert got == expected_multi(values, scalar, "")
    if vr in {"AE", "CS", "SH", "LO"} and values:
        spaced = pad("\\".join(f"  {v} " for v in values).encode("ascii"), vr)
        assert dec(vr, spaced, scalar=scalar) == expected_multi(values, scalar, "")


@pytest.mark.parametrize("vr", ["LT", "ST", "UT", "UR"])
@SETTINGS
@given(
    text=st.builds(
        lambda lead, body: lead + body,
        st.text(" ", max_size=3),
        _words(PRINTABLE + "\\", PRINTABLE + "\\ \r\n\t", 200),
    )
)
def test_single_valued_text_keeps_backslash_and_leading_spaces(vr: str, text: str) -> None:
    if vr == "UR":
        text = text.replace(" ", "").replace("\r", "").replace("\n", "").replace("\t", "")
    raw = pad(text.encode("ascii"), vr)
    # LT/ST/UT (and UR): one value; backslash is an ordinary character, only trailing spaces are padding
    assert dec(vr, raw) == text
    assert dec(vr, raw + b"  ") == text


@pytest.mark.parametrize("vr", ["SH", "LO", "ST", "LT", "UC", "UT", "PN"])
@SETTINGS
@given(data=st.data())
def test_charset_vrs_decode_with_the_character_set(vr: str, data: st.DataObject) -> None:
    word = data.draw(st.text(UNICODE_SAFE, min_size=1, max_size=10))
    # ISO_IR 192 is UTF-8 (PS3.5 6.1.2.5.3); ISO_IR 100 is ISO 8859-1
    assert dec(vr, pad(word.encode("utf-8"), vr), cs=UTF8) == word
    latin = "".join(c for c in word if ord(c) < 256) or "é"
    assert dec(vr, pad(latin.encode("latin-1"), vr), cs=LATIN1) == latin


def test_iso2022_escape_sequences_are_not_read_as_ascii() -> None:
    # ISO 2022 IR 87 text is 7-bit: ESC $ B switches to JIS X 0208, ESC ( B back (PS3.5 6.1.2.5.3).
    raw = "Yamada^Tarou=山田^太郎".encode("iso2022_jp")
    assert 0x1B in raw and max(raw) < 0x80
    terms = ["", "ISO 2022 IR 87"]
    cs = Charset.from_value(terms)
    ref = pv.PersonName(raw, encodings=pydicom.charset.convert_encodings(terms))
    assert str(dec("PN", raw, cs=cs)) == str(ref) == "Yamada^Tarou=山田^太郎"
    lo = "Yamada Tarou 山田 太郎".encode("iso2022_jp")
    assert dec("LO", pad(lo, "LO"), cs=cs) == pydicom.charset.decode_bytes(
        lo, pydicom.charset.convert_encodings(terms), set()
    )


# --------------------------------------------------------------------------------------------
# PN (PS3.5 6.2.1)
# --------------------------------------------------------------------------------------------

PS35_NAMES = [
    "Adams^John Robert Quincy^^Rev.^B.A. M.Div.",
    "Morrison-Jones^Susan^^^Ph.D., Chief Executive Officer",
    "Doe^John",
    "Smith",
    "^^^^",
    "Wang^XiaoDong=王^小東=",
    "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "=山田^太郎",
]


@pytest.mark.parametrize("name", PS35_NAMES)
def test_person_name_components_match_pydicom(name: str) -> None:
    got = dec("PN", pad(name.encode("utf-8"), "PN"), cs=UTF8)
    assert isinstance(got, PersonName)
    ref = pv.PersonName(name)
    assert got.family_name == ref.family_name
    assert got.given_name == ref.given_name
    assert got.middle_name == ref.middle_name
    assert got.name_prefix == ref.name_prefix
    assert got.name_suffix == ref.name_suffix
    assert got.ideographic == ref.ideographic
    assert got.phonetic == ref.phonetic
    assert got.components == tuple(ref.components)


component = st.text(
    st.characters(min_codepoint=0x41, max_codepoint=0x7A, blacklist_characters="\\^="), max_size=6
)


@SETTINGS
@given(groups=st.lists(st.lists(component, min_size=1, max_size=5), min_size=1, max_size=3))
def test_person_name_round_trip(groups: list[list[str]]) -> None:
    text = "=".join("^".join(g) for g in groups)
    got = dec("PN", pad(text.encode(), "PN"))
    if not text:
        assert got == ""
        return
    assert got == text
    alpha = groups[0] + [""] * 5
    assert (got.family_name, got.given_name, got.middle_name, got.name_prefix, got.name_suffix) == tuple(
        alpha[:5]
    )
    assert got.alphabetic == "^".join(groups[0])
    assert got.ideographic == ("^".join(groups[1]) if len(groups) > 1 else "")
    assert got.phonetic == ("^".join(groups[2]) if len(groups) > 2 else "")


def test_person_name_multi_values() -> None:
    got = decode_value(0x00101001, "PN", b"Doe^John\\Roe^Jane ", True, None, False, False)  # VM 1-n
    assert got == ("Doe^John", "Roe^Jane")
    assert [p.given_name for p in got] == ["John", "Jane"]


# --------------------------------------------------------------------------------------------
# DA, TM, DT: verbatim strings with conversions (pydicom's valuerep as the oracle)
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(d=st.dates(min_value=dt.date(1, 1, 1)))
def test_da(d: dt.date) -> None:
    text = f"{d.year:04d}{d.month:02d}{d.day:02d}"
    got = dec("DA", text.encode())
    assert isinstance(got, DA) and got == text
    assert got.to_date() == d == pv.DA(text)


@SETTINGS
@given(t=st.times(), precision=st.integers(0, 6), parts=st.integers(1, 3))
def test_tm(t: dt.time, precision: int, parts: int) -> None:
    text = f"{t.hour:02d}{t.minute:02d}{t.second:02d}"[: 2 * parts]
    if parts == 3 and precision:
        text += "." + f"{t.microsecond:06d}"[:precision]
    got = dec("TM", pad(text.encode(), "TM"))
    assert isinstance(got, TM) and got == text
    ref = pv.TM(text)
    assert got.to_time() == dt.time(ref.hour, ref.minute, ref.second, ref.microsecond)


@SETTINGS
@given(
    d=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    parts=st.integers(1, 6),
    precision=st.integers(0, 6),
    offset=st.none() | st.integers(-12 * 60, 14 * 60),
)
def test_dt(d: dt.datetime, parts: int, precision: int, offset: int | None) -> None:
    text = f"{d.year:04d}{d.month:02d}{d.day:02d}{d.hour:02d}{d.minute:02d}{d.second:02d}"[
        : [4, 6, 8, 10, 12, 14][parts - 1]
    ]
    if parts == 6 and precision:
        text += "." + f"{d.microsecond:06d}"[:precision]
    if offset is not None:
        text += f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    got = dec("DT", pad(text.encode(), "DT"))
    assert isinstance(got, DT) and got == text
    ref = pv.DT(text)
    conv = got.to_datetime()
    assert conv.replace(tzinfo=None) == ref.replace(tzinfo=None)
    assert conv.utcoffset() == ref.utcoffset()


def test_dates_and_times_kept_verbatim_and_retired_forms() -> None:
    # values are kept as written, even when not a valid date; conversion raises
    assert dec("DA", b"20241301") == "20241301"
    with pytest.raises(ValueError):
        dec("DA", b"20241301").to_date()
    assert dec("DA", b"2024.01.02").to_date() == dt.date(2024, 1, 2)  # ACR-NEMA form, PS3.5 6.2 note
    assert dec("TM", b"12:30:15").to_time() == dt.time(12, 30, 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leap = pv.TM("235960")  # a leap second cannot be a datetime.time: pydicom clamps it to 59
    assert dec("TM", b"235960").to_time() == dt.time(leap.hour, leap.minute, leap.second)
    assert decode_value(0x00080020, "DA", b"", True, None, True, False) == ""
    assert decode_value(0x00080020, "DA", b"20240102\\20240103", True, None, False, False) == (
        "20240102",
        "20240103",
    )


# --------------------------------------------------------------------------------------------
# IS and DS
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(
    values=st.lists(st.integers(-(2**31), 2**31 - 1), max_size=5),
    scalar=st.sampled_from([False, None]),
    lead=st.text(" ", max_size=2),
)
def test_is_round_trip(values: list[int], scalar: bool | None, lead: str) -> None:
    raw = pad("\\".join(f"{lead}{v}" for v in values).encode(), "IS")
    got = dec("IS", raw, scalar=scalar)
    assert got == expected_multi(values, scalar, None)
    for v in got if isinstance(got, tuple) else [got]:
        assert v is None or type(v) is int


def _ds_text(x: float) -> str:
    for fmt in ("{:.15g}", "{:.12g}", "{:.10g}", "{:.8g}", "{:.6g}"):
        s = fmt.format(x)
        if len(s) <= 16:
            return s
    return f"{x:.3e}"


@SETTINGS
@given(
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5),
    scalar=st.sampled_from([False, None]),
)
def test_ds_round_trip(values: list[float], scalar: bool | None) -> None:
    texts = [_ds_text(v) for v in values]
    raw = pad("\\".join(f" {t} " for t in texts).encode(), "DS")
    got = dec("DS", raw, scalar=scalar)
    got_t = got if isinstance(got, tuple) else (() if got is None else (got,))
    assert len(got_t) == len(texts)
    for g, t in zip(got_t, texts, strict=True):
        assert isinstance(g, DecimalString)
        assert g == float(t) == float(pv.DSfloat(t))
        assert g.original == t and str(g) == t


def test_empty_and_missing_numbers_in_text_vrs() -> None:
    assert decode_value(0x00200013, "IS", b"", True, None, True, False) is None  # InstanceNumber, VM 1
    assert decode_value(0x00200013, "IS", b"  ", True, None, True, False) is None
    assert decode_value(0x00280030, "DS", b"", True, None, False, False) == ()  # PixelSpacing, VM 2
    assert decode_value(0x00280030, "DS", b"0.5\\\\", True, None, False, False) == (0.5, None, None)


@pytest.mark.parametrize(("vr", "text"), [("IS", "1A"), ("IS", "1.5"), ("DS", "abc"), ("DS", "1,5")])
def test_invalid_numbers_warn_or_raise(vr: str, text: str) -> None:
    with pytest.warns(DicomWarning, match=r"\(0020,0013\)") as rec:
        assert decode_value(0x00200013, vr, pad(text.encode(), vr), True, None, True, False) == text
    assert len(rec) == 1
    with pytest.raises(DecodeError) as exc:
        decode_value(0x00200013, vr, pad(text.encode(), vr), True, None, True, True)
    assert exc.value.tag == 0x00200013


def test_decimal_string_type() -> None:
    v = DecimalString("-1.250E+02")
    assert v == -125.0 and isinstance(v, float)
    assert v.original == "-1.250E+02" and str(v) == "-1.250E+02"
    assert math.isclose(v * 2, -250.0)


# --------------------------------------------------------------------------------------------
# type-stable multiplicity through the reader: VM from the PS3.6 dictionary
# --------------------------------------------------------------------------------------------


def _explicit(tag: int, vr: str, value: bytes) -> bytes:
    value = pad(value, vr)
    if vr in {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}:
        return struct.pack("<HH2s2xL", tag >> 16, tag & 0xFFFF, vr.encode(), len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(value)) + value


@pytest.mark.parametrize(
    ("keyword", "vr", "raw"),
    [
        ("PatientName", "PN", b"Doe^John"),
        ("ImageType", "CS", b"ORIGINAL"),
        ("ImageType", "CS", b""),
        ("PatientID", "LO", b""),
        ("Rows", "US", struct.pack("<H", 512)),
        ("PixelSpacing", "DS", b"0.5"),
        ("InstanceNumber", "IS", b"7"),
        ("OtherPatientIDs", "LO", b"A"),
        ("FrameIncrementPointer", "AT", struct.pack("<HH", 0x0018, 0x1063)),
        ("SeriesDate", "DA", b""),
    ],
)
def test_multiplicity_follows_the_dictionary_vm(keyword: str, vr: str, raw: bytes) -> None:
    tag = dictionary.tag_for_keyword(keyword)
    data = _explicit(tag, vr, raw)
    ds = dicomkit.read_dataset(data)
    value = getattr(ds, keyword)
    ref = pydicom.filereader.read_dataset(io.BytesIO(data), False, True)[tag].value  # the same bytes
    ref_values = list(ref) if isinstance(ref, pydicom.multival.MultiValue) else [ref]
    ref_values = [v for v in ref_values if v not in ("", None)]
    if dictionary.vm_of(tag) == "1":
        assert not isinstance(value, tuple)
        assert ([value] if value not in ("", None) else []) == ref_values
    else:
        assert isinstance(value, tuple)
        assert list(value) == ref_values


def test_big_endian_values_through_the_reader() -> None:
    be = b"".join(
        [
            struct.pack(">HH2sH", 0x0028, 0x0010, b"US", 2) + struct.pack(">H", 0x0102),
            struct.pack(">HH2sH", 0x0028, 0x1101, b"US", 6) + struct.pack(">3H", 256, 0, 16),
            struct.pack(">HH2sH", 0x0028, 0x9001, b"UL", 4) + struct.pack(">L", 70000),
            struct.pack(">HH2sH", 0x0018, 0x9219, b"SS", 2) + struct.pack(">h", -3),
            struct.pack(">HH2sH", 0x0028, 0x0009, b"AT", 4) + struct.pack(">HH", 0x0018, 0x1063),
            struct.pack(">HH2sH", 0x0040, 0x9224, b"FD", 8) + struct.pack(">d", 2.5),
            struct.pack(">HH2s2xL", 0x7FE0, 0x0010, b"OW", 4) + b"\x01\x02\x03\x04",
        ]
    )
    ds = dicomkit.read_dataset(be, transfer_syntax_uid="1.2.840.10008.1.2.2")
    assert ds.Rows == 0x0102
    assert ds[0x00281101].value == (256, 0, 16)
    assert ds[0x00289001].value == 70000
    assert ds[0x00189219].value == -3
    assert ds.FrameIncrementPointer == (Tag(0x00181063),)  # VM 1-n: a tuple even with one value
    assert ds[0x00409224].value == 2.5
    assert ds.PixelData == b"\x01\x02\x03\x04"  # OW stays in the data set's byte order


@SETTINGS
@given(items=st.lists(st.lists(_words(PRINTABLE, PRINTABLE + " ", 20), min_size=1, max_size=2), max_size=4))
def test_sequence_round_trip(items: list[list[str]]) -> None:
    # SQ (PS3.5 7.5): items of defined length holding LO and SH elements
    body = b""
    for values in items:
        content = _explicit(0x00080100, "SH", values[0][:16].encode()) + _explicit(
            0x00101000, "LO", "\\".join(values).encode()
        )
        body += struct.pack("<HHL", 0xFFFE, 0xE000, len(content)) + content
    ds = dicomkit.read_dataset(_explicit(0x00081032, "SQ", body))
    seq = ds.ProcedureCodeSequence
    assert len(seq) == len(items)
    for item, values in zip(seq, items, strict=True):
        assert item.CodeValue == values[0][:16].strip(" ")
        assert item.OtherPatientIDs == tuple(values)  # LO, VM 1-n
