"""The DICOM data dictionary: PS3.6 data elements, PS3.7 command elements and PS3.6 Annex A UIDs.

This module owns every question "what is this tag / keyword / UID?":

* :func:`lookup` gives the full :class:`DictEntry` of a tag: an exact PS3.6/PS3.7 entry, else a
  repeating-group entry (curves 50xx, overlays 60xx, (0020,31xx), (1000,xxx0..5) ...), else the
  generic rules -- (gggg,0000) is a UL Group Length (retired outside groups 0000 and 0002,
  PS3.5 7.2) and a private (gggg,0010-00FF) is an LO Private Creator (PS3.5 7.8.1).
* :func:`vr_of`, :func:`vm_of` and :func:`keyword_of` are the reader's hot paths: one dict
  lookup for every tag in the standard dictionary, the rules above only on a miss.
* :func:`tag_for_keyword` / :func:`tag_or_none` / :func:`suggest` map keywords to tags.
* :func:`uid_info` / :func:`uid_for_keyword` describe registered UIDs (PS3.6 Annex A).

Ambiguous VRs are reported as PS3.6 writes them ("US or SS", "OB or OW", "US or SS or OW");
the item and delimitation tags (FFFE,E000/E00D/E0DD) have VR "NONE". The tables themselves are
generated into :mod:`dicomkit._dictdata` by ``tools/gen_dictionary.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dicomkit._dictdata import ELEMENTS, REPEATER_TAGS, REPEATERS, UIDS
from dicomkit.errors import KeywordError
from dicomkit.tag import Tag

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from dicomkit.uid import UID

__all__ = [
    "DictEntry",
    "UIDEntry",
    "keyword_of",
    "lookup",
    "private_creator_tag",
    "suggest",
    "tag_for_keyword",
    "tag_or_none",
    "uid_for_keyword",
    "uid_info",
    "vm_of",
    "vr_of",
]

_Entry = tuple[str, str, str, str, bool]


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One data dictionary entry, as it applies to ``tag`` (a :class:`~dicomkit.tag.Tag`)."""

    tag: int
    vr: str
    vm: str
    name: str
    keyword: str
    retired: bool


@dataclass(frozen=True, slots=True)
class UIDEntry:
    """One registered UID (PS3.6 Annex A): ``type`` is e.g. "SOP Class" or "Transfer Syntax"."""

    uid: str
    name: str
    keyword: str
    type: str
    retired: bool


# ----------------------------------------------------------------------------- flat tables

_VR: dict[int, str] = {tag: e[0] for tag, e in ELEMENTS.items()}
_VM: dict[int, str] = {tag: e[1] for tag, e in ELEMENTS.items()}
_KEYWORD: dict[int, str] = {tag: e[3] for tag, e in ELEMENTS.items() if e[3]}
_TAG_FOR_KEYWORD: dict[str, int] = {kw: tag for tag, kw in _KEYWORD.items()}

#: Exact-tag VM table (no repeating groups): the reader's hot path uses ``VM_BY_TAG.get``.
VM_BY_TAG: Mapping[int, str] = _VM
#: The exact tags whose VR is SQ, and ``(mask, value)`` of the repeating-group entries whose VR
#: is SQ: the reader's implicit VR scan stops at these (``vr_of(tag) == "SQ"`` without a call).
SQ_TAGS: frozenset[int] = frozenset(tag for tag, e in ELEMENTS.items() if e[0] == "SQ")
SQ_RULES: tuple[tuple[int, int], ...] = tuple((m, v) for m, v, e in REPEATERS if e[0] == "SQ")
_TAG_FOR_KEYWORD.update(REPEATER_TAGS)

_vr_get = _VR.get
_vm_get = _VM.get
_keyword_get = _KEYWORD.get
_elements_get = ELEMENTS.get

#: Repeaters grouped by mask, most specific first: each miss costs one dict lookup per mask.
_REPEATERS_BY_MASK: tuple[tuple[int, dict[int, _Entry]], ...] = tuple(
    (mask, {value: entry for m, value, entry in REPEATERS if m == mask})
    for mask in sorted({m for m, _, _ in REPEATERS}, key=lambda m: (-m.bit_count(), m))
)

_GROUP_LENGTH: _Entry = ("UL", "1", "Group Length", "GroupLength", True)
_PRIVATE_CREATOR: _Entry = ("LO", "1", "Private Creator", "PrivateCreator", False)


def _rule_entry(tag: int) -> _Entry | None:
    """The entry of a tag missing from ELEMENTS: group length, private creator or repeater."""
    if not 0 <= tag <= 0xFFFFFFFF:
        return None
    group = tag >> 16
    element = tag & 0xFFFF
    if element == 0:
        return _GROUP_LENGTH
    if group & 1:  # private (or illegal) group: no repeating groups are odd
        if group > 0x0007 and group != 0xFFFF and 0x0010 <= element <= 0x00FF:
            return _PRIVATE_CREATOR
        return None
    for mask, table in _REPEATERS_BY_MASK:
        entry = table.get(tag & mask)
        if entry is not None:
            return entry
    return None


# ----------------------------------------------------------------------------- tags


def lookup(tag: int) -> DictEntry | None:
    """The dictionary entry for ``tag``: exact, repeating group, group length or private creator."""
    entry = _elements_get(tag)
    if entry is None:
        entry = _rule_entry(tag)
        if entry is None:
            return None
    return DictEntry(Tag(tag), *entry)


def vr_of(tag: int) -> str | None:
    """The dictionary VR of ``tag`` (possibly ambiguous, e.g. "US or SS"), or None if unknown."""
    vr = _vr_get(tag)
    if vr is None:
        entry = _rule_entry(tag)
        return None if entry is None else entry[0]
    return vr


def vm_of(tag: int) -> str | None:
    """The dictionary VM of ``tag`` ("1", "1-n", "2-2n" ...), or None if unknown."""
    vm = _vm_get(tag)
    if vm is None:
        entry = _rule_entry(tag)
        return None if entry is None else entry[1]
    return vm


def keyword_of(tag: int) -> str | None:
    """The keyword of ``tag``, or None if it is unknown or has no keyword."""
    kw = _keyword_get(tag)
    if kw is None:
        if tag in ELEMENTS:  # a retired entry without a keyword
            return None
        entry = _rule_entry(tag)
        return None if entry is None else entry[3]
    return kw


def tag_or_none(keyword: str) -> int | None:
    """The tag of a data element keyword, or None -- no exception, for hot paths."""
    return _TAG_FOR_KEYWORD.get(keyword)


def tag_for_keyword(keyword: str) -> Tag:
    """The tag of a data element keyword; raises :class:`KeywordError` with a suggestion."""
    tag = _TAG_FOR_KEYWORD.get(keyword)
    if tag is None:
        raise KeywordError(_unknown(f"unknown DICOM keyword {keyword!r}", keyword, _TAG_FOR_KEYWORD))
    return Tag(tag)


def suggest(keyword: str, n: int = 3) -> list[str]:
    """Up to ``n`` known data element keywords close to ``keyword``, best first."""
    return _suggest(keyword, _TAG_FOR_KEYWORD, n)


def private_creator_tag(tag: int) -> int | None:
    """For a private data element (gggg,xxyy) with xx >= 0x10, its private creator (gggg,00xx)."""
    group = tag >> 16
    block = (tag & 0xFFFF) >> 8
    if not (group & 1 and 0x0007 < group < 0xFFFF and block >= 0x10):
        return None
    return group << 16 | block


def _suggest(keyword: str, known: Collection[str], n: int) -> list[str]:
    import difflib  # deferred: only error paths need it

    if n <= 0:
        return []
    folded = keyword.casefold()
    exact = [k for k in known if k.casefold() == folded and k != keyword]
    close = difflib.get_close_matches(keyword, list(known), n=n, cutoff=0.6)
    if not close and folded != keyword:
        # all-lowercase or all-uppercase input: compare case-insensitively
        lowered = {k.casefold(): k for k in known}
        close = [lowered[k] for k in difflib.get_close_matches(folded, list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(exact + close))[:n]


def _unknown(message: str, keyword: str, known: Collection[str]) -> str:
    best = _suggest(keyword, known, 1)
    return f"{message}; did you mean {best[0]!r}?" if best else message


# ----------------------------------------------------------------------------- UIDs

_UID_FOR_KEYWORD: dict[str, str] = {kw: uid for uid, (_n, kw, _t, _r) in UIDS.items() if kw}


def uid_info(uid: str) -> UIDEntry | None:
    """The registry entry of ``uid`` (trailing NUL/space padding ignored), or None."""
    info = UIDS.get(uid)
    if info is None:
        uid = uid.rstrip("\x00 ")
        info = UIDS.get(uid)
        if info is None:
            return None
    return UIDEntry(str(uid), *info)


def uid_for_keyword(keyword: str) -> UID:
    """The UID registered under ``keyword``, e.g. "CTImageStorage"; raises :class:`KeywordError`."""
    from dicomkit.uid import UID  # deferred: keeps this module's import light

    uid = _UID_FOR_KEYWORD.get(keyword)
    if uid is None:
        raise KeywordError(_unknown(f"unknown UID keyword {keyword!r}", keyword, _UID_FOR_KEYWORD))
    return UID(uid)
