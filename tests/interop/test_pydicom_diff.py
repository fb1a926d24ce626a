"""Differential test of the DICOM JSON model (PS3.18 F.2): dicomkit against pydicom, file by file.

Every file of the installed pydicom and pydicom-data test data (the ``pydicom_test_files`` fixture)
is read by pydicom (``pydicom.dcmread(p)``, else with ``force=True``) and by ``dicomkit.read(p)``;
``to_json_dict`` of the dicomkit data set must equal pydicom's ``ds.to_json_dict()`` attribute by
attribute, recursively through sequence items, and the same for the File Meta Information
(``ds.file_meta.to_json_dict()`` against ``to_json_dict(ds.meta)``). Numbers are compared with a
tolerance (IS/DS come from text), ``InlineBinary`` after base64 decoding.

Every remaining difference is documented in docs/conformance.md ("Known differences from pydicom")
and encoded here explicitly, never as a blanket skip:

* two rules that hold for every file and are checked for their exact shape: ``GROUP_LENGTH``
  (pydicom keeps (gggg,0000), PS3.18 F.2.2 excludes it) and ``BIG_ENDIAN_BINARY`` (pydicom's
  InlineBinary of a big-endian data set is big endian; dicomkit's is little endian, like DCMTK's);
* ``KNOWN_DIFFERENCES``: a table of (file, attribute path, difference) entries. Each entry must
  match its difference exactly and must occur: a stale entry fails the test;
* ``PYDICOM_JSON_RAISES``: a file whose ``to_json_dict`` raises in pydicom (the attribute it cannot
  encode is left out of pydicom's side and is a table entry);
* ``PYDICOM_READS_NOTHING``: a file pydicom silently reads as an empty data set; it is compared
  with pydicom's ``stop_before_pixels`` read instead;
* ``DICOMKIT_REFUSES``: a file dicomkit rejects (InvalidDicomError) where pydicom, forced, reads
  only one bogus element; both outcomes are asserted.

Differences that are dicomkit limitations rather than pydicom errors (``PRIVATE_SEQUENCE``, and in
the transcoded test ``PRIVATE_VR_FROM_DICTIONARY`` and ``LUT_DESCRIPTOR_SIGNEDNESS``) say so in their
reason.

The helpers are shared with ``test_dcmtk_transcoded.py``.
"""

from __future__ import annotations

import array
import base64
import contextlib
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from dicomkit.codec.json import to_json_dict
from dicomkit.codec.values import decode_value
from dicomkit.dataset import DataElement, Dataset
from dicomkit.tag import Tag
from dicomkit.vr import VR

pydicom = pytest.importorskip("pydicom")

import conftest  # noqa: E402 - tests/conftest.py: the file listing behind the pydicom_test_files fixture

Attr = dict[str, Any] | None
#: One difference: the attribute path ("00081111", "0040A073/1/0040A088", "meta/00020000") and
#: the attribute object of dicomkit and of pydicom (None when absent).
Diff = tuple[str, Attr, Attr]

AS_IS = "as-is"  # the file as shipped; test_dcmtk_transcoded uses "+ti", "+tb" and "+td"
ALL_ENCODINGS = frozenset({AS_IS, "+ti", "+tb", "+td"})


# ----------------------------------------------------------------------------------------------
# the files


@dataclass(frozen=True)
class SourceFile:
    id: str  # "pydicom/<path under test_files>" or "pydicom-data/<path>"
    path: Path

    def __str__(self) -> str:
        return self.id


def _source_files() -> list[SourceFile]:
    """The files of the pydicom_test_files fixture, listed at collection time to parametrize."""
    from pydicom.data.data_manager import DATA_ROOT

    roots = [("pydicom", Path(DATA_ROOT) / "test_files")]
    try:
        from data_store import DataStore
    except ImportError:
        pass
    else:
        roots.append(("pydicom-data", Path(DataStore().data_path)))
    return [
        SourceFile(f"{name}/{path.relative_to(root).as_posix()}", path)
        for name, root in roots
        if root.is_dir()
        for path in conftest._dicom_files_under(root)
    ]


SOURCE_FILES = _source_files()


# ----------------------------------------------------------------------------------------------
# reading with each library


def read_pydicom(path: Path, **kwargs: Any) -> Any:
    """pydicom's data set of ``path``: ``dcmread(p)``, else ``dcmread(p, force=True)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, **kwargs)
        except Exception:
            return pydicom.dcmread(path, force=True, **kwargs)


def pydicom_json(ds: Any, *, drop_unencodable: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """pydicom's JSON of the data set and of its file meta (empty when it has none).

    ``drop_unencodable`` leaves out the top-level elements whose ``to_json_dict`` raises (what
    ``suppress_invalid_tags=True`` does, without the strict validation that option also turns on).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if drop_unencodable:
            data = {}
            for key in ds.keys():  # noqa: SIM118 - a pydicom Dataset iterates over elements
                with contextlib.suppress(ValueError):
                    data[f"{key:08X}"] = ds[key].to_json_dict(None, 1024)
        else:
            data = ds.to_json_dict()
        file_meta = getattr(ds, "file_meta", None)
        meta = file_meta.to_json_dict() if file_meta is not None else {}
    return data, meta


def dicomkit_json(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """dicomkit's JSON of the data set and of its file meta (empty when it has none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dicomkit.read(path)
        meta = to_json_dict(ds.meta) if ds.meta is not None else {}
        return to_json_dict(ds), meta


# ----------------------------------------------------------------------------------------------
# comparing


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def values_equal(a: Any, b: Any) -> bool:
    """One JSON value: numbers with a tolerance (IS/DS are parsed from text), else exactly."""
    if _is_number(a) and _is_number(b):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):  # PN component groups
        return set(a) == set(b) and all(a[k] == b[k] for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is None and b is None


def attrs_equal(a: Attr, b: Attr) -> bool:
    """Two attribute objects (not descending into sequence items)."""
    if a is None or b is None:
        return a is b
    if set(a) != set(b) or a["vr"] != b["vr"]:
        return False
    if "InlineBinary" in a:
        if a["InlineBinary"] == b["InlineBinary"]:  # the usual case, without decoding megabytes
            return True
        return base64.b64decode(a["InlineBinary"]) == base64.b64decode(b["InlineBinary"])
    if "BulkDataURI" in a:
        return bool(a["BulkDataURI"] == b["BulkDataURI"])
    if "Value" in a:
        va, vb = a["Value"], b["Value"]
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb, strict=True))
    return True


def diff_json(dk: dict[str, Any], pd: dict[str, Any], prefix: str = "") -> list[Diff]:
    """Attribute-level differences, descending into the items of sequences present on both sides."""
    out: list[Diff] = []
    for key in sorted(set(dk) | set(pd)):
        a, b = dk.get(key), pd.get(key)
        path = prefix + key
        if (
            a is not None
            and b is not None
            and a.get("vr") == "SQ" == b.get("vr")
            and set(a) == set(b) == {"vr", "Value"}
            and len(a["Value"]) == len(b["Value"])
        ):
            for i, (x, y) in enumerate(zip(a["Value"], b["Value"], strict=True)):
                out += diff_json(x, y, f"{path}/{i}/")
        elif not attrs_equal(a, b):
            out.append((path, a, b))
    return out


# ----------------------------------------------------------------------------------------------
# the documented differences


@dataclass(frozen=True)
class Context:
    """What a difference may depend on: the file, its encoding and pydicom's reading of it."""

    file: str
    encoding: str
    big_endian: bool


@dataclass(frozen=True)
class Difference:
    """A documented way in which pydicom's JSON differs from dicomkit's (docs/conformance.md)."""

    name: str
    reason: str
    matches: Callable[[Context, str, Attr, Attr], bool]


def _tag_of(path: str) -> Tag:
    return Tag(int(path.rsplit("/", 1)[-1], 16))


def _group_length(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    return dk is None and pd is not None and _tag_of(path).element == 0 and pd["vr"] == "UL"


_WORD = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def swap_words(data: bytes, size: int) -> bytes:
    """``data`` with the byte order of each ``size``-byte word reversed (a trailing part is kept)."""
    whole = len(data) - len(data) % size
    words = array.array({2: "H", 4: "I", 8: "Q"}[size], data[:whole])
    assert words.itemsize == size
    words.byteswap()
    return words.tobytes() + data[whole:]


def _big_endian_binary(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if not ctx.big_endian or dk is None or pd is None or set(dk) != set(pd) or "InlineBinary" not in dk:
        return False
    size = _WORD.get(str(dk["vr"]))
    if size is None or dk["vr"] != pd["vr"]:
        return False
    ours = base64.b64decode(dk["InlineBinary"])
    theirs = base64.b64decode(pd["InlineBinary"])
    return ours != theirs and ours == swap_words(theirs, size)


def _empty_sequence(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    return dk == {"vr": "SQ"} and pd == {"vr": "SQ", "Value": []}


def _null_in_multi_value(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if dk is None or pd is None or set(dk) != set(pd) or "Value" not in dk:
        return False
    a, b = dk["Value"], pd["Value"]
    return (
        len(a) == len(b) > 1
        and any(x is None and y == "" for x, y in zip(a, b, strict=True))
        and all(values_equal(x, y) or (x is None and y == "") for x, y in zip(a, b, strict=True))
    )


def _text_padding(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if dk is None or pd is None or set(dk) != set(pd) or dk["vr"] != "CS" or "Value" not in dk:
        return False
    a, b = dk["Value"], pd["Value"]
    return a != b and len(a) == len(b) and all(x == y.strip(" ") for x, y in zip(a, b, strict=True))


def _private_sequence(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if dk is None or pd is None or dk["vr"] != "SQ" or pd["vr"] != "UN" or "InlineBinary" not in pd:
        return False
    raw = base64.b64decode(pd["InlineBinary"])
    return _tag_of(path).group & 1 == 1 and raw[:4] == b"\xfe\xff\x00\xe0" and bool(dk.get("Value"))


def _invalid_number_as_string(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if pd is not None or dk is None or dk["vr"] not in ("IS", "DS") or "Value" not in dk:
        return False
    return any(isinstance(v, str) for v in dk["Value"])


def _truncated_pixel_data(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    return pd is None and dk is not None and path == "7FE00010" and "InlineBinary" in dk


def _private_vr_from_dictionary(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    """Implicit VR: dicomkit has no private dictionary (UN), pydicom takes the VR from its own.
    The bytes dicomkit keeps, decoded with pydicom's VR, must give pydicom's attribute."""
    if dk is None or pd is None or dk["vr"] != "UN" or pd["vr"] in ("UN", "SQ"):
        return False
    tag = _tag_of(path)
    if not tag.is_private:
        return False
    raw = base64.b64decode(dk.get("InlineBinary", ""))
    vr = VR(str(pd["vr"]))
    value = decode_value(tag, vr, raw, little=True, charset=None, scalar=None, strict=False)
    return attrs_equal(to_json_dict(Dataset([DataElement(tag, vr, value)]))[f"{tag:08X}"], pd)


def _lut_descriptor_signedness(ctx: Context, path: str, dk: Attr, pd: Attr) -> bool:
    if dk is None or pd is None or dk["vr"] != "US" or pd["vr"] != "SS":
        return False
    return [v & 0xFFFF for v in pd["Value"]] == dk["Value"]


GROUP_LENGTH = Difference(
    "group-length",
    "pydicom includes Group Length (gggg,0000) attributes; PS3.18 F.2.2: they shall not be included",
    _group_length,
)
BIG_ENDIAN_BINARY = Difference(
    "big-endian-binary",
    "pydicom's InlineBinary of OW/OF/OL/OD/OV read from a big-endian data set is big endian; the JSON "
    "model has no transfer syntax (PS3.18 F.2.7, PS3.5 7.3): dicomkit (like DCMTK dcm2json) writes little endian",
    _big_endian_binary,
)
EMPTY_SEQUENCE = Difference(
    "empty-sequence",
    'pydicom writes "Value": [] for a sequence with no items; PS3.18 F.2.5: an empty attribute has no Value',
    _empty_sequence,
)
NULL_IN_MULTI_VALUE = Difference(
    "null-in-multi-value",
    'pydicom writes "" for an empty value of a multi-valued string attribute; PS3.18 F.2.5: null',
    _null_in_multi_value,
)
TEXT_PADDING = Difference(
    "cs-padding",
    "pydicom keeps a space inside a multi-valued CS value; PS3.5 Table 6.2-1: leading and trailing "
    "spaces of CS are not significant, and PS3.18 F.2.3 applies the VR definitions",
    _text_padding,
)
PRIVATE_SEQUENCE = Difference(
    "private-sequence",
    "implicit VR: a private element whose value is a sequence of items (PS3.5 7.5) is read by dicomkit "
    "as SQ, by pydicom as UN bytes; the standard does not decide (PS3.5 6.2.2), not a pydicom error",
    _private_sequence,
)
INVALID_NUMBER_AS_STRING = Difference(
    "invalid-is-as-string",
    "pydicom's to_json_dict raises on an IS value that is not an integer; PS3.18 Table F.2.3-1 (note) "
    "allows a JSON String for IS/DS: dicomkit writes the text (those attributes are left out of pydicom's JSON)",
    _invalid_number_as_string,
)
TRUNCATED_PIXEL_DATA = Difference(
    "truncated-pixel-data",
    "pydicom reads no element at all from a file whose encapsulated pixel data is cut short; dicomkit "
    "keeps the complete elements (PS3.5 7.1) and the fragment bytes present",
    _truncated_pixel_data,
)
PRIVATE_VR_FROM_DICTIONARY = Difference(
    "private-vr-from-dictionary",
    "dicomkit limitation: no private data dictionary, so an implicit-VR private element is UN "
    "(PS3.5 6.2.2); pydicom takes its VR from its private dictionary. Same bytes.",
    _private_vr_from_dictionary,
)
LUT_DESCRIPTOR_SIGNEDNESS = Difference(
    "lut-descriptor-signedness",
    "dicomkit limitation: in implicit VR the reader always takes LUT Descriptor as US; pydicom "
    "follows Pixel Representation, as the original explicit-VR file does (SS). Same bytes.",
    _lut_descriptor_signedness,
)

#: Differences that hold for every file (checked for their exact shape, not required to occur).
RULES: tuple[Difference, ...] = (GROUP_LENGTH, BIG_ENDIAN_BINARY)


@dataclass(frozen=True)
class Known:
    file: str
    path: str
    difference: Difference
    encodings: frozenset[str] = ALL_ENCODINGS


def _known(
    difference: Difference, entries: Iterable[tuple[str, str]], encodings: Iterable[str] = ALL_ENCODINGS
) -> list[Known]:
    return [Known(file, path, difference, frozenset(encodings)) for file, path in entries]


KNOWN_DIFFERENCES: tuple[Known, ...] = (
    *_known(
        EMPTY_SEQUENCE,
        [
            ("pydicom/dicomdirtests/DICOMDIR-empty.dcm", "00041220"),
            ("pydicom/reportsi.dcm", "00081111"),
            ("pydicom/reportsi.dcm", "0040A372"),
            ("pydicom/reportsi_with_empty_number_tags.dcm", "00081111"),
            ("pydicom/reportsi_with_empty_number_tags.dcm", "0040A372"),
            ("pydicom/test-SR.dcm", "00081111"),
            ("pydicom/test-SR.dcm", "0040A073/1/0040A088"),
            ("pydicom/test-SR.dcm", "0040A372"),
            ("pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm", "00400275"),
            ("pydicom-data/eCT_Supplemental.dcm", "00400555"),
        ],
    ),
    *_known(
        NULL_IN_MULTI_VALUE,
        [
            ("pydicom/examples_overlay.dcm", "00080008"),
            ("pydicom/examples_ybr_color.dcm", "00185010"),
            ("pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm", "00185010"),
            ("pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm", "00080008"),
            ("pydicom-data/color3d_jpeg_baseline.dcm", "00185010"),
        ],
    ),
    *_known(
        TEXT_PADDING,
        [
            ("pydicom/693_J2KI.dcm", "00080008"),
            ("pydicom/SC_rgb_gdcm_KY.dcm", "00080008"),
            ("pydicom/SC_rgb_jpeg_lossy_gdcm.dcm", "00080008"),
            ("pydicom-data/693_UNCI.dcm", "00080008"),
            ("pydicom-data/SC_rgb_gdcm2k_uncompressed.dcm", "00080008"),
        ],
    ),
    *_known(INVALID_NUMBER_AS_STRING, [("pydicom/badVR.dcm", "00280008")]),
    # priv_SQ.dcm is implicit VR; DCMTK writes the element as UN in the explicit syntaxes
    *_known(PRIVATE_SEQUENCE, [("pydicom/priv_SQ.dcm", "3F031001")], {AS_IS, "+ti"}),
    # these two are explicit VR as shipped (UN on both sides); only the implicit transcoding differs
    *_known(
        PRIVATE_SEQUENCE,
        [("pydicom/nested_priv_SQ.dcm", "00010001"), ("pydicom/meta_missing_tsyntax.dcm", "00010001")],
        {"+ti"},
    ),
    *_known(
        TRUNCATED_PIXEL_DATA,
        [("pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm", "7FE00010")],
        {AS_IS},
    ),
    *_known(LUT_DESCRIPTOR_SIGNEDNESS, [("pydicom-data/mlut_18.dcm", "00283000/0/00283002")], {"+ti"}),
)

#: pydicom's to_json_dict raises for these files (those attributes are left out of pydicom's JSON).
PYDICOM_JSON_RAISES = frozenset({"pydicom/badVR.dcm"})
#: pydicom silently returns an empty data set for these; compared with its stop_before_pixels read.
PYDICOM_READS_NOTHING = frozenset({"pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm"})


#: Files dicomkit refuses (InvalidDicomError) where pydicom, with force=True, reads only nonsense:
#: file -> the tags of pydicom's (bogus) data set.
DICOMKIT_REFUSES = {
    # "Same as CT_small.dcm with no File Meta Information" (pydicom's README), but with one stray byte
    # before the data set: pydicom reads a single bogus element (0820,0500) UN of 38863 bytes
    "pydicom/no_meta.dcm": ["08200500"],
}


def unexplained(ctx: Context, diffs: list[Diff], rules: Iterable[Difference] = RULES) -> list[str]:
    """The differences no rule or table entry explains, and the table entries that did not occur."""
    rules = tuple(rules)
    expected = {k.path: k for k in KNOWN_DIFFERENCES if k.file == ctx.file and ctx.encoding in k.encodings}
    problems = []
    for path, dk, pd in diffs:
        known = expected.pop(path, None)
        if known is not None and known.difference.matches(ctx, path, dk, pd):
            continue
        if any(rule.matches(ctx, path, dk, pd) for rule in rules):
            continue
        what = f" (expected {known.difference.name})" if known else ""
        problems.append(f"{path}{what}:\n    dicomkit {_short(dk)}\n    pydicom  {_short(pd)}")
    problems += [
        f"{k.path}: documented {k.difference.name} did not occur (stale entry?)" for k in expected.values()
    ]
    return problems


def _short(attr: Attr) -> str:
    text = repr(attr)
    return text if len(text) < 240 else text[:237] + "..."


@dataclass(frozen=True)
class PydicomJson:
    data: dict[str, Any]
    meta: dict[str, Any]
    big_endian: bool


def pydicom_side(source: SourceFile, path: Path) -> PydicomJson:
    """pydicom's JSON of ``path`` (``source`` says which documented reading problems apply)."""
    pds = read_pydicom(path)
    if source.id in PYDICOM_READS_NOTHING:
        assert len(pds) == 0, "pydicom now reads this file: remove it from PYDICOM_READS_NOTHING"
        pds = read_pydicom(path, stop_before_pixels=True)
    if source.id in PYDICOM_JSON_RAISES:
        with pytest.raises(ValueError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pds.to_json_dict()
        data, meta = pydicom_json(pds, drop_unencodable=True)
    else:
        data, meta = pydicom_json(pds)
    return PydicomJson(data, meta, big_endian=not pds.original_encoding[1])


def compare_with_pydicom(
    source: SourceFile,
    path: Path,
    encoding: str,
    rules: Iterable[Difference] = RULES,
    theirs: PydicomJson | None = None,
) -> list[str]:
    """Read ``path`` with both libraries; return the problems (empty when all is explained)."""
    if source.id in DICOMKIT_REFUSES:
        with pytest.raises(dicomkit.InvalidDicomError):
            dicomkit_json(path)
        assert sorted(pydicom_json(read_pydicom(path))[0]) == DICOMKIT_REFUSES[source.id], (
            "pydicom reads it now"
        )
        return []
    if theirs is None:
        theirs = pydicom_side(source, path)
    dk_data, dk_meta = dicomkit_json(path)
    ctx = Context(source.id, encoding, big_endian=theirs.big_endian)
    diffs = diff_json(dk_data, theirs.data) + diff_json(dk_meta, theirs.meta, "meta/")
    return unexplained(ctx, diffs, rules)


# ----------------------------------------------------------------------------------------------
# the tests


def test_parametrized_files_are_the_fixture_files(pydicom_test_files: list[Path]) -> None:
    assert [s.path for s in SOURCE_FILES] == pydicom_test_files
    assert len(SOURCE_FILES) >= 200  # 235 with pydicom 3.0.2 and pydicom-data 1.0.0


def test_every_documented_difference_names_a_file() -> None:
    ids = {s.id for s in SOURCE_FILES}
    assert {k.file for k in KNOWN_DIFFERENCES} <= ids
    assert ids >= PYDICOM_JSON_RAISES | PYDICOM_READS_NOTHING | set(DICOMKIT_REFUSES)


@pytest.mark.parametrize("source", SOURCE_FILES, ids=str)
def test_json_equals_pydicom(source: SourceFile) -> None:
    problems = compare_with_pydicom(source, source.path, AS_IS)
    assert not problems, f"{source}: {len(problems)} unexplained difference(s)\n" + "\n".join(problems)
