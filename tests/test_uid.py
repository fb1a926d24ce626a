"""Tests of dicomkit.uid: UID validity (PS3.5 9.1), generation (PS3.5 B.2) and transfer syntaxes."""

from __future__ import annotations

import re

import pytest

from dicomkit._dictdata import UIDS
from dicomkit.uid import (
    _TRANSFER_SYNTAXES,
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    DICOMKIT_ROOT,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
    UID,
    TransferSyntax,
    generate_uid,
    is_valid_uid,
    transfer_syntax,
)

# ----------------------------------------------------------------------------- PS3.5 9.1 validity


@pytest.mark.parametrize(
    "value",
    [
        "1.2.840.10008.1.2",
        "1.2.840.10008.5.1.4.1.1.2",
        "0",
        "0.0",
        "1.0.2",
        "2.25.329800735698586629295641978511506172918",
        "1." + "2" * 62,  # exactly 64 characters
        "9" * 64,
    ],
)
def test_valid_uids(value: str) -> None:
    assert is_valid_uid(value)
    assert UID(value).is_valid


@pytest.mark.parametrize(
    "value",
    [
        "",  # empty
        "1." + "2" * 63,  # 65 characters
        "1.02",  # leading zero in a multi-digit component
        "01.2",
        "1.2.00",
        "1..2",  # empty component
        ".1.2",
        "1.2.",
        "1.2a",  # not a digit
        "1.2 ",  # padding is not part of the UID
        "1.2\x00",
        " 1.2",
        "1,2",
        "-1.2",
        "+1.2",
        "1.2.\n",
        "١.٢",  # non-ASCII digits
    ],
)
def test_invalid_uids(value: str) -> None:
    assert not is_valid_uid(value)
    assert not UID(value).is_valid


# ----------------------------------------------------------------------------- UID class


def test_uid_is_a_str() -> None:
    u = UID("1.2.840.10008.1.2")
    assert isinstance(u, str)
    assert u == "1.2.840.10008.1.2"
    assert hash(u) == hash("1.2.840.10008.1.2")
    assert repr(u) == "UID('1.2.840.10008.1.2')"


def test_uid_name_and_keyword_from_registry() -> None:
    u = UID("1.2.840.10008.5.1.4.1.1.2")
    assert u.name == "CT Image Storage"
    assert u.keyword == "CTImageStorage"
    assert UID("1.2.840.10008.1.2.1").name == "Explicit VR Little Endian"


def test_unregistered_uid_name_is_itself() -> None:
    u = UID("1.2.3.4.5")
    assert u.name == "1.2.3.4.5"
    assert u.keyword == ""


def test_is_transfer_syntax() -> None:
    assert UID("1.2.840.10008.1.2").is_transfer_syntax
    assert UID("1.2.840.10008.1.2.4.50").is_transfer_syntax
    assert not UID("1.2.840.10008.5.1.4.1.1.2").is_transfer_syntax
    assert not UID("1.2.3").is_transfer_syntax


# ----------------------------------------------------------------------------- generation


def test_root_and_implementation_uids() -> None:
    assert DICOMKIT_ROOT.endswith(".")
    assert is_valid_uid(DICOMKIT_ROOT[:-1])
    assert DICOMKIT_ROOT.startswith("2.25.")
    assert int(DICOMKIT_ROOT.split(".")[2]) < 2**128  # a UUID as an integer (PS3.5 B.2)
    assert is_valid_uid(IMPLEMENTATION_CLASS_UID)
    assert IMPLEMENTATION_CLASS_UID.startswith(DICOMKIT_ROOT)
    assert 0 < len(IMPLEMENTATION_VERSION_NAME) <= 16  # SH


def test_generate_uid_default_prefix() -> None:
    seen = set()
    for _ in range(2000):
        u = generate_uid()
        assert isinstance(u, UID)
        assert u.startswith(DICOMKIT_ROOT)
        assert is_valid_uid(u), u
        assert len(u) <= 64
        seen.add(u)
    assert len(seen) == 2000


def test_generate_uid_uuid_form() -> None:
    for _ in range(500):
        u = generate_uid(None)
        assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", u), u
        assert is_valid_uid(u)
        assert int(u[5:]) < 2**128


def test_generate_uid_custom_prefix() -> None:
    u = generate_uid("1.2.3.")
    assert u.startswith("1.2.3.") and is_valid_uid(u) and len(u) <= 64
    long_prefix = "1." + "2" * 60 + "."  # 63 characters: room for one digit
    u = generate_uid(long_prefix)
    assert len(u) == 64 and is_valid_uid(u)


@pytest.mark.parametrize("prefix", ["1.2.3", "1.02.", "", ".", "1..2.", "a.b.", "1." + "2" * 61 + "."])
def test_generate_uid_bad_prefix(prefix: str) -> None:
    with pytest.raises(ValueError):
        generate_uid(prefix)


# ----------------------------------------------------------------------------- transfer syntaxes


def test_transfer_syntax_lookup() -> None:
    ts = transfer_syntax("1.2.840.10008.1.2")
    assert ts is IMPLICIT_VR_LITTLE_ENDIAN
    assert ts.implicit_vr and ts.little_endian and not ts.encapsulated and ts.is_native
    assert transfer_syntax("1.2.840.10008.1.2.1") is EXPLICIT_VR_LITTLE_ENDIAN
    assert transfer_syntax("1.2.3") is None
    assert transfer_syntax("") is None


def test_transfer_syntax_ignores_padding() -> None:
    assert transfer_syntax("1.2.840.10008.1.2.1\x00") is EXPLICIT_VR_LITTLE_ENDIAN
    assert transfer_syntax("1.2.840.10008.1.2.1 ") is EXPLICIT_VR_LITTLE_ENDIAN
    assert transfer_syntax(UID("1.2.840.10008.1.2")) is IMPLICIT_VR_LITTLE_ENDIAN


def test_transfer_syntax_flags() -> None:
    big = EXPLICIT_VR_BIG_ENDIAN
    assert not big.little_endian and not big.implicit_vr and big.retired
    deflated = DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
    assert deflated.deflated and not deflated.encapsulated and deflated.is_native
    jpeg = transfer_syntax("1.2.840.10008.1.2.4.50")
    assert jpeg is not None and jpeg.encapsulated and not jpeg.is_native and not jpeg.implicit_vr
    rle = transfer_syntax("1.2.840.10008.1.2.5")
    assert rle is not None and rle.encapsulated and rle.little_endian
    j2k = transfer_syntax("1.2.840.10008.1.2.4.90")
    assert j2k is not None and j2k.encapsulated
    jpip = transfer_syntax("1.2.840.10008.1.2.4.95")
    assert jpip is not None and jpip.deflated


def test_transfer_syntax_is_frozen() -> None:
    with pytest.raises(AttributeError):
        IMPLICIT_VR_LITTLE_ENDIAN.implicit_vr = False  # type: ignore[misc]
    assert isinstance(IMPLICIT_VR_LITTLE_ENDIAN, TransferSyntax)


def test_only_implicit_and_big_endian_syntaxes_are_special() -> None:
    implicit = {ts.uid for ts in _TRANSFER_SYNTAXES.values() if ts.implicit_vr}
    assert implicit == {"1.2.840.10008.1.2", "1.2.840.10008.1.20"}
    big = {ts.uid for ts in _TRANSFER_SYNTAXES.values() if not ts.little_endian}
    assert big == {"1.2.840.10008.1.2.2"}


def test_transfer_syntaxes_are_valid_uids() -> None:
    for uid, ts in _TRANSFER_SYNTAXES.items():
        assert uid == ts.uid and is_valid_uid(uid)


def test_registered_transfer_syntaxes_have_registry_type() -> None:
    for uid in _TRANSFER_SYNTAXES:
        entry = UIDS.get(uid)
        if entry is not None:
            assert entry[2] == "Transfer Syntax", uid


def test_every_active_registered_transfer_syntax_is_described() -> None:
    active = {uid for uid, e in UIDS.items() if e[2] == "Transfer Syntax" and not e[3]}
    assert active - set(_TRANSFER_SYNTAXES) == set()


def test_transfer_syntax_names_and_retirement_match_registry() -> None:
    for uid, ts in _TRANSFER_SYNTAXES.items():
        entry = UIDS.get(uid)
        if entry is not None:
            assert (ts.name, ts.retired) == (entry[0], entry[3]), uid
