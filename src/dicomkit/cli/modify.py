"""``dicomkit modify``: insert, replace and delete data elements (what people use DCMTK's
``dcmodify`` for).

::

    dicomkit modify FILE... [-s PATH=VALUE]... [-d PATH]... [-o OUT]

PATH is a chain of steps joined by ``.``: a keyword (``PatientName``) or a tag
``(gggg,eeee)``; every step but the last names a sequence item with ``[n]`` (from 0):
``ReferencedSeriesSequence[0].SeriesInstanceUID``. Setting an element creates the
sequence when it is missing and the item when ``n`` is one past the last item.

VALUE is converted for the element's VR (its VR in the file, else the dictionary's):
integers for US/SS/UL/SL/UV/SV/IS, numbers for FL/FD/DS, tags for AT, hex bytes for
OB/UN (``00\\ff``), hex words for OW/OL/OV and numbers for OF/OD; a backslash separates multiple values (not for ST/LT/UT/UR).
An empty VALUE makes the element empty.

Private elements: ``(gggg,xxee)`` with an explicit VR after the tag,
``-s "(0009,1001)LO=value"``, and its Private Creator (gggg,00xx) must exist -- in the
file, or set earlier on the same command line: ``-s "(0009,0010)=ACME" -s
"(0009,1001)LO=value"`` (creator elements are LO). Replacing an existing private element
needs no VR. The modifications are applied in order; ``-d PATH[n]`` deletes an item.

Each FILE is rewritten in place atomically (or to ``-o OUT`` for a single FILE), in its
own transfer syntax, untouched elements byte for byte. A bad PATH, keyword or VALUE
(an :class:`EncodeError`) is reported as one line and the file is left untouched; the
exit status is then 1.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from dicomkit import dictionary
from dicomkit.cli import Output, describe_error
from dicomkit.cli.convert import read_whole
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.errors import DicomError, EncodeError, KeywordError
from dicomkit.tag import Tag
from dicomkit.vr import VR

__all__ = ["Edit", "Step", "apply", "parse_edit", "run"]

_STEP_RE = re.compile(
    r"""\s*(?:
        \(\s*(?P<group>[0-9A-Fa-f]{4})\s*,\s*(?P<elem>[0-9A-Fa-f]{4})\s*\)(?P<vr>[A-Z]{2})?
        | (?P<kw>[A-Za-z][A-Za-z0-9]*)
    )\s*(?:\[\s*(?P<index>\d+)\s*\])?\s*\Z""",
    re.VERBOSE,
)
_INT_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV"})
_FLOAT_VRS = frozenset({"FL", "FD"})
_SINGLE_VRS = frozenset({"ST", "LT", "UT", "UR"})
_VRS = frozenset(str(v) for v in VR)


class EditError(DicomError):
    """A modification that cannot be applied (bad path, keyword or value)."""


@dataclass(frozen=True)
class Step:
    """One step of a path: a tag, an optional explicit VR and an optional item index."""

    tag: int
    vr: str | None
    index: int | None


@dataclass(frozen=True)
class Edit:
    """``-s PATH=VALUE`` (value is a str) or ``-d PATH`` (value is None)."""

    text: str
    path: tuple[Step, ...]
    value: str | None


def _step(text: str) -> Step:
    m = _STEP_RE.match(text)
    if m is None:
        raise EditError(f"{text.strip()!r} is not a keyword or (gggg,eeee) tag, optionally with [n]")
    index = int(m["index"]) if m["index"] is not None else None
    if m["kw"] is not None:
        tag = dictionary.tag_or_none(m["kw"])
        if tag is None:
            hints = dictionary.suggest(m["kw"])
            hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
            raise EditError(f"{m['kw']!r} is not a DICOM keyword{hint}")
        return Step(tag, None, index)
    tag = int(m["group"], 16) << 16 | int(m["elem"], 16)
    vr = m["vr"]
    if vr is not None and vr not in _VRS:
        raise EditError(f"{vr!r} is not a VR")
    if tag >> 16 == 0x0002:
        raise EditError(f"{Tag(tag)} is File Meta Information: dicomkit writes it itself")
    if tag >> 16 in (0xFFFE, 0xFFFC) or tag & 0xFFFF == 0:
        raise EditError(f"{Tag(tag)} cannot be set: it is an item, delimiter or group length tag")
    return Step(tag, vr, index)


def parse_edit(text: str, *, delete: bool) -> Edit:
    """Parse the argument of ``-s`` (``PATH=VALUE``) or ``-d`` (``PATH``)."""
    if delete:
        path_text, value = text, None
    else:
        if "=" not in text:
            raise EditError("expected PATH=VALUE")
        path_text, value = text.split("=", 1)
    parts = path_text.split(".") if path_text.strip() else []
    if not parts:
        raise EditError("the path is empty")
    steps = tuple(_step(p) for p in parts)
    for s in steps[:-1]:
        if s.index is None:
            raise EditError(f"{_name(s.tag)} is followed by another step: give the item, {_name(s.tag)}[n]")
        if s.vr not in (None, "SQ"):
            raise EditError(f"{_name(s.tag)} holds items: its VR is SQ, not {s.vr}")
    if not delete and steps[-1].index is not None:
        raise EditError(f"cannot set an item ({_name(steps[-1].tag)}[{steps[-1].index}]); set its elements")
    return Edit(text, steps, value)


def _name(tag: int) -> str:
    return dictionary.keyword_of(tag) or str(Tag(tag))


def _vr_for(ds: Dataset, step: Step) -> str:
    """The VR of a new element: the explicit one, else the dictionary's (the first of an
    ambiguous "US or SS"); private elements need an explicit VR and an existing creator."""
    tag = step.tag
    group, elem = tag >> 16, tag & 0xFFFF
    if group & 1 and elem >= 0x1000:
        creator_tag = dictionary.private_creator_tag(tag) or (group << 16 | elem >> 8)
        if creator_tag not in ds:
            raise EditError(
                f"private element {Tag(tag)} has no Private Creator {Tag(creator_tag)} in the data set; "
                f'set it first: -s "{Tag(creator_tag)}=CREATOR"'
            )
        if step.vr is None:
            raise EditError(f'private element {Tag(tag)} is new: give its VR, e.g. -s "{Tag(tag)}LO=value"')
        return step.vr
    if step.vr is not None:
        return step.vr
    vr = dictionary.vr_of(tag)
    if not vr:
        raise EditError(f'{Tag(tag)} is not in the dictionary: give its VR, e.g. -s "{Tag(tag)}LO=value"')
    return vr.split(" or ")[0]


def _convert(tag: int, vr: str, text: str) -> Any:
    """The command-line text as a value of ``vr``."""
    if vr == "SQ":
        if text:
            raise EncodeError(
                "a sequence can only be set empty; set the elements of its items", tag=tag, vr=vr
            )
        return Sequence()
    if vr in _SINGLE_VRS:
        return text
    parts = text.split("\\") if text else []
    try:
        values: list[Any]
        if vr in _INT_VRS:
            values = [int(p, 0) if p.strip().lower().startswith(("0x", "-0x")) else int(p) for p in parts]
        elif vr in _FLOAT_VRS:
            values = [float(p) for p in parts]
        elif vr == "AT":
            values = [Tag(p.strip()) for p in parts]
        elif vr in ("OB", "UN"):
            return bytes(int(p, 16) for p in parts)
        elif vr in ("OW", "OL", "OV", "OF", "OD"):
            # numbers, packed by the writer in the file's byte order
            return tuple(float(p) if vr in ("OF", "OD") else int(p, 16) for p in parts)
        else:
            values = parts
    except (ValueError, KeywordError, OverflowError) as exc:
        raise EncodeError(f"{text!r} is not a valid value: {exc}", tag=tag, vr=vr) from None
    if not values:
        return None if vr in _INT_VRS | _FLOAT_VRS | {"AT"} else ""
    return values[0] if len(values) == 1 else tuple(values)


def _check(tag: int, vr: str, value: Any, ds: Dataset) -> None:
    """Raise EncodeError now when the value cannot be written (instead of at write time)."""
    from dicomkit.codec.charset import Charset
    from dicomkit.codec.values import encode_value

    if vr == "SQ":
        return
    charset = None
    term = ds.get(0x00080005)
    if term:
        try:
            charset = Charset.from_value(term if isinstance(term, str | tuple) else str(term))
        except Exception:  # the writer reports an unusable charset itself
            charset = None
    encode_value(tag, vr, value, little=True, charset=charset)


def apply(ds: Dataset, edit: Edit) -> None:
    """Apply one modification to ``ds`` (raises EditError or EncodeError)."""
    target = ds
    for step in edit.path[:-1]:
        assert step.index is not None
        elem = target.element(step.tag)
        if elem is None:
            if edit.value is None:
                raise EditError(f"{_name(step.tag)} is not in the data set")
            vr = _vr_for(target, step)
            if vr != "SQ":
                raise EditError(f"{_name(step.tag)} is not a sequence (VR {vr})")
            elem = DataElement(step.tag, "SQ", Sequence())
            target[step.tag] = elem
        if elem.VR != "SQ":
            raise EditError(f"{_name(step.tag)} is not a sequence (VR {elem.VR})")
        items = elem.value
        if items is None:
            items = elem.value = Sequence()
        if step.index < len(items):
            target = items[step.index]
        elif step.index == len(items) and edit.value is not None:
            target = Dataset()
            items.append(target)
        else:
            raise EditError(f"{_name(step.tag)} has {len(items)} item(s): no item [{step.index}]")
    last = edit.path[-1]
    if edit.value is None:
        if last.tag not in target:
            raise EditError(f"{_name(last.tag)} is not in the data set")
        if last.index is None:
            del target[last.tag]
            return
        elem = target[last.tag]
        if elem.VR != "SQ" or not elem.value or last.index >= len(elem.value):
            raise EditError(f"{_name(last.tag)} has no item [{last.index}]")
        del elem.value[last.index]
        return
    elem = target.element(last.tag)
    if elem is not None and (last.vr is None or last.vr == elem.VR):
        vr = str(elem.VR)
        if vr == "UN" and last.vr is None and (dictionary.vr_of(last.tag) or "UN") != "UN":
            vr = (dictionary.vr_of(last.tag) or "UN").split(" or ")[0]
    else:
        vr = last.vr if elem is not None and last.vr is not None else _vr_for(target, last)
    value = _convert(last.tag, vr, edit.value)
    _check(last.tag, vr, value, ds)
    keyword = dictionary.keyword_of(last.tag)
    if elem is None and last.vr is None and keyword and dictionary.tag_or_none(keyword) == last.tag:
        setattr(target, keyword, value)  # picks the VR of "US or SS" & co. from the value
    else:
        target[last.tag] = DataElement(last.tag, vr, value)


def run(args: argparse.Namespace, out: Output) -> int:
    import dicomkit

    edits: list[Edit] = []
    for kind, text in args.edits or []:
        try:
            edits.append(parse_edit(text, delete=kind == "d"))
        except EditError as exc:
            out.error("modify", f"-{kind} {text!r}: {exc}")
            return 1
    if not edits:
        out.stderr.write("dicomkit modify: nothing to do: give -s PATH=VALUE or -d PATH\n")
        return 2
    if args.output is not None and len(args.files) != 1:
        out.stderr.write("dicomkit modify: -o takes one input FILE\n")
        return 2
    status = 0
    for path in args.files:
        try:
            ds = read_whole(path, out)
        except (OSError, DicomError) as exc:
            out.error(path, describe_error(exc, path))
            status = 1
            continue
        try:
            for edit in edits:
                try:
                    apply(ds, edit)
                except (EditError, EncodeError, KeywordError, ValueError, TypeError) as exc:
                    kind = "-d" if edit.value is None else "-s"
                    raise EditError(f"{kind} {edit.text!r}: {exc}") from exc
            dicomkit.write(ds, args.output if args.output is not None else path)
        except (OSError, DicomError) as exc:
            out.error(path, describe_error(exc, path))
            status = 1
    return status
