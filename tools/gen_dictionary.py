"""Generate dicomkit's data dictionary modules from machine-readable PS3.6 / PS3.7 tables.

Writes three modules (default into ``src/dicomkit``):

``_dictdata.py``
    Plain data: ``ELEMENTS`` (every PS3.6 data element, retired included, plus the PS3.7
    command group), ``REPEATERS`` (repeating-group entries as ``(mask, value, entry)``),
    ``REPEATER_TAGS`` (repeating-group keyword -> base tag) and ``UIDS`` (PS3.6 Annex A).
``tags.py``
    One ``Final`` :class:`~dicomkit.tag.Tag` constant per data element keyword.
``uids.py``
    One ``Final`` :class:`~dicomkit.uid.UID` constant per UID keyword.

Source: the data tables installed with pydicom (``pydicom._dicom_dict.DicomDictionary``,
``RepeatersDictionary`` and ``pydicom._uid_dict.UID_dictionary``); only the data is used.
The edition they were generated from is pydicom's ``__dicom_version__``.

After generating, the tables are cross-checked against DCMTK's ``dicom.dic`` (if present) and a
summary of the differences is printed; differences never make the generator fail.

The output depends only on the pydicom tables, so rerunning rewrites the files identically::

    .venv/bin/python tools/gen_dictionary.py [--out-dir DIR] [--dcmtk PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import keyword
import re
import sys
from collections.abc import Iterable
from pathlib import Path

Entry = tuple[str, str, str, str, bool]  # VR, VM, Name, Keyword, retired
UIDEntry = tuple[str, str, str, bool]  # Name, Keyword, Type, retired
Repeater = tuple[int, int, Entry]  # mask, value, entry

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "dicomkit"
DEFAULT_DCMTK = Path("/usr/share/libdcmtk17/dicom.dic")

#: Names a generated constant module binds itself (plus its class); no keyword may shadow them.
RESERVED = {"Final", "TYPE_CHECKING", "annotations"}


# ----------------------------------------------------------------------------- source tables


def load_pydicom() -> tuple[str, str, dict[int, Entry], list[tuple[str, Entry]], dict[str, UIDEntry]]:
    """Read pydicom's installed tables: (pydicom version, edition, elements, repeaters, uids)."""
    from pydicom import _dicom_dict, _uid_dict, _version

    version = importlib.metadata.version("pydicom")
    edition = str(_version.__dicom_version__)
    elements: dict[int, Entry] = {}
    for tag, (vr, vm, name, retired, kw) in _dicom_dict.DicomDictionary.items():
        elements[int(tag)] = (vr, vm, name, kw, retired == "Retired")
    repeaters = [
        (pattern.upper().replace("X", "x"), (vr, vm, name, kw, retired == "Retired"))
        for pattern, (vr, vm, name, retired, kw) in _dicom_dict.RepeatersDictionary.items()
    ]
    uids: dict[str, UIDEntry] = {}
    for uid, (name, type_, _info, retired, kw) in _uid_dict.UID_dictionary.items():
        uids[uid] = (name, kw, type_, retired == "Retired")
    return version, edition, elements, repeaters, uids


# ----------------------------------------------------------------------------- repeaters


def pattern_mask(pattern: str) -> tuple[int, int]:
    """``'60xx3000'`` -> (mask, value) so that ``tag & mask == value`` matches the pattern.

    Repeating groups (PS3.5 7.6: 50xx curves, 60xx overlays, 7Fxx variable pixel data) are even
    groups only -- the odd groups in those ranges are private -- so when the group has wildcard
    digits the group's lowest bit is fixed to 0.
    """
    if not re.fullmatch(r"[0-9A-Fx]{8}", pattern):
        raise ValueError(f"bad repeater pattern {pattern!r}")
    mask = int("".join("0" if c == "x" else "F" for c in pattern), 16)
    value = int(pattern.replace("x", "0"), 16)
    if "x" in pattern[:4]:
        mask |= 0x00010000
    return mask, value


def deposit(mask: int, value: int, n: int) -> int:
    """The tag matching (mask, value) whose wildcard bits, read as a number, equal ``n``."""
    t = value
    i = 0
    for bit in range(32):
        if not mask >> bit & 1:
            if n >> i & 1:
                t |= 1 << bit
            i += 1
    return t


def base_tags(reps: list[Repeater], elements: dict[int, Entry]) -> dict[str, int]:
    """Repeating-group keyword -> base tag, the tag ``tags.py`` gives the keyword.

    Related repeaters (same mask, same digits above the wildcards, e.g. the six (1000,xxx0..5)
    entries) share one wildcard value: the smallest for which every member's tag resolves to the
    member -- not an exact PS3.6 entry and not a group length (gggg,0000). So (0028,04x0..3) get
    (0028,0410..0413) because (0028,0400..0403) are exact entries, and (1000,xxx0..5) get
    (1000,0010..0015).
    """
    families: dict[tuple[int, int], list[Repeater]] = {}
    for m, v, e in reps:
        low = min(bit for bit in range(32) if not m >> bit & 1)  # lowest wildcard bit
        families.setdefault((m, v >> low << low), []).append((m, v, e))
    result: dict[str, int] = {}
    for (mask, _), members in families.items():
        for n in range(1 << (32 - bin(mask).count("1"))):
            tags = [deposit(m, v, n) for m, v, _ in members]
            if all(t & 0xFFFF and t not in elements for t in tags):
                result.update((e[3], t) for (_, _, e), t in zip(members, tags, strict=True))
                break
        else:
            raise ValueError(f"repeaters {[e[3] for _, _, e in members]} have no free tag")
    return result


def build_repeaters(raw: list[tuple[str, Entry]]) -> list[Repeater]:
    reps = [(*pattern_mask(p), e) for p, e in raw]
    # most specific mask first, then by value: deterministic and independent of pydicom's order
    reps.sort(key=lambda r: (-bin(r[0]).count("1"), r[1], r[0]))
    for i, (m1, v1, e1) in enumerate(reps):
        for m2, v2, e2 in reps[i + 1 :]:
            if (v1 ^ v2) & m1 & m2 == 0:
                raise ValueError(f"repeaters {e1[3]} and {e2[3]} overlap")
    return reps


# ----------------------------------------------------------------------------- rendering


def q(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text, ensure_ascii=False)


def uid_sort_key(uid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in uid.split("."))


def entry_src(e: Entry) -> str:
    return f"({q(e[0])}, {q(e[1])}, {q(e[2])}, {q(e[3])}, {e[4]})"


def header(title: str, version: str, edition: str, extra: str = "") -> str:
    return (
        f'"""{title}\n\n'
        "Generated by tools/gen_dictionary.py -- do not edit; rerun the generator instead.\n\n"
        f"Source: the data tables shipped with pydicom {version} (pydicom._dicom_dict and\n"
        "pydicom._uid_dict), generated by pydicom from the DICOM Standard\n"
        f"PS3.6 / PS3.7 edition {edition} (pydicom.__dicom_version__ = {edition!r}).\n"
        f"{extra}"
        '"""\n'
    )


def render_dictdata(
    version: str,
    edition: str,
    elements: dict[int, Entry],
    reps: list[Repeater],
    rep_tags: dict[str, int],
    uids: dict[str, UIDEntry],
) -> str:
    out = [
        header(
            "PS3.6 data dictionary, PS3.7 command elements and PS3.6 Annex A UIDs, as plain data.",
            version,
            edition,
            "\nELEMENTS: tag -> (VR, VM, Name, Keyword, retired). Ambiguous VRs are kept as in\n"
            'PS3.6 ("US or SS", "OB or OW", "US or SS or OW"); the item and delimiter tags have VR "NONE".\n'
            "REPEATERS: (mask, value, entry); a tag matches when ``tag & mask == value``.\n"
            "REPEATER_TAGS: repeating-group keyword -> base tag (the tag tags.py gives it).\n"
            "UIDS: uid -> (Name, Keyword, Type, retired).\n",
        ),
        "# fmt: off\n",
        "from __future__ import annotations\n\n",
        f"ELEMENTS: dict[int, tuple[str, str, str, str, bool]] = {{  # {len(elements)} entries\n",
    ]
    out += [f"    0x{tag:08X}: {entry_src(elements[tag])},\n" for tag in sorted(elements)]
    out.append("}\n\n")
    out.append(
        f"REPEATERS: tuple[tuple[int, int, tuple[str, str, str, str, bool]], ...] = (  # {len(reps)} entries\n"
    )
    out += [f"    (0x{m:08X}, 0x{v:08X}, {entry_src(e)}),\n" for m, v, e in reps]
    out.append(")\n\n")
    out.append("REPEATER_TAGS: dict[str, int] = {\n")
    out += [f"    {q(kw)}: 0x{t:08X},\n" for kw, t in sorted(rep_tags.items(), key=lambda kv: (kv[1], kv[0]))]
    out.append("}\n\n")
    out.append(f"UIDS: dict[str, tuple[str, str, str, bool]] = {{  # {len(uids)} entries\n")
    for uid in sorted(uids, key=uid_sort_key):
        name, kw, type_, retired = uids[uid]
        out.append(f"    {q(uid)}: ({q(name)}, {q(kw)}, {q(type_)}, {retired}),\n")
    out.append("}\n")
    out.append("# fmt: on\n")
    return "".join(out)


def render_constants(
    title: str, version: str, edition: str, imports: str, pairs: Iterable[tuple[str, str]], extra: str = ""
) -> str:
    pairs = list(pairs)
    out = [
        header(title, version, edition, extra),
        "\nfrom __future__ import annotations\n\n",
        "TYPE_CHECKING = False\n",
        "if TYPE_CHECKING:  # annotations only: importing typing here would slow the import down\n",
        "    from typing import Final\n\n",
        imports,
        "\n__all__ = [\n",
    ]
    out += [f"    {q(name)},\n" for name, _ in sorted(pairs)]
    out.append("]\n\n")
    out += [f"{name}: Final = {expr}\n" for name, expr in pairs]
    return "".join(out)


def check_identifier(name: str, cls: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name in RESERVED or name == cls:
        raise ValueError(f"keyword {name!r} cannot be a module-level constant")


def render_tags(version: str, edition: str, elements: dict[int, Entry], rep_tags: dict[str, int]) -> str:
    pairs: dict[str, int] = {}
    for tag in sorted(elements):
        kw = elements[tag][3]
        if kw:
            pairs[kw] = tag
    for kw, tag in rep_tags.items():
        pairs[kw] = tag
    for kw in pairs:
        check_identifier(kw, "Tag")
    ordered = sorted(pairs.items(), key=lambda kv: (kv[1], kv[0]))
    return render_constants(
        "One constant per PS3.6 data element keyword: ``tags.PatientName == Tag(0x00100010)``.",
        version,
        edition,
        "from dicomkit.tag import Tag\n",
        ((kw, f"Tag(0x{tag:08X})") for kw, tag in ordered),
        "\nRepeating-group keywords name their base tag, the first tag of the range that resolves\n"
        "to them: ``OverlayData`` is (6000,3000), ``CurveData`` is (5000,3000), ``EscapeTriplet``\n"
        "is (1000,0010).\n",
    )


def render_uids(version: str, edition: str, uids: dict[str, UIDEntry]) -> str:
    pairs = []
    for uid in sorted(uids, key=uid_sort_key):
        kw = uids[uid][1]
        if kw:
            check_identifier(kw, "UID")
            pairs.append((kw, f"UID({q(uid)})"))
    if len({kw for kw, _ in pairs}) != len(pairs):
        raise ValueError("duplicate UID keyword")
    return render_constants(
        "One constant per PS3.6 Annex A UID keyword: ``uids.CTImageStorage == '1.2.840.10008.5.1.4.1.1.2'``.",
        version,
        edition,
        "from dicomkit.uid import UID\n",
        pairs,
    )


# ----------------------------------------------------------------------------- DCMTK cross-check

#: DCMTK's internal pseudo-VRs, mapped to the PS3.6 notation.
DCMTK_VR = {
    "ox": "OB or OW",
    "px": "OB or OW",
    "xs": "US or SS",
    "lt": "US or SS or OW",
    "up": "UL",
    "na": "NONE",
}

_DIC_TAG = re.compile(
    r"\((?P<g1>[0-9A-F]{4})(?:-(?P<gp>[ou])?-?(?P<g2>[0-9A-F]{4}))?,"
    r"(?P<e1>[0-9A-F]{4})(?:-(?P<ep>[ou])?-?(?P<e2>[0-9A-F]{4}))?\)"
)


def parse_dcmtk(path: Path) -> tuple[str, list[tuple[int, int, bool, int, int, Entry]]]:
    """(edition line, [(g1, g2, odd_groups, e1, e2, entry)]) from a DCMTK ``dicom.dic``."""
    edition = ""
    rows = []
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("#"):
            if "Generated automatically from" in line:
                edition = line.lstrip("# ").strip()
            continue
        fields = line.split("\t")
        if len(fields) < 5:
            continue
        tagf, vr, kw, vm, version = (f.strip() for f in fields[:5])
        if version in ("GENERIC", "ILLEGAL", "PRIVATE"):
            continue  # group lengths / private creators: handled by rules in dicomkit.dictionary
        m = _DIC_TAG.fullmatch(tagf)
        if m is None:
            continue
        retired = version.endswith("/retired")
        kw = kw.removeprefix("RETIRED_")
        g1 = int(m["g1"], 16)
        g2 = int(m["g2"] or m["g1"], 16)
        e1 = int(m["e1"], 16)
        e2 = int(m["e2"] or m["e1"], 16)
        rows.append((g1, g2, m["gp"] == "o", e1, e2, (DCMTK_VR.get(vr, vr), vm, "", kw, retired)))
    return edition, rows


def resolve(tag: int, elements: dict[int, Entry], reps: list[Repeater]) -> Entry | None:
    e = elements.get(tag)
    if e is None and tag & 0xFFFF:
        e = next((r[2] for r in reps if tag & r[0] == r[1]), None)
    return e


def cross_check(
    path: Path, elements: dict[int, Entry], reps: list[Repeater], verbose: bool
) -> list[tuple[str, str]]:
    """Compare with DCMTK and print a summary; returns the (category, detail) differences."""
    if not path.is_file():
        print(f"cross-check skipped: {path} not found")
        return []
    edition, rows = parse_dcmtk(path)
    diffs: list[tuple[str, str]] = []
    seen: set[int] = set()
    for g1, g2, _odd, e1, e2, d in rows:
        # check the first and last tag of each range (DCMTK ranges step over even groups by default)
        groups = {g1, g2 if (g2 & 1) == (g1 & 1) else g2 - 1}
        samples = sorted({g << 16 | e for g in groups for e in {e1, e2}})
        for tag in samples:
            seen.add(tag)
            ours = resolve(tag, elements, reps)
            where = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {d[3]}"
            if ours is None:
                diffs.append(("only in DCMTK", where))
                continue
            if ours[3] != d[3]:
                diffs.append(("keyword", f"{where}: ours {ours[3]!r}"))
            if ours[0] != d[0]:
                diffs.append(("VR", f"{where}: ours {ours[0]!r}, DCMTK {d[0]!r}"))
            if ours[1] != d[1]:
                diffs.append(("VM", f"{where}: ours {ours[1]!r}, DCMTK {d[1]!r}"))
            if ours[4] != d[4]:
                diffs.append(("retired", f"{where}: ours {ours[4]}, DCMTK {d[4]}"))
    for tag in sorted(set(elements) - seen):
        diffs.append(("only in pydicom", f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {elements[tag][3]}"))
    print(f"cross-check against {path} ({edition or 'edition unknown'}): {len(rows)} DCMTK entries")
    categories: dict[str, list[str]] = {}
    for cat, detail in diffs:
        categories.setdefault(cat, []).append(detail)
    if not categories:
        print("  no differences")
    for cat in sorted(categories):
        items = categories[cat]
        print(f"  {cat}: {len(items)}")
        for detail in items if verbose else items[:8]:
            print(f"    {detail}")
        if not verbose and len(items) > 8:
            print(f"    ... {len(items) - 8} more (--verbose lists all)")
    return diffs


# ----------------------------------------------------------------------------- main


def generate(out_dir: Path) -> tuple[dict[int, Entry], list[Repeater], dict[str, UIDEntry], str, str]:
    version, edition, elements, raw_reps, uids = load_pydicom()
    reps = build_repeaters(raw_reps)
    rep_tags = base_tags(reps, elements)
    files = {
        "_dictdata.py": render_dictdata(version, edition, elements, reps, rep_tags, uids),
        "tags.py": render_tags(version, edition, elements, rep_tags),
        "uids.py": render_uids(version, edition, uids),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8", newline="\n")
    return elements, reps, uids, version, edition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)"
    )
    parser.add_argument(
        "--dcmtk", type=Path, default=DEFAULT_DCMTK, help="DCMTK dicom.dic to cross-check against"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the DCMTK cross-check")
    parser.add_argument("--verbose", action="store_true", help="list every difference")
    args = parser.parse_args(argv)
    elements, reps, uids, version, edition = generate(args.out_dir)
    print(
        f"wrote {args.out_dir}: {len(elements)} elements, {len(reps)} repeaters, {len(uids)} UIDs "
        f"(pydicom {version}, DICOM {edition})"
    )
    if not args.no_check:
        cross_check(args.dcmtk, elements, reps, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
