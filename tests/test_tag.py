"""Tests of dicomkit.tag: parsing, printing and properties of ``Tag`` (PS3.5 7.1, 7.8)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from dicomkit.errors import KeywordError
from dicomkit.tag import ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER, Tag


@pytest.mark.parametrize(
    "value",
    [
        0x00100010,
        (0x0010, 0x0010),
        "PatientName",
        "(0010,0010)",
        "00100010",
        "0010,0010",
        "(0010, 0010)",
        " (0010,0010) ",
        Tag(0x00100010),
    ],
)
def test_parse_forms_are_the_same_tag(value: Any) -> None:
    t = Tag(value)
    assert t == 0x00100010
    assert type(t) is Tag


def test_group_element_constructor() -> None:
    assert Tag(0x0010, 0x0010) == 0x00100010
    assert Tag(0xFFFE, 0xE000) == 0xFFFEE000
    assert Tag(0, 0) == 0
    assert Tag(0xFFFF, 0xFFFF) == 0xFFFFFFFF


def test_hex_strings_are_case_insensitive() -> None:
    assert Tag("(7fe0,0010)") == Tag("(7FE0,0010)") == 0x7FE00010
    assert Tag("7fe00010") == 0x7FE00010


def test_tag_passthrough_is_identity() -> None:
    t = Tag(0x00100010)
    assert Tag(t) is t


def test_keywords_including_repeaters() -> None:
    assert Tag("PixelData") == 0x7FE00010
    assert Tag("OverlayData") == 0x60003000
    assert Tag("CommandGroupLength") == 0x00000000


@pytest.mark.parametrize(
    "value",
    [
        -1,
        1 << 32,
        True,
        False,
        1.5,
        None,
        b"00100010",
        (1, 2, 3),
        (0x10,),
        [0x10, 0x10],
        "0x00100010",
        "(0010,001G)",
    ],
)
def test_bad_values_raise_keyword_error(value: Any) -> None:
    with pytest.raises(KeywordError):
        Tag(value)


@pytest.mark.parametrize(("group", "element"), [(0x10000, 0), (0, 0x10000), (-1, 0), (0, -1), ("10", 0x10)])
def test_bad_group_element_raise(group: Any, element: Any) -> None:
    with pytest.raises(KeywordError, match=r"0\.\.0xFFFF"):
        Tag(group, element)


def test_errors_are_key_errors() -> None:
    with pytest.raises(KeyError):
        Tag("NoSuchKeyword")


def test_unknown_keyword_suggests() -> None:
    with pytest.raises(KeywordError, match=r"did you mean 'PatientName'\?"):
        Tag("PatientNme")


def test_signed_hex_string_is_rejected() -> None:
    with pytest.raises(KeywordError):
        Tag("+0010010")


def test_repr_and_str() -> None:
    t = Tag(0x7FE00010)
    assert repr(t) == "(7FE0,0010)"
    assert str(t) == "(7FE0,0010)"
    assert f"{t}" == "(7FE0,0010)"
    assert f"{t:08X}" == "7FE00010"
    assert repr(Tag(0)) == "(0000,0000)"
    assert repr(Tag(0xFFFFFFFF)) == "(FFFF,FFFF)"


def test_str_round_trips() -> None:
    for value in (0, 0x00100010, 0x0009ABCD, 0xFFFEE0DD, 0x7FE00010):
        assert Tag(str(Tag(value))) == value


def test_json_key() -> None:
    assert Tag(0x00100010).json_key() == "00100010"
    assert Tag(0x7FE00010).json_key() == "7FE00010"
    assert Tag(0x0009ABCD).json_key() == "0009ABCD"


def test_group_and_element() -> None:
    t = Tag(0x7FE00010)
    assert (t.group, t.element) == (0x7FE0, 0x0010)
    assert Tag(0xFFFEE000).group == 0xFFFE
    assert Tag(0xFFFEE000).element == 0xE000


def test_is_an_int() -> None:
    t = Tag(0x00100010)
    assert isinstance(t, int)
    assert hash(t) == hash(0x00100010)
    assert {0x00100010: "x"}[t] == "x"
    assert {t: "x"}[Tag(0x00100010)] == "x"
    assert 0x00100010 in {t}
    assert sorted([Tag(0x00200010), Tag(0x00100020), Tag(0x00100010)]) == [0x00100010, 0x00100020, 0x00200010]
    assert Tag(0x00100010) < 0x00100020
    assert t + 1 == 0x00100011


def test_pickle_and_copy() -> None:
    t = Tag(0x00100010)
    for other in (pickle.loads(pickle.dumps(t)), copy.copy(t), copy.deepcopy(t)):
        assert other == t and type(other) is Tag


@pytest.mark.parametrize(
    ("tag", "private"),
    [
        (0x00090010, True),
        (0x00091000, True),
        (0x7FE10010, True),
        (0xFFFD0010, True),
        (0x00100010, False),
        (0x00010010, False),  # odd groups 0001-0007 are illegal, not private
        (0x00030010, False),
        (0x00050010, False),
        (0x00070010, False),
        (0xFFFF0010, False),
        (0x60013000, True),
        (0x60003000, False),
    ],
)
def test_is_private(tag: int, private: bool) -> None:
    assert Tag(tag).is_private is private


@pytest.mark.parametrize(
    ("tag", "creator"),
    [
        (0x00090010, True),
        (0x000900FF, True),
        (0x00090000, False),  # group length
        (0x0009000F, False),
        (0x00090100, False),
        (0x00091010, False),
        (0x00100010, False),  # standard group
        (0x00070010, False),
    ],
)
def test_is_private_creator(tag: int, creator: bool) -> None:
    assert Tag(tag).is_private_creator is creator


@pytest.mark.parametrize(
    ("tag", "block"),
    [
        (0x00091000, 0x10),
        (0x000910FF, 0x10),
        (0x0009FF00, 0xFF),
        (0x7FE1AB12, 0xAB),
        (0x00090010, -1),  # a creator, not a data element
        (0x00090FFF, -1),
        (0x00101010, -1),  # standard group
    ],
)
def test_private_block(tag: int, block: int) -> None:
    assert Tag(tag).private_block == block


def test_item_and_delimiter_constants() -> None:
    assert (ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER) == (0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD)
    assert all(type(t) is Tag for t in (ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER))
    assert Tag("Item") == ITEM
    assert Tag("SequenceDelimitationItem") == SEQUENCE_DELIMITER
