"""``dicomkit tree`` and ``dicomkit check``: the information model of files and folders.

Both build a :class:`dicomkit.model.Hierarchy` (headers only; several processes on large
inputs) with a progress bar on stderr when it is a terminal. ``tree`` prints patients →
studies → series (→ instances) as a rich tree, or the whole hierarchy as JSON, then a summary
of the findings; ``check`` (:mod:`dicomkit.cli.check`) prints only the findings. The exit
status is 0 when there is no finding, 1 when there are findings or a PATH does not exist.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dicomkit.cli import Output
from dicomkit.model import Hierarchy, Instance, Patient, Series, Study

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["LEVELS", "print_tree", "run", "scan"]

LEVELS = ("patient", "study", "series", "instance")
_PLURALS = {"study": "studies", "series": "series"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else _PLURALS.get(word, word + 's')}"


@contextmanager
def _progress(out: Output) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while scanning, when stderr is a terminal."""
    isatty = getattr(out.stderr, "isatty", None)
    if not (isatty and isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=out.stderr, no_color=not out.color)
    # no refresh thread: the scan may fork worker processes
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task("reading", total=None)
        last = [0.0]

        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or done == total:
                last[0] = now
                bar.update(task, completed=done, total=total)
                bar.refresh()

        yield update


def scan(paths: list[str], out: Output) -> Hierarchy:
    """Build the hierarchy of ``paths``, reporting PATHs that do not exist on stderr."""
    with _progress(out) as progress:
        h = Hierarchy.from_paths(paths, progress=progress)
    for path in h.missing:
        out.error(path, "no such file or directory")
    return h


def _date(da: str) -> str:
    if len(da) == 8 and da.isdigit():
        return f"{da[:4]}-{da[4:6]}-{da[6:]}"
    return da


def _time(tm: str) -> str:
    if len(tm) >= 4 and tm[:4].isdigit():
        return f"{tm[:2]}:{tm[2:4]}" + (f":{tm[4:6]}" if len(tm) >= 6 else "")
    return tm


def _label(*parts: tuple[str, str]) -> Text:
    from rich.text import Text

    return Text.assemble(*[p for p in parts if p[0]])


def _patient(p: Patient) -> Text:
    return _label(
        ("Patient ", "bold"),
        (p.name or "(no name)", "green"),
        ("  ID ", ""),
        (p.patient_id or "(none)", "cyan"),
        ("  born " if p.birth_date else "", ""),
        (_date(p.birth_date), "yellow"),
        ("  sex " if p.sex else "", ""),
        (p.sex, "cyan"),
    )


def _study(st: Study) -> Text:
    when = " ".join(x for x in (_date(st.date), _time(st.time)) if x) or "(no date)"
    return _label(
        ("Study ", "bold"),
        (when, "yellow"),
        ("  ", ""),
        (st.description or "(no description)", ""),
        ("  accession " if st.accession_number else "", ""),
        (st.accession_number, "cyan"),
        ("  ID " if st.study_id else "", ""),
        (st.study_id, "cyan"),
        ("  referring " if st.referring_physician else "", ""),
        (st.referring_physician, ""),
        ("  ", ""),
        (st.uid or "(no Study Instance UID)", "dim"),
    )


def _series(se: Series) -> Text:
    return _label(
        ("Series ", "bold"),
        ("?" if se.number is None else str(se.number), "cyan"),
        ("  ", ""),
        (se.modality or "??", "magenta"),
        ("  ", ""),
        (se.description or "(no description)", ""),
        ("  " if se.body_part else "", ""),
        (se.body_part, "green"),
        ("  ", ""),
        (_plural(len(se), "instance"), "yellow"),
    )


def _instance(i: Instance) -> Text:
    return _label(
        ("Instance ", "bold"),
        ("?" if i.number is None else str(i.number), "cyan"),
        ("  ", ""),
        (i.uid, "dim"),
        ("  ", ""),
        (i.path, ""),
    )


def print_tree(h: Hierarchy, out: Output, title: str, level: str = "series") -> None:
    """The hierarchy as a rich Tree, down to ``level``."""
    from rich.text import Text
    from rich.tree import Tree

    depth = LEVELS.index(level)
    c = h.counts
    root = Tree(
        Text.assemble(
            (title, "bold"),
            f": {_plural(c.patients, 'patient')}, {_plural(c.studies, 'study')}, "
            f"{_plural(c.series, 'series')}, {_plural(c.instances, 'instance')}",
        ),
        guide_style="dim",
    )
    for p in h:
        p_node = root.add(_patient(p))
        if depth < 1:
            continue
        for st in p:
            st_node = p_node.add(_study(st))
            if depth < 2:
                continue
            for se in st:
                se_node = st_node.add(_series(se))
                if depth < 3:
                    continue
                for i in se:
                    se_node.add(_instance(i))
    out.console.print(root)


def _summary(h: Hierarchy, out: Output, *, list_all: bool) -> None:
    if h.findings:
        if list_all:
            out.line([(_plural(len(h.findings), "finding") + ":", "bold red")])
            for f in h.findings:
                out.text(f"  {f.line()}")
        else:
            kinds = Counter(str(f.kind) for f in h.findings)
            detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            out.line(
                [
                    (_plural(len(h.findings), "finding"), "bold red"),
                    (f": {detail}; --findings lists {'it' if len(h.findings) == 1 else 'them'}", ""),
                ]
            )
    else:
        out.text("no findings")


def run(args: argparse.Namespace, out: Output) -> int:
    paths: list[str] = args.paths
    level = getattr(args, "level", None) or ("instance" if getattr(args, "instances", False) else "series")
    h = scan(paths, out)
    if getattr(args, "json", False):
        data = h.to_json(level=level)
        out.text(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        title = paths[0] if len(paths) == 1 else f"{len(paths)} paths"
        print_tree(h, out, title, level)
        _summary(h, out, list_all=getattr(args, "findings", False))
        if h.skipped:
            n = len(h.skipped)
            hint = "" if args.verbose else f"; --verbose lists {'it' if n == 1 else 'them'}"
            out.text(f"skipped {_plural(n, 'file')}: not DICOM, unreadable or not an instance{hint}")
    if args.verbose:
        for path, reason in h.skipped:
            out.stderr.write(f"skipped: {path}: {reason}\n")
        for path, message in h.warnings:
            out.warning(path, message)
        if h.warning_count > len(h.warnings):
            out.stderr.write(f"warning: {h.warning_count - len(h.warnings)} more warnings not shown\n")
    return 1 if h.missing or h.findings else 0
