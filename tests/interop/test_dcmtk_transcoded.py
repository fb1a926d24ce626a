"""DICOM JSON of files transcoded by DCMTK: dicomkit against pydicom (and DCMTK's dcm2json).

Every natively encoded file of the pydicom and pydicom-data test data (the files of
``test_pydicom_diff``) is transcoded by DCMTK ``dcmconv`` into ``tmp_path`` three times: Implicit VR
Little Endian (``+ti``), Explicit VR Big Endian (``+tb``) and Deflated Explicit VR Little Endian
(``+td``). dicomkit's JSON of each result must equal pydicom's JSON of the same file, with the
differences documented in ``test_pydicom_diff`` (same rules and table, entries scoped by encoding)
plus one more rule for implicit VR, ``PRIVATE_VR_FROM_DICTIONARY`` (dicomkit has no private
dictionary; the bytes are checked to decode to pydicom's value). Where pydicom cannot read a
transcoded file, the top-level element values are compared with DCMTK ``dcm2json`` instead.

The subset: every natively encoded file up to 1.5 MiB that dcmconv reads, 166 of the 175 (498 cases:
the 3 damaged files dcmconv refuses are tested separately, see below). Only six plain
uncompressed images of 2-7 MB (MR2, RG1, RG3 ``_UNCI``/``_UNCR``) are left out: they add megabytes of
pixel data to transcode and base64-encode and no new structure, and they are compared as shipped in
``test_pydicom_diff``. The whole module takes about 22 s of CPU, 15-35 s on two cores with ``-n 2``.
Keeping the rare files matters: the big-endian and deflated transcodings of priv_SQ.dcm found a reader
bug (a first group 3F03 taken for byte-swapped). Files with an encapsulated transfer syntax (dcmconv
cannot re-encode them without codecs) are not parametrized (counted in
``test_every_natively_encoded_file_is_transcoded``); the three damaged files dcmconv refuses have their
own test (dicomkit must report the same damage); the module is skipped, with the reason, only when
DCMTK's ``dcmconv`` is not installed.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dicomkit.uid import transfer_syntax

from .test_pydicom_diff import (
    PRIVATE_VR_FROM_DICTIONARY,
    RULES,
    SOURCE_FILES,
    PydicomJson,
    SourceFile,
    compare_with_pydicom,
    dicomkit_json,
    pydicom_side,
    values_equal,
)

pydicom = pytest.importorskip("pydicom")

pytestmark = pytest.mark.skipif(
    shutil.which("dcmconv") is None, reason="DCMTK dcmconv is not installed (apt-get install dcmtk)"
)

ENCODINGS = {
    "+ti": "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "+tb": "1.2.840.10008.1.2.2",  # Explicit VR Big Endian
    "+td": "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
}

#: Larger files are left out to bound the runtime: the six over this size are plain uncompressed
#: images (MR2, RG1, RG3 _UNCI/_UNCR, 2-7 MB each) that add megabytes of pixel data and no new structure.
MAX_SIZE = 3 << 19  # 1.5 MiB

#: Files dcmconv refuses to read (checked at run time: a file it accepts again fails the test).
DCMCONV_REFUSES = {
    "pydicom/MR_truncated.dcm": "dcmconv refuses: pixel data cut short",
    "pydicom/no_meta.dcm": "dcmconv refuses: a stray byte before the data set",
    "pydicom/rtplan_truncated.dcm": "dcmconv refuses: data set cut short",
}


@dataclass(frozen=True)
class Case:
    source: SourceFile
    option: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.source.id}:{self.option}" + (
            f":skip-{self.skip.split(':')[0].replace(' ', '-')}" if self.skip else ""
        )


def _transfer_syntax_uid(path: Path) -> str | None:
    from pydicom.filereader import read_file_meta_info

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(read_file_meta_info(path).get("TransferSyntaxUID", "")) or None
        except Exception:
            return None


def _cases() -> list[Case]:
    cases = []
    for source in SOURCE_FILES:
        uid = _transfer_syntax_uid(source.path)
        ts = transfer_syntax(uid) if uid else None
        skip = None
        if ts is not None and ts.encapsulated:
            skip = f"encapsulated: {ts.name}"
        elif source.id in DCMCONV_REFUSES:
            skip = DCMCONV_REFUSES[source.id]
        elif source.path.stat().st_size > MAX_SIZE:
            skip = "size over 1.5 MiB: bounds the runtime (compared as shipped in test_pydicom_diff)"
        cases += [Case(source, option, skip) for option in ENCODINGS]
    return cases


CASES = _cases()


def transcode(source: Path, option: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dcmconv", option, str(source), str(dest)], capture_output=True, text=True, timeout=120, check=False
    )


# ----------------------------------------------------------------------------------------------
# the fallback oracle: DCMTK dcm2json, top-level element values only


def _dcm2json(path: Path) -> dict[str, Any]:
    run = subprocess.run(
        ["dcm2json", "-fc", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, f"dcm2json failed: {run.stderr[:500]}"
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _pn_key(value: Any) -> Any:
    """DCMTK drops empty trailing components and groups of a person name: compare without them."""
    if not isinstance(value, dict):
        return value
    out = {k: "^".join(v.split("^")).rstrip("^") for k, v in value.items()}
    return {k: v for k, v in out.items() if v}


def compare_with_dcm2json(path: Path) -> list[str]:
    """Top-level, non-private element values of dicomkit's JSON against dcm2json's.

    dcm2json converts text to UTF-8 (so (0008,0005) differs), prints FL/FD with about 9 significant
    digits and takes private VRs from DCMTK's private dictionary: those are not compared."""
    ours, _ = dicomkit_json(path)
    theirs = _dcm2json(path)
    problems = []
    for key, attr in ours.items():
        tag = int(key, 16)
        if tag == 0x00080005 or (tag >> 16) & 1 or attr["vr"] in ("SQ", "UN"):
            continue
        other = theirs.get(key)
        if other is None:
            problems.append(f"{key}: missing from dcm2json output")
            continue
        a, b = attr.get("Value", []), other.get("Value", [])
        if attr["vr"] == "PN":
            a, b = [_pn_key(v) for v in a], [_pn_key(v) for v in b]
            a, b = [v for v in a if v], [v for v in b if v]
        if attr["vr"] in ("FL", "FD", "DS"):
            same = len(a) == len(b) and all(
                (x is None and y is None)
                or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-6))
                for x, y in zip(a, b, strict=True)
            )
        else:
            same = len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
        if "InlineBinary" in attr:
            same = attr.get("InlineBinary") == other.get("InlineBinary")
        if not same:
            problems.append(f"{key}: dicomkit {attr!r:.200} dcm2json {other!r:.200}")
    return problems


def _pydicom_side(source: SourceFile, path: Path) -> PydicomJson | None:
    """pydicom's JSON of the transcoded file, or None when pydicom cannot read it."""
    try:
        return pydicom_side(source, path)
    except Exception:
        return None


# ----------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("source_id", sorted(DCMCONV_REFUSES))
def test_files_dcmconv_refuses_are_damaged_for_dicomkit_too(source_id: str, tmp_path: Path) -> None:
    """dcmconv refuses these (damaged) files; dicomkit reports the same damage: an error, or a
    tolerant read whose warnings say bytes are missing."""
    import dicomkit
    from dicomkit.errors import DicomWarning, InvalidDicomError

    source = next(s for s in SOURCE_FILES if s.id == source_id)
    run = transcode(source.path, "+te", tmp_path / "out.dcm")
    assert run.returncode != 0, "dcmconv now accepts this file: remove it from DCMCONV_REFUSES"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = dicomkit.read(source.path)
            len(ds)
        except InvalidDicomError:
            return
    assert any(isinstance(w.message, DicomWarning) and w.message.data_loss for w in caught)


def test_every_natively_encoded_file_is_transcoded() -> None:
    # 166 of the 175 natively encoded files with pydicom 3.0.2 and pydicom-data 1.0.0: 6 are over
    # MAX_SIZE and dcmconv refuses 3
    assert len([c for c in CASES if c.skip is None]) >= 3 * 160
    refused = {c.source.id for c in CASES if c.skip and not c.skip.startswith(("encapsulated", "size"))}
    assert refused == set(DCMCONV_REFUSES)


@pytest.mark.parametrize("case", [c for c in CASES if c.skip is None], ids=str)
def test_transcoded_json_equals_pydicom(case: Case, tmp_path: Path) -> None:
    dest = tmp_path / f"transcoded{case.option}.dcm"
    run = transcode(case.source.path, case.option, dest)
    assert run.returncode == 0, f"dcmconv {case.option} failed: {run.stderr[:500]}"
    rules = (*RULES, PRIVATE_VR_FROM_DICTIONARY) if case.option == "+ti" else RULES
    theirs = _pydicom_side(case.source, dest)
    if theirs is not None:
        problems = compare_with_pydicom(case.source, dest, case.option, rules, theirs)
    else:
        problems = compare_with_dcm2json(dest)
    assert not problems, f"{case}: {len(problems)} unexplained difference(s)\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "name", ["pydicom/CT_small.dcm", "pydicom/rtplan.dcm", "pydicom-data/SC_rgb_gdcm2k_uncompressed.dcm"]
)
@pytest.mark.parametrize("option", sorted(ENCODINGS))
def test_dcm2json_fallback_agrees(name: str, option: str, tmp_path: Path) -> None:
    """The fallback oracle is exercised on its own, so it is known to work when it is needed."""
    if shutil.which("dcm2json") is None:
        pytest.skip("DCMTK dcm2json is not installed")
    source = next(s for s in SOURCE_FILES if s.id == name)
    dest = tmp_path / "t.dcm"
    assert transcode(source.path, option, dest).returncode == 0
    assert compare_with_dcm2json(dest) == []
