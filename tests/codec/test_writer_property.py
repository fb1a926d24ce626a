"""Property: any data set dicomkit can build is written and read back equal (PS3.5 6.2, 7.1-7.5, A.1-A.5).

Random data sets hold every VR (values empty, ordinary, or at their VR's length limit),
sequences nested two deep with items of defined and undefined length, a private block,
and text in one of the character sets of PS3.3 C.12.1.1.2: the default repertoire, the
single-byte ISO_IR sets, ISO_IR 192 (UTF-8), GB18030, and ISO 2022 with the Japanese and
Korean multi-byte sets (person names with ideographic and phonetic component groups).
Each is written with ``dicomkit.write`` in one of the four uncompressed transfer syntaxes
and with each sequence-length mode, then read with ``dicomkit.read``: the values must be
the ones written. The same bytes are read by pydicom (an independent reader with its own
character set decoding), whose values must equal dicomkit's.
"""

from __future__ import annotations

import datetime
import io
import math
import struct
from typing import Any

import pydicom
import pydicom.multival
import pydicom.sequence
import pydicom.valuerep
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomkit
from dicomkit.codec.charset import Charset
from dicomkit.codec.values import decode_value
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.dictionary import tag_for_keyword, vm_of
from dicomkit.tag import Tag

IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
BIG = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
SC = "1.2.840.10008.5.1.4.1.1.7"
PRIVATE_GROUP = 0x0009
CREATOR = "DICOMKIT PROPERTY"

# -- character sets and the characters each can encode ----------------------------------

_ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,-_()"
_KANJI = "山田太郎花子東京大阪日本語漢字医療画像診断"
_HIRAGANA = "やまだたろうはなこあいうえおかきくけこ"
_HALF_KATAKANA = "ｱｲｳｴｵｶｷｸｹｺﾔﾏﾀﾞﾛｳ"
_HANGUL = "홍길동김철수이영희가나다라마바사"
_HANJA = "洪吉童金哲秀"
#: (0008,0005) value, characters for text, and PN component groups (alphabetic,
#: ideographic, phonetic alphabets; None: the group is not used)
CHARSETS: list[tuple[Any, str, tuple[str, str | None, str | None]]] = [
    (None, _ASCII, (_ASCII, None, None)),
    ("ISO_IR 100", _ASCII + "ÀÁÂÄÅÆÇÈÉÑÖØÜßàáâäåæçèéêëñöøüÿ", (_ASCII + "ÄÖÜßéè", None, None)),
    ("ISO_IR 101", _ASCII + "ĄąĆćČčĎďĘęĚěŁłŃńŇňŘřŚśŠšŤťŮůŹźŻżŽž", (_ASCII + "ŁłŘř", None, None)),
    (
        "ISO_IR 144",
        _ASCII + "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя",
        ("ЖДЯждя", None, None),
    ),
    ("ISO_IR 126", _ASCII + "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρστυφχψω", ("ΔΘΛδθλ", None, None)),
    ("ISO_IR 138", _ASCII + "אבגדהוזחטיכלמנסעפצקרשת", ("שלום", None, None)),
    ("ISO_IR 148", _ASCII + "ÇçĞğİıÖöŞşÜü", ("ĞğİıŞş", None, None)),
    ("ISO_IR 192", _ASCII + "ÄéЖΩ中文한국어日本語ﬁ€", (_ASCII + "éЖ", "中文한국어", "ㄓㄨㄥ")),
    ("GB18030", _ASCII + "中文张三李四王五赵六医学影像", (_ASCII, "张三李四", "zhangsan")),
    (("", "ISO 2022 IR 87"), _ASCII + _KANJI + _HIRAGANA, (_ASCII, _KANJI, _HIRAGANA)),
    (("ISO 2022 IR 13", "ISO 2022 IR 87"), _HALF_KATAKANA + _KANJI, (_HALF_KATAKANA, _KANJI, _HIRAGANA)),
    (("", "ISO 2022 IR 149"), _ASCII + _HANGUL + _HANJA, (_ASCII, _HANJA, _HANGUL)),
]

# -- value strategies per VR ------------------------------------------------------------


def _text(alphabet: str, limit: int, *, inner: str = "") -> st.SearchStrategy[str]:
    """Text of 1..limit characters (often exactly ``limit``) without spaces at either end
    (they are padding, PS3.5 6.2); ``inner`` characters may appear inside."""
    core = st.text(alphabet=alphabet, min_size=1, max_size=min(limit, 40))
    at_limit = st.text(alphabet=alphabet, min_size=limit, max_size=limit) if limit <= 2000 else core
    body = st.one_of(core, at_limit)
    if inner:
        body = st.one_of(body, st.tuples(core, st.sampled_from(inner), core).map("".join))
    return body.map(lambda s: s[:limit])


def _uid() -> st.SearchStrategy[str]:
    comp = st.one_of(st.just("0"), st.integers(1, 10**12).map(str))
    short = st.lists(comp, min_size=2, max_size=6).map(".".join)
    # exactly 64 characters (PS3.5 9.1)
    full = st.integers(10**57, 10**58 - 1).map(lambda n: "1.2.3." + str(n))
    return st.one_of(short, full)


def _ds() -> st.SearchStrategy[str]:
    plain = st.integers(-(10**15), 10**15).map(str)
    frac = st.tuples(st.integers(-999999, 999999), st.integers(0, 10**8)).map(lambda t: f"{t[0]}.{t[1]}")
    at_limit = st.integers(10**6, 10**7 - 1).map(lambda n: f"-{n}.{n % 10**7:07d}")  # 16 characters
    exp = st.tuples(st.integers(1, 9), st.integers(-30, 30)).map(lambda t: f"{t[0]}.5E{t[1]}")
    return st.one_of(plain, frac, at_limit, exp).filter(lambda s: len(s) <= 16)


_DATES = st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))
_TIMES = st.times()


def _value_strategies(alphabet: str, pn: tuple[str, str | None, str | None]) -> dict[str, Any]:
    """Strategy for one value of each VR (None: VR not in this table)."""
    printable = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "\\")
    long_text = alphabet + " \r\n\t\\"
    groups = [_text(a, 64, inner=" ") if a else None for a in (pn[0], pn[1], pn[2])]
    components = st.lists(st.text(alphabet=pn[0], min_size=1, max_size=12), min_size=1, max_size=5)
    alpha = st.one_of(components.map("^".join), st.just("^".join(["A" * 12] * 5)))  # 5 components
    if groups[1] is not None:
        pn_value = st.one_of(
            alpha,
            st.tuples(alpha, st.text(alphabet=pn[1], min_size=1, max_size=64)).map("=".join),
            st.tuples(
                alpha,
                st.text(alphabet=pn[1], min_size=1, max_size=20),
                st.text(alphabet=pn[2] or pn[1], min_size=1, max_size=20),
            ).map("=".join),
            st.tuples(st.just(""), st.text(alphabet=pn[1], min_size=1, max_size=20)).map("=".join),
        )
    else:
        pn_value = alpha
    f32 = st.floats(width=32, allow_nan=False)
    return {
        "AE": _text(printable.replace(" ", ""), 16),
        "AS": st.tuples(st.integers(0, 999), st.sampled_from("DWMY")).map(lambda t: f"{t[0]:03d}{t[1]}"),
        "CS": _text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", 16, inner=" "),
        "DA": _DATES.map(lambda d: d.strftime("%Y%m%d").zfill(8)),
        "DS": _ds(),
        "DT": st.tuples(_DATES, _TIMES, st.sampled_from(["", "+0100", "-0530"])).map(
            lambda t: t[0].strftime("%Y%m%d").zfill(8) + t[1].strftime("%H%M%S.%f") + t[2]
        ),
        "IS": st.integers(-(2**31), 2**31 - 1),
        "LO": _text(alphabet, 64, inner=" "),
        "LT": _text(long_text, 10240),
        "PN": pn_value,
        "SH": _text(alphabet, 16, inner=" "),
        "ST": _text(long_text, 1024),
        "TM": _TIMES.map(lambda t: t.strftime("%H%M%S.%f")),
        "UC": _text(alphabet, 3000, inner=" "),
        "UI": _uid(),
        "UR": _text(printable, 300),
        "UT": _text(long_text, 3000),
        "US": st.integers(0, 0xFFFF),
        "SS": st.integers(-0x8000, 0x7FFF),
        "UL": st.integers(0, 0xFFFFFFFF),
        "SL": st.integers(-(2**31), 2**31 - 1),
        "UV": st.integers(0, 2**64 - 1),
        "SV": st.integers(-(2**63), 2**63 - 1),
        "FL": f32,
        "FD": st.floats(allow_nan=False),
        # Tag objects: a pair of small plain ints would mean one (group, element) (encode_value)
        "AT": st.integers(0, 0xFFFFFFFF).map(Tag),
    }


_BINARY = {
    "OB": (1, "B"),
    "UN": (1, "B"),
    "OW": (2, "H"),
    "OF": (4, "f"),
    "OL": (4, "L"),
    "OD": (8, "d"),
    "OV": (8, "Q"),
}

#: standard attributes, one or two per VR (single- and multi-valued where the VR allows)
_KEYWORDS = {
    "AE": ["RetrieveAETitle"], "AS": ["PatientAge"], "AT": ["DimensionIndexPointer", "FrameIncrementPointer"],
    "CS": ["Modality", "ImageType"], "DA": ["StudyDate", "DateOfLastCalibration"], "DS": ["PatientWeight",
    "ImagePositionPatient"], "DT": ["AcquisitionDateTime"], "FD": ["ContrastBolusInjectionDelay",
    "TableOfYBreakPoints"], "FL": ["ExaminedBodyThickness", "TableOfParameterValues"], "IS": ["StageNumber",
    "ReferencedFrameNumber"], "LO": ["Manufacturer", "OtherPatientIDs"], "LT": ["ImageComments"],
    "OB": ["EncapsulatedDocument"], "OD": ["DoublePointCoordinatesData"], "OF": ["VectorGridData"],
    "OL": ["LongTrianglePointIndexList"], "OV": ["SelectorOVValue"], "OW": ["GreenPaletteColorLookupTableData"],
    "PN": ["PatientName", "PerformingPhysicianName"], "SH": ["StationName", "ConvolutionKernel"],
    "SL": ["ReferencePixelX0"], "SS": ["ExposureControlSensingRegionLeftVerticalEdge"], "ST": ["InstitutionAddress"],
    "SV": ["SelectorSVValue"], "TM": ["StudyTime", "TimeOfLastCalibration"], "UC": ["StrainDescription",
    "PotentialReasonsForProcedure"], "UI": ["StudyInstanceUID", "RelatedGeneralSOPClassUID"], "UL":
    ["NumberOfWaveformSamples", "SimpleFrameList"], "UR": ["RetrieveURL"], "US": ["AcquisitionMatrix"],
    "UT": ["TextValue"], "UV": ["SelectorUVValue"],
}  # fmt: skip
_ATTRIBUTES = [(int(tag_for_keyword(k)), vr) for vr, ks in _KEYWORDS.items() for k in ks]
_PRIVATE_VRS = ["LO", "SH", "US", "FD", "UL", "OB", "UN", "UT", "DS", "IS"]
_SEQUENCES = [int(tag_for_keyword(k)) for k in ("ReferencedImageSequence", "AnatomicRegionSequence")]


def _vm_range(tag: int) -> tuple[int, int]:
    vm = vm_of(tag) or "1"
    if vm == "1":
        return 1, 1
    lo, _, hi = vm.partition("-")
    low = int(lo.rstrip("n") or 1)
    if hi and hi.rstrip("n").isdigit():
        return low, max(low, int(hi.rstrip("n")))
    return low, max(low, 3)


@st.composite
def _binary(draw: st.DrawFn, vr: str) -> tuple[int, ...] | bytes:
    unit, fmt = _BINARY[vr]
    if vr in ("OB", "UN"):
        return draw(st.binary(max_size=64))
    if fmt in "fd":
        return tuple(draw(st.lists(st.floats(width=32 if fmt == "f" else 64, allow_nan=False), max_size=8)))
    return tuple(draw(st.lists(st.integers(0, 2 ** (8 * unit) - 1), max_size=8)))


@st.composite
def _element_value(draw: st.DrawFn, tag: int, vr: str, values: dict[str, Any]) -> Any:
    if vr in _BINARY:
        return draw(_binary(vr))
    if draw(st.integers(0, 15)) == 0:
        return None  # an empty value
    lo, hi = _vm_range(tag)
    if hi == 1:
        return draw(values[vr])
    return tuple(draw(st.lists(values[vr], min_size=lo, max_size=hi)))


@st.composite
def _items(draw: st.DrawFn, values: dict[str, Any], depth: int) -> Dataset:
    ds = Dataset()
    for tag, vr in draw(st.lists(st.sampled_from(_ATTRIBUTES), max_size=4, unique=True)):
        ds[tag] = DataElement(tag, vr, draw(_element_value(tag, vr, values)))
    if depth < 2 and draw(st.booleans()):
        ds[_SEQUENCES[depth]] = _sequence(draw, values, depth + 1)
    return ds


def _sequence(draw: st.DrawFn, values: dict[str, Any], depth: int) -> DataElement:
    seq = Sequence(draw(st.lists(_items(values, depth), max_size=3)))
    for item in seq:
        if draw(st.booleans()):
            seq.mark_undefined_length(item)
    tag = _SEQUENCES[depth - 1]
    return DataElement(tag, "SQ", seq, undefined_length=draw(st.booleans()))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    charset, alphabet, pn = draw(st.sampled_from(CHARSETS))
    values = _value_strategies(alphabet, pn)
    ds = Dataset()
    if charset is not None:
        ds[0x00080005] = DataElement(0x00080005, "CS", charset)
    ds.SOPClassUID = SC
    ds.SOPInstanceUID = draw(_uid())
    for tag, vr in draw(st.lists(st.sampled_from(_ATTRIBUTES), min_size=1, max_size=12, unique=True)):
        ds[tag] = DataElement(tag, vr, draw(_element_value(tag, vr, values)))
    if draw(st.booleans()):
        block = ds.private_block(PRIVATE_GROUP, CREATOR, create=True)
        for offset, vr in enumerate(draw(st.lists(st.sampled_from(_PRIVATE_VRS), max_size=4))):
            value = draw(_binary(vr)) if vr in _BINARY else draw(values[vr])
            block.add(0x10 + offset, vr, value)
    if draw(st.booleans()):
        ds[_SEQUENCES[0]] = _sequence(draw, values, 1)
    return ds


# -- comparison ---------------------------------------------------------------------------


def _norm_scalar(vr: str, v: Any) -> Any:
    if isinstance(v, str):
        v = str(v).rstrip(" ")  # trailing spaces are padding (PS3.5 6.2)
    if v is None or v == "" or v == b"":
        return None
    if vr == "DS":
        return float(v)
    if vr == "IS":
        return int(v)
    if vr in ("FL", "FD"):
        return float(v)
    if vr == "AT":
        return int(v)
    if isinstance(v, str):
        return str(v).rstrip(" ")
    return v


def _norm_value(vr: str, v: Any, little: bool) -> Any:
    if v is None:
        return None
    if vr in _BINARY:
        if isinstance(v, tuple):  # made in memory as numbers
            fmt = _BINARY[vr][1]
            return struct.pack(("<" if little else ">") + str(len(v)) + fmt, *v) or None
        b = bytes(v)
        return b + b"\0" * (len(b) & 1) or None  # padded to even length (PS3.5 7.1.1)
    if isinstance(v, tuple | list | pydicom.multival.MultiValue):
        out = tuple(_norm_scalar(vr, x) for x in v)
        if not out:
            return None
        return out[0] if len(out) == 1 else out
    return _norm_scalar(vr, v)


def _plain(ds: Dataset, little: bool, vrs: dict[int, str], cs: Charset | None = None) -> dict[int, Any]:
    """tag -> comparable value. ``vrs``: the VR each private tag was written with (in
    Implicit VR it comes back as UN bytes, decoded here with that VR)."""
    if 0x00080005 in ds:
        cs = Charset.from_value(ds[0x00080005].value)
    out: dict[int, Any] = {}
    for elem in ds:
        tag = int(elem.tag)
        vr = str(elem.VR)
        if vr == "SQ":
            out[tag] = [_plain(item, little, vrs, cs) for item in elem.value]
            continue
        v = elem.value
        if vr == "UN" and vrs.get(tag, "UN") != "UN" and elem.raw is not None:
            vr = vrs[tag]
            v = decode_value(tag, vr, elem.raw, little, cs, None, False)
        out[tag] = _norm_value(vr, v, little)
    return out


def _private_vrs(ds: Dataset) -> dict[int, str]:
    return {int(e.tag): str(e.VR) for e in ds if e.tag.is_private}


def _pydicom_plain(ds: Any) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for elem in ds:
        tag = int(elem.tag)
        if elem.VR == "SQ":
            out[tag] = [_pydicom_plain(item) for item in elem.value]
            continue
        v = elem.value
        if isinstance(v, pydicom.valuerep.PersonName):
            v = str(v)
        elif isinstance(v, pydicom.multival.MultiValue) and elem.VR == "PN":
            v = tuple(str(x) for x in v)
        out[tag] = _norm_value(str(elem.VR), v, True) if not isinstance(v, bytes) else (v or None)
    return out


def _dicomkit_plain_as_read(ds: Dataset) -> dict[int, Any]:
    """dicomkit's values as read (bytes as in the file), shaped like ``_pydicom_plain``."""
    out: dict[int, Any] = {}
    for elem in ds:
        tag = int(elem.tag)
        if elem.VR == "SQ":
            out[tag] = [_dicomkit_plain_as_read(item) for item in elem.value]
            continue
        v = elem.value
        out[tag] = (bytes(v) or None) if isinstance(v, bytes) else _norm_value(str(elem.VR), v, True)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# -- the property ---------------------------------------------------------------------------


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    ds=datasets(),
    ts=st.sampled_from([IMPLICIT, EXPLICIT, BIG, DEFLATED]),
    mode=st.sampled_from(["preserve", "defined", "undefined"]),
)
def test_write_then_read_gives_the_values_written(ds: Dataset, ts: str, mode: str) -> None:
    buf = io.BytesIO()
    dicomkit.write(ds, buf, transfer_syntax=ts, sequence_length=mode)  # type: ignore[arg-type]
    data = buf.getvalue()
    back = dicomkit.read(data)
    little = ts != BIG
    vrs = _private_vrs(ds)
    expected = _plain(ds, little, vrs)
    got = _plain(back, little, vrs)
    assert _same(got, expected), (got, expected)
    assert str(back.meta.get(0x00020010)) == ts
    # written again from what was read: the same bytes (nothing changed)
    again = io.BytesIO()
    dicomkit.write(back, again)
    assert again.getvalue()[132:] == data[132:] or ts == DEFLATED

    # pydicom reads the same bytes to the same values
    theirs = pydicom.dcmread(io.BytesIO(data))
    ours = _dicomkit_plain_as_read(back)
    assert _same(_pydicom_plain(theirs), ours), (_pydicom_plain(theirs), ours)


@pytest.mark.parametrize("ts", [IMPLICIT, EXPLICIT, BIG, DEFLATED])
@pytest.mark.parametrize("charset", [c[0] for c in CHARSETS], ids=str)
def test_every_character_set_in_every_transfer_syntax(ts: str, charset: Any) -> None:
    """A fixed sample per character set and transfer syntax (the property above draws
    them at random): person names with all their component groups, and long text."""
    _, alphabet, pn = next(c for c in CHARSETS if c[0] == charset)
    ds = Dataset()
    if charset is not None:
        ds[0x00080005] = DataElement(0x00080005, "CS", charset)
    ds.SOPClassUID = SC
    ds.SOPInstanceUID = "1.2.3.4"
    name = "^".join([pn[0][:6], pn[0][6:12] or "X"])
    if pn[1]:
        name += "=" + pn[1][:4] + "^" + pn[1][4:8] + "=" + (pn[2] or pn[1])[:4]
    ds.PatientName = name
    ds.StationName = alphabet[-16:]
    ds.InstitutionAddress = (alphabet * 40)[:1024]
    item = Dataset()
    item.CodeMeaning = alphabet[-64:]
    ds.AnatomicRegionSequence = [item]
    buf = io.BytesIO()
    dicomkit.write(ds, buf, transfer_syntax=ts)
    back = dicomkit.read(buf.getvalue())
    theirs = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    for got in (back.PatientName, theirs.PatientName):
        assert str(got) == name
    assert back.StationName == theirs.StationName == alphabet[-16:]
    assert back.InstitutionAddress == theirs.InstitutionAddress == (alphabet * 40)[:1024]
    assert back.AnatomicRegionSequence[0].CodeMeaning == alphabet[-64:]
    assert theirs.AnatomicRegionSequence[0].CodeMeaning == alphabet[-64:]
