"""Data element tags (PS3.5 section 7.1): a ``Tag`` is an ``int`` ``0xggggeeee``.

``Tag`` prints as ``(gggg,eeee)``, sorts like the integer and hashes like it, so
``ds[0x00100010]`` and ``ds[Tag(0x0010, 0x0010)]`` find the same element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dicomkit.errors import KeywordError

__all__ = ["ITEM", "ITEM_DELIMITER", "SEQUENCE_DELIMITER", "Tag"]


class Tag(int):
    """A DICOM tag. ``Tag(0x00100010)``, ``Tag(0x0010, 0x0010)``, ``Tag("PatientName")``,
    ``Tag("(0010,0010)")`` and ``Tag("00100010")`` are all the same tag."""

    __slots__ = ()

    def __new__(cls, value: object, element: int | None = None) -> Tag:
        if element is not None:
            if not (isinstance(value, int) and 0 <= value <= 0xFFFF and 0 <= element <= 0xFFFF):
                raise KeywordError(f"group and element must be 0..0xFFFF, got {value!r}, {element!r}")
            return int.__new__(cls, value << 16 | element)
        if isinstance(value, Tag):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= 0xFFFFFFFF:
                raise KeywordError(f"tag {value:#x} is out of range 0..0xFFFFFFFF")
            return int.__new__(cls, value)
        if isinstance(value, tuple) and len(value) == 2:
            return cls(value[0], value[1])
        if isinstance(value, str):
            return cls(_parse_str(value))
        raise KeywordError(f"cannot make a tag from {value!r}")

    @property
    def group(self) -> int:
        return self >> 16

    @property
    def element(self) -> int:
        return self & 0xFFFF

    @property
    def is_private(self) -> bool:
        """Odd group, excluding the illegal groups 0001, 0003, 0005, 0007 and FFFF."""
        g = self >> 16
        return bool(g & 1) and g > 0x0007 and g != 0xFFFF

    @property
    def is_private_creator(self) -> bool:
        return self.is_private and 0x0010 <= (self & 0xFFFF) <= 0x00FF

    @property
    def private_block(self) -> int:
        """For a private data element (gggg,xxyy) the block number xx, else -1."""
        if not self.is_private or (self & 0xFFFF) < 0x1000:
            return -1
        return (self & 0xFF00) >> 8

    def __repr__(self) -> str:
        return f"({self >> 16:04X},{self & 0xFFFF:04X})"

    __str__ = __repr__

    def json_key(self) -> str:
        """The DICOM JSON model key (PS3.18 F.2.1): eight uppercase hex digits."""
        return f"{self:08X}"


if TYPE_CHECKING:
    TagLike = Tag | int | str | tuple[int, int]


def _parse_str(text: str) -> int:
    s = text.strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    s = s.replace(",", "").replace(" ", "")
    if len(s) == 8 and all(c in "0123456789abcdefABCDEF" for c in s):
        try:
            return int(s, 16)
        except ValueError:
            pass
    from dicomkit.dictionary import tag_for_keyword  # same layer; deferred to avoid a cycle

    return tag_for_keyword(text)


ITEM = Tag(0xFFFEE000)
ITEM_DELIMITER = Tag(0xFFFEE00D)
SEQUENCE_DELIMITER = Tag(0xFFFEE0DD)
