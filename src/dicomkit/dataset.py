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

__all__ = ["DataElement", "Dataset", "ElementSource", "RawEntry", "Sequence"]

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
        if isinstance(new, list):
            new = tuple(new)
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
    """The value of an SQ element: a list of item data sets."""

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
            self._element(tag).value = value
            return
        vr = dictionary.vr_of(tag) or "UN"
        if " or " in vr:
            vr = vr.split(" or ")[0]
        if isinstance(value, list):
            value = Sequence(value) if vr == "SQ" else tuple(value)
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

    def copy(self) -> Dataset:
        """A shallow copy: the same elements in a new data set."""
        new = Dataset(self)
        object.__setattr__(new, "meta", self.meta)
        return new


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
