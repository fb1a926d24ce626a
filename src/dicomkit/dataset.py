"""Data sets, data elements and sequences: the in-memory form of PS3.5 chapter 7.

This module holds data only. ``Dataset`` maps tags to ``DataElement``s, gives keyword
access (``ds.PatientName``) and iterates in tag order. Reading, writing, JSON, pixels and
networking are functions in their own layers.

Elements read from a file stay as raw bytes until first used: the reader stores a compact
entry per element and hands the data set an :class:`ElementSource` (implemented by the
codec layer) that turns an entry into a ``DataElement`` and decodes its value on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from dicomkit import dictionary
from dicomkit.errors import KeywordError
from dicomkit.tag import Tag
from dicomkit.vr import VR

__all__ = ["DataElement", "Dataset", "ElementSource", "PrivateBlock", "RawEntry", "Sequence"]

#: The reader's compact form of an element: the offset of its header in the owning data set's
#: buffer, or (VR bytes or None for implicit VR, value offset, length[, buffer holding the value]).
RawEntry = int | tuple[Any, ...]

_MISSING: Any = object()
_tag_new = int.__new__


class ElementSource(Protocol):
    """What a data set read from bytes needs from the codec layer."""

    def materialize(self, ds: Dataset, tag: int, entry: RawEntry) -> DataElement:
        """Build the ``DataElement`` for a raw entry of ``ds``."""
        ...

    def decode(self, elem: DataElement) -> Any:
        """Decode the value of an element built by :meth:`materialize`."""
        ...

    def resume(self, ds: Dataset, upto: int | None) -> None:
        """Scan more of a data set read lazily: until ``upto`` is passed (None: to the end)."""
        ...


class DataElement:
    """One data element: tag, VR and value.

    ``value`` is decoded from ``raw`` (the original value bytes) on first access;
    setting ``value`` drops ``raw``. ``raw`` is ``None`` for elements made in memory
    and for sequences.
    """

    __slots__ = ("VR", "_raw", "_source", "_value", "stored_vr", "tag", "undefined_length")

    def __init__(
        self,
        tag: int,
        VR: VR | str,  # the DICOM name
        value: Any = _MISSING,
        *,
        raw: bytes | None = None,
        source: ElementSource | None = None,
        undefined_length: bool = False,
        stored_vr: str | None = None,
    ) -> None:
        self.tag = tag if type(tag) is Tag else Tag(tag)
        self.VR = VR if isinstance(VR, _VR_TYPE) else _VR_TYPE(VR)
        self._value = value
        self._raw = raw
        self._source = source
        self.undefined_length = undefined_length
        #: The VR as written in the file when it differs from ``VR`` (e.g. "UN"), else None.
        self.stored_vr = stored_vr

    @property
    def value(self) -> Any:
        v = self._value
        if v is _MISSING:
            if self._source is None:
                return None
            v = self._value = self._source.decode(self)
        return v

    @value.setter
    def value(self, new: Any) -> None:
        if isinstance(new, list) and not isinstance(new, Sequence):
            new = Sequence(new) if self.VR == "SQ" else tuple(new)
        self._value = new
        self._raw = None
        self._source = None
        self.stored_vr = None

    @property
    def raw(self) -> bytes | None:
        """The value bytes as read (in the data set's byte order), or None."""
        return self._raw

    @property
    def is_decoded(self) -> bool:
        return self._value is not _MISSING

    @property
    def keyword(self) -> str:
        return dictionary.keyword_of(self.tag) or ""

    @property
    def name(self) -> str:
        entry = dictionary.lookup(self.tag)
        if entry is not None:
            return entry.name
        return "Private Tag" if self.tag.is_private else "Unknown Tag"

    @property
    def VM(self) -> int:  # the DICOM name
        """The number of values (PS3.5 6.4)."""
        v = self.value
        if v is None or v == "" or v == b"":
            return 0
        if isinstance(v, tuple):
            return len(v)
        if isinstance(v, Sequence):
            return 1
        return 1

    @property
    def is_private(self) -> bool:
        return self.tag.is_private

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataElement):
            return NotImplemented
        return self.tag == other.tag and self.VR == other.VR and self.value == other.value

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        v = self.value
        text = repr(v)
        if len(text) > 80:
            text = text[:77] + "..."
        kw = self.keyword
        return f"{self.tag} {self.VR} {kw + ': ' if kw else ''}{text}"


_VR_TYPE = VR


class Sequence(list["Dataset"]):
    """The value of an SQ element: a list of item data sets.

    Items read with undefined length are remembered (:meth:`has_undefined_length`), so a
    writer can write them back the same way; items added in memory have defined length.
    """

    __slots__ = ("_undefined",)
    _undefined: dict[int, Dataset]

    def mark_undefined_length(self, item: Dataset) -> None:
        """Record that ``item`` was read with undefined length (PS3.5 7.5.1)."""
        try:
            marks = self._undefined
        except AttributeError:
            marks = {}
            self._undefined = marks
        marks[id(item)] = item

    def has_undefined_length(self, item: Dataset) -> bool:
        try:
            return self._undefined.get(id(item)) is item
        except AttributeError:
            return False

    def __repr__(self) -> str:
        return f"<Sequence of {len(self)} item{'s' if len(self) != 1 else ''}>"


_OWN_ATTRS = frozenset({"meta", "preamble"})


class Dataset:
    """A collection of data elements keyed by tag, in tag order.

    Access: ``ds.PatientName`` (the value), ``ds["PatientName"]`` / ``ds[0x00100010]`` /
    ``ds[Tag(0x0010, 0x0010)]`` (the ``DataElement``), ``"PatientName" in ds``,
    ``len(ds)``, ``for elem in ds`` (elements in tag order), ``ds.get(key, default)``
    (the value). ``ds.meta`` is the File Meta Information of a data set read from a
    Part 10 file (or ``None``).
    """

    __slots__ = ("_buf", "_d", "_more", "_sorted", "_source", "meta", "preamble")

    def __init__(self, elements: Iterable[DataElement] = ()) -> None:
        object.__setattr__(self, "_d", {})
        object.__setattr__(self, "_buf", b"")
        object.__setattr__(self, "_source", None)
        object.__setattr__(self, "_sorted", True)
        object.__setattr__(self, "_more", False)
        object.__setattr__(self, "meta", None)
        object.__setattr__(self, "preamble", None)
        for elem in elements:
            self[elem.tag] = elem

    @classmethod
    def _from_entries(
        cls, entries: dict[int, Any], buf: bytes, source: ElementSource, is_sorted: bool
    ) -> Dataset:
        """Used by the reader: a data set over raw entries of ``buf``."""
        ds = object.__new__(cls)
        osa = object.__setattr__
        osa(ds, "_d", entries)
        osa(ds, "_buf", buf)
        osa(ds, "_source", source)
        osa(ds, "_sorted", is_sorted)
        osa(ds, "_more", False)
        osa(ds, "meta", None)
        osa(ds, "preamble", None)
        return ds

    # -- element access -------------------------------------------------------------
    def _element(self, tag: int) -> DataElement:
        d = self._d
        e = d.get(tag)
        if e is None:
            if not self._more or not self._scan(tag):
                raise KeyError(tag)
            e = d[tag]
        if type(e) is not DataElement:
            assert self._source is not None
            e = d[tag] = self._source.materialize(self, tag, e)
        return e  # type: ignore[no-any-return]

    def _scan(self, tag: int | None) -> bool:
        """Data read lazily: scan on until ``tag`` (None: everything); is ``tag`` there now?"""
        assert self._source is not None
        self._source.resume(self, tag)
        return tag is not None and tag in self._d

    def _has(self, tag: int) -> bool:
        return tag in self._d or (self._more and self._scan(tag))

    def __getitem__(self, key: Any) -> DataElement:
        tag = _key_to_tag(key)
        try:
            return self._element(tag)
        except KeyError:
            raise KeyError(Tag(tag)) from None

    def __setitem__(self, key: Any, elem: DataElement) -> None:
        tag = _key_to_tag(key)
        if not isinstance(elem, DataElement):
            raise TypeError(
                f"a Dataset holds DataElements, not {type(elem).__name__}; use ds.Keyword = value"
            )
        if elem.tag != tag:
            raise KeywordError(f"element tag {elem.tag} does not match key {Tag(tag)}")
        if self._more:
            self._scan(None)
        d = self._d
        if d and tag not in d and tag < max(d):
            object.__setattr__(self, "_sorted", False)
        d[tag] = elem

    def __delitem__(self, key: Any) -> None:
        tag = _key_to_tag(key)
        if self._more:
            self._scan(None)
        try:
            del self._d[tag]
        except KeyError:
            raise KeyError(Tag(tag)) from None

    def __contains__(self, key: object) -> bool:
        try:
            tag = _key_to_tag(key)
        except (KeywordError, TypeError):
            return False
        return self._has(tag)

    def __len__(self) -> int:
        if self._more:
            self._scan(None)
        return len(self._d)

    def _order(self) -> list[int]:
        if self._more:
            self._scan(None)
        d = self._d
        if self._sorted:
            return list(d)
        order = sorted(d)
        # re-insert in order so later iterations are cheap
        object.__setattr__(self, "_d", {t: d[t] for t in order})
        object.__setattr__(self, "_sorted", True)
        return order

    def __iter__(self) -> Iterator[DataElement]:
        d = self._d
        source = self._source
        for tag in self._order():
            e = d[tag]
            if type(e) is not DataElement:
                assert source is not None
                e = d[tag] = source.materialize(self, tag, e)
            yield e

    def keys(self) -> list[Tag]:
        """The tags, in order."""
        return [_tag_new(Tag, t) for t in self._order()]

    def values(self) -> list[DataElement]:
        return list(self)

    def items(self) -> list[tuple[Tag, DataElement]]:
        return [(e.tag, e) for e in self]

    def get(self, key: Any, default: Any = None) -> Any:
        """The *value* of the element named by keyword or tag, or ``default``."""
        try:
            tag = _key_to_tag(key)
        except (KeywordError, TypeError):
            return default
        if not self._has(tag):
            return default
        return self._element(tag).value

    def element(self, key: Any) -> DataElement | None:
        """The element named by keyword or tag, or None."""
        tag = _key_to_tag(key)
        return self._element(tag) if self._has(tag) else None

    # -- keyword attributes ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name[:1] == "_" or not name[:1].isupper():
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        tag = dictionary.tag_or_none(name)
        if tag is None:
            raise AttributeError(_unknown_keyword_message(name))
        if not self._has(tag):
            raise AttributeError(f"data set has no element {name} {Tag(tag)}")
        return self._element(tag).value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN_ATTRS:
            object.__setattr__(self, name, value)
            return
        tag = dictionary.tag_or_none(name)
        if tag is None:
            raise AttributeError(_unknown_keyword_message(name))
        if isinstance(value, DataElement):
            self[tag] = value
            return
        if self._has(tag):
            elem = self._element(tag)
            if elem.VR == "SQ":
                value = _as_sequence(name, value)
            elem.value = value
            return
        vr = dictionary.vr_of(tag) or "UN"
        if " or " in vr:
            vr = _pick_vr(self, tag, vr, value)
        if vr == "SQ":
            value = _as_sequence(name, value)
        elif isinstance(value, list):
            value = tuple(value)
        self[tag] = DataElement(tag, vr, value)

    def __delattr__(self, name: str) -> None:
        tag = dictionary.tag_or_none(name)
        if tag is None:
            raise AttributeError(_unknown_keyword_message(name))
        if not self._has(tag):
            raise AttributeError(f"data set has no element {name} {Tag(tag)}")
        del self._d[tag]

    def __dir__(self) -> list[str]:
        if self._more:
            self._scan(None)
        kws = [dictionary.keyword_of(t) for t in self._d]
        return sorted(set(object.__dir__(self)) | {k for k in kws if k})

    # -- comparison and display -----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        for ds in (self, other):
            if ds._more:
                ds._scan(None)
        if set(self._d) != set(other._d):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "\n".join(repr(e) for e in self)

    # -- private blocks (PS3.5 7.8.1) ------------------------------------------------
    def private_block(self, group: int, creator: str, *, create: bool = False) -> PrivateBlock:
        """The block of private group ``group`` reserved by the Private Creator ``creator``.

        Looks through (gggg,0010)-(gggg,00FF) for an element whose value is ``creator``
        (leading/trailing spaces ignored); with ``create=True`` and none found, reserves the
        first free slot by adding the creator element (LO). Raises ``KeywordError`` (a
        ``KeyError``) when not found and ``create`` is False, ``ValueError`` for an even or
        illegal group, an empty or invalid creator, or a group whose 240 slots are all used.
        """
        if not (group & 1 and 0x0007 < group < 0xFFFF):
            raise ValueError(f"group {group:#06x} is not a private group (odd, 0009-FFFD)")
        if not isinstance(creator, str) or not creator.strip():
            raise ValueError("a private creator must be a non-empty string")
        if len(creator) > 64 or "\\" in creator:
            raise ValueError(f"private creator {creator!r} is not a valid LO value")
        wanted = creator.strip()
        base = group << 16
        free = None
        for slot in range(0x10, 0x100):
            tag = base | slot
            if self._has(tag):
                value = self._element(tag).value
                if isinstance(value, str) and value.strip() == wanted:
                    return PrivateBlock(self, group, slot, creator)
            elif free is None:
                free = slot
        if not create:
            raise KeywordError(f"private creator {creator!r} not found in group {group:04X}")
        if free is None:
            raise ValueError(f"no free private creator slot in group {group:04X}")
        self[base | free] = DataElement(base | free, "LO", creator)
        return PrivateBlock(self, group, free, creator)

    def private_creators(self, group: int) -> list[str]:
        """The Private Creator values of ``group``, in slot order."""
        base = group << 16
        return [
            str(self._element(base | slot).value) for slot in range(0x10, 0x100) if self._has(base | slot)
        ]

    def copy(self) -> Dataset:
        """A shallow copy: the same elements in a new data set."""
        new = Dataset(self)
        object.__setattr__(new, "meta", self.meta)
        return new


class PrivateBlock:
    """The private elements (gggg,xx00)-(gggg,xxFF) reserved by one Private Creator
    (gggg,00xx) of a data set (PS3.5 7.8.1). Made by :meth:`Dataset.private_block`.

    ``block.add(0x01, "LO", "x")`` adds (gggg,xx01); ``block[0x01]`` is that element,
    ``block.tag(0x01)`` its tag, ``0x01 in block`` tests it. Private elements have no
    dictionary VR, so adding one needs an explicit VR; ``block[0x01] = value`` only
    replaces the value of an element that exists.
    """

    __slots__ = ("block", "creator", "dataset", "group")

    def __init__(self, dataset: Dataset, group: int, block: int, creator: str) -> None:
        self.dataset = dataset
        self.group = group
        #: the block number xx: the creator is (gggg,00xx), its elements (gggg,xx00-xxFF)
        self.block = block
        self.creator = creator

    def tag(self, offset: int) -> Tag:
        """The tag of element ``offset`` (0x00-0xFF) of this block."""
        if type(offset) is not int or not 0 <= offset <= 0xFF:
            raise ValueError(f"a private element offset is 0x00-0xFF, got {offset!r}")
        return Tag(self.group << 16 | self.block << 8 | offset)

    def add(self, offset: int, vr: VR | str, value: Any) -> DataElement:
        """Add (or replace) element ``offset`` with an explicit VR; returns the element."""
        tag = self.tag(offset)
        if isinstance(value, list):
            value = Sequence(value) if vr == "SQ" else tuple(value)
        elem = DataElement(tag, vr, value)
        self.dataset[tag] = elem
        return elem

    def __getitem__(self, offset: int) -> DataElement:
        return self.dataset[self.tag(offset)]

    def __setitem__(self, offset: int, value: Any) -> None:
        tag = self.tag(offset)
        if isinstance(value, DataElement):
            self.dataset[tag] = value
        elif tag in self.dataset:
            self.dataset[tag].value = value
        else:
            raise KeywordError(
                f"private element {tag} needs an explicit VR: use block.add({offset:#04x}, vr, value)"
            )

    def __delitem__(self, offset: int) -> None:
        del self.dataset[self.tag(offset)]

    def __contains__(self, offset: object) -> bool:
        return type(offset) is int and 0 <= offset <= 0xFF and self.tag(offset) in self.dataset

    def __iter__(self) -> Iterator[DataElement]:
        """The elements of this block, in tag order."""
        base = self.group << 16 | self.block << 8
        return iter([e for e in self.dataset if base <= e.tag <= base | 0xFF])

    def __repr__(self) -> str:
        return f"<PrivateBlock ({self.group:04X},{self.block:02X}xx) {self.creator!r}>"


def _as_sequence(name: str, value: Any) -> Any:
    """An SQ value: a list/tuple of data sets becomes a ``Sequence``; None/empty stay empty."""
    if value is None or isinstance(value, Sequence):
        return Sequence() if value is None else value
    if isinstance(value, Dataset):
        return Sequence([value])
    if isinstance(value, list | tuple):
        for item in value:
            if not isinstance(item, Dataset):
                raise TypeError(f"{name} is a sequence: its items are Datasets, not {type(item).__name__}")
        return Sequence(value)
    raise TypeError(f"{name} is a sequence: assign a list of Datasets, not {type(value).__name__}")


_PIXEL_DATA = 0x7FE00010


def _pick_vr(ds: Dataset, tag: int, options: str, value: Any) -> str:
    """Resolve an ambiguous dictionary VR ("US or SS", "OB or OW", ...) for a new value.

    Bytes: OW for Pixel Data when Bits Allocated > 8 and for Overlay Data (60xx,3000), else
    OB; "US or OW" / "US or SS or OW" take OW. Numbers: SS when a value is negative or
    Pixel Representation is 1 (signed), else US (PS3.5 Annex A; PS3.3 C.7.6.3.1).
    """
    choices = options.split(" or ")
    if isinstance(value, bytes | bytearray | memoryview):
        if "OB" in choices:
            if tag == _PIXEL_DATA:
                bits = ds.get(0x00280100)
                return "OW" if isinstance(bits, int) and bits > 8 else "OB"
            return "OW" if tag & 0xFF00FFFF == 0x60003000 else "OB"
        if "OW" in choices:
            return "OW"
    if "SS" in choices:
        values = value if isinstance(value, list | tuple) else (value,)
        if any(isinstance(v, int) and v < 0 for v in values) or ds.get(0x00280103) == 1:
            return "SS"
        return "US"
    if choices[0] == "OB" and tag == _PIXEL_DATA:
        bits = ds.get(0x00280100)
        return "OW" if isinstance(bits, int) and bits > 8 else "OB"
    return choices[0]


def _unknown_keyword_message(name: str) -> str:
    hints = dictionary.suggest(name)
    hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
    return f"{name!r} is not a DICOM keyword{hint}"


def _key_to_tag(key: Any) -> int:
    if type(key) is int or type(key) is Tag:
        return key
    if isinstance(key, str):
        tag = dictionary.tag_or_none(key)
        if tag is not None:
            return tag
        return Tag(key)  # "(0010,0010)", "00100010", or KeywordError with a suggestion
    if isinstance(key, int | tuple):
        return Tag(key)
    raise TypeError(f"a data set key is a tag or a keyword, not {type(key).__name__}")
