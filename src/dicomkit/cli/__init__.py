"""The ``dicomkit`` command line.

::

    dicomkit dump [--json] [--all] [--stop-before-pixels] [--strict] [--charset TERM] FILE...
    dicomkit tree [--json] [--instances] [--level LEVEL] [--findings] [--verbose] PATH...
    dicomkit check [--json] PATH...
    dicomkit convert IN... (-o OUT | --out-dir DIR) --transfer-syntax SYNTAX [codec options]
    dicomkit modify FILE... [-s PATH=VALUE]... [-d PATH]... [-o OUT]
    dicomkit json2dcm IN.json OUT.dcm [--transfer-syntax SYNTAX]
    dicomkit render FILE... [-o OUT.png|.jpg] [--frame N] [--window C W] [--montage] [--columns N]
    dicomkit export-nifti INPUT... OUT.nii[.gz] [--series UID] [--allow-irregular]
    dicomkit import PATH... [--archive DIR] [--database URL] [--link] [--duplicates POLICY] [--report FILE]
    dicomkit query [--level LEVEL] KEY=VALUE... [-r KEY]... [--limit N] [--offset N] [--fuzzy] [--json]
    dicomkit export KEY=VALUE... --to DIR
    dicomkit delete --level LEVEL UID
    dicomkit archive stats|verify [--repair] [--json]
    dicomkit demo [--dir DIR] [--archive DIR]

``main(argv)`` parses the arguments, runs one subcommand and returns the exit status:
0 when everything worked, 1 when a file could not be read (each such file is reported on
stderr as one line ``dicomkit: FILE: what is wrong (tag (gggg,eeee), offset N)``; the other
files are still processed), 2 for a usage error. Fix-ups the reader made are printed as
``warning: FILE: ...`` lines on stderr (``dump --quiet`` hides them).

rich is used here only (the tree and colours); the subcommands live in
:mod:`dicomkit.cli.dump`, :mod:`dicomkit.cli.tree`, :mod:`dicomkit.cli.check` and :mod:`dicomkit.cli.demo`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from dicomkit.errors import DecodeError, DicomError, InvalidDicomError
from dicomkit.tag import Tag

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Output", "describe_error", "main"]

#: One printed line: (text, rich style) segments.
Segments = list[tuple[str, str]]


class Output:
    """Where a command prints: stdout (optionally in colour through rich) and stderr."""

    def __init__(
        self,
        *,
        color: str = "auto",
        quiet: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.quiet = quiet
        if color == "auto":
            isatty = getattr(self.stdout, "isatty", None)
            self.color = bool(isatty and isatty()) and not os.environ.get("NO_COLOR")
        else:
            self.color = color == "always"
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """A rich console on stdout: colours only when wanted, never wrapping a piped line."""
        if self._console is None:
            from rich.console import Console

            width = None if self.color and getattr(self.stdout, "isatty", lambda: False)() else 100_000
            self._console = Console(
                file=self.stdout,
                highlight=False,
                force_terminal=self.color,
                no_color=not self.color,
                width=width,
                soft_wrap=False,
            )
        return self._console

    def line(self, segments: Segments) -> None:
        """One line made of styled segments (plain text unless colour is on)."""
        if not self.color:
            self.stdout.write("".join(text for text, _ in segments) + "\n")
            return
        from rich.text import Text

        self.console.print(Text.assemble(*segments), soft_wrap=True)

    def text(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def error(self, path: str, message: str) -> None:
        self.stdout.flush()
        self.stderr.write(f"dicomkit: {path}: {message}\n")
        self.stderr.flush()

    def warning(self, path: str, message: str) -> None:
        if not self.quiet:
            self.stdout.flush()
            self.stderr.write(f"warning: {path}: {message}\n")
            self.stderr.flush()


def describe_error(exc: BaseException, path: str) -> str:
    """One line saying what is wrong with ``path``, with the tag and offset when known."""
    if isinstance(exc, InvalidDicomError | DecodeError):
        reason = exc.reason
        for prefix in (f"{path}: ", f"{os.path.abspath(path)}: "):
            reason = reason.removeprefix(prefix)
        where = []
        if exc.tag is not None:
            where.append(f"tag {Tag(exc.tag)}")
        if exc.offset is not None:
            where.append(f"offset {exc.offset}")
        return f"{reason} ({', '.join(where)})" if where else reason
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, DicomError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc} (please report this as a dicomkit bug)"


# ---------------------------------------------------------------------------------------
# argument parsing


def _dump(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import dump

    return dump.run(args, out)


def _tree(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import tree

    return tree.run(args, out)


def _check(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import check

    return check.run(args, out)


def _modify(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import modify

    return modify.run(args, out)


def _json2dcm(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import json2dcm

    return json2dcm.run(args, out)


def _syntax(text: str) -> object:
    from dicomkit.cli.convert import parse_transfer_syntax

    return parse_transfer_syntax(text)


def _demo(args: argparse.Namespace, out: Output) -> int:
    from dicomkit.cli import demo

    return demo.run(args, out)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 8:
        raise argparse.ArgumentTypeError("the width must be at least 8")
    return n


#: Modules that add their own subcommands: each has ``register(subparsers, common_parent)``, which adds
#: its parsers with ``set_defaults(run=...)`` and imports nothing heavy until a command runs.
_COMMAND_MODULES: tuple[str, ...] = (
    "dicomkit.cli.convert",
    "dicomkit.cli.render",
    "dicomkit.cli.archive_cmd",
    "dicomkit.cli.export_nifti",
)


def _parser() -> argparse.ArgumentParser:
    from dicomkit import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output: auto (on a terminal, unless NO_COLOR is set), always or never",
    )
    common.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="dicomkit",
        description="dicomkit: a DICOM toolkit. Inspect DICOM files from the command line.",
        epilog="Run 'dicomkit demo' to write a small sample and see dump and tree at work.",
    )
    parser.add_argument("--version", action="version", version=f"dicomkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "dump",
        parents=[common],
        help="print the data elements of DICOM files",
        description=(
            "Print the File Meta Information and the data set of each FILE, one element per line "
            "in the manner of DCMTK's dcmdump: tag, VR, value, then '# length, VM keyword'. "
            "With --json, print one DICOM JSON Model object (PS3.18 F.2) per file and line. "
            "A file that cannot be read is reported on stderr and makes the exit status 1; "
            "a truncated file is dumped as far as it goes and reported the same way. "
            "FILE '-' reads standard input."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--json", action="store_true", help="print the DICOM JSON model, one compact object per line"
    )
    p.add_argument("--all", action="store_true", help="print values in full instead of cutting them")
    p.add_argument(
        "--width", type=_positive, default=80, metavar="N", help="cut values to N columns (default: 80)"
    )
    p.add_argument("--stop-before-pixels", action="store_true", help="do not read the pixel data")
    p.add_argument("--strict", action="store_true", help="treat every fix-up of malformed data as an error")
    p.add_argument(
        "--charset",
        metavar="TERM",
        help="decode text with this Specific Character Set (e.g. 'ISO_IR 100'; backslash-separated "
        "for several) instead of the file's (0008,0005)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    p.set_defaults(run=_dump)

    p = sub.add_parser(
        "tree",
        parents=[common],
        help="show the patient / study / series / instance hierarchy of files and folders",
        description=(
            "Read the header of every file under each PATH (folders recursively; several processes "
            "on large inputs) and show patients, studies, series and, with --instances, instances. "
            "Findings (conflicting patient data, duplicate UIDs, malformed values, missing slices, "
            "...) are summarised at the end. Files that are not DICOM are skipped and counted. "
            "Exit status 0 when there is no finding, 1 when there are findings."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print the hierarchy (and findings) as JSON")
    p.add_argument("--instances", action="store_true", help="list the instances too (= --level instance)")
    p.add_argument(
        "--level",
        choices=("patient", "study", "series", "instance"),
        help="the lowest level shown (default: series)",
    )
    p.add_argument("--findings", action="store_true", help="list every finding, not only their count")
    p.add_argument("-v", "--verbose", action="store_true", help="list skipped files and reading warnings")
    p.set_defaults(run=_tree)

    p = sub.add_parser(
        "check",
        parents=[common],
        help="list the findings about files and folders, one per line",
        description=(
            "Read every file under each PATH like 'dicomkit tree' and print only the findings, "
            "one per line ('kind level uid: message'; --json: one JSON object per line). "
            "Exit status 0 when there is no finding, 1 when there are findings."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per finding and line")
    p.set_defaults(run=_check, verbose=False)

    syntax_help = "implicit, explicit, big-endian, deflated or a transfer syntax UID"

    p = sub.add_parser(
        "modify",
        parents=[common],
        help="insert, replace or delete data elements (like DCMTK's dcmodify)",
        description=(
            "Apply the -s and -d modifications, in order, to each FILE and rewrite it in place "
            "atomically (or to -o OUT), in its own transfer syntax. PATH: Keyword, (gggg,eeee) "
            "or nested 'Seq[0].Keyword' (missing sequences are created, and an item when the "
            "index is one past the last). VALUE is converted for the VR; a backslash separates "
            "values. A new private element needs its VR after the tag, '(0009,1001)LO=x', and "
            "its Private Creator in the data set (or set before it: -s '(0009,0010)=ACME'). "
            "On a bad path, keyword or value the file is left untouched and the exit status is 1."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "-s",
        "--set",
        dest="edits",
        action="append",
        type=lambda text: ("s", text),
        metavar="PATH=VALUE",
        help="insert or replace an element",
    )
    p.add_argument(
        "-d",
        "--delete",
        dest="edits",
        action="append",
        type=lambda text: ("d", text),
        metavar="PATH",
        help="delete an element (or the item PATH[n])",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of in place (one FILE)")
    p.set_defaults(run=_modify)

    p = sub.add_parser(
        "json2dcm",
        parents=[common],
        help="write a DICOM file from the DICOM JSON model",
        description=(
            "Read one DICOM JSON Model object (PS3.18 F.2) from IN ('-': standard input), e.g. "
            "the output of 'dicomkit dump --json FILE', and write it as a DICOM file OUT. "
            "Group 0002 elements become the File Meta Information."
        ),
    )
    p.add_argument("input", metavar="IN.json")
    p.add_argument("output", metavar="OUT.dcm")
    p.add_argument(
        "-t",
        "--transfer-syntax",
        type=_syntax,
        default=None,
        metavar="SYNTAX",
        help=syntax_help + " (default: the JSON's (0002,0010), else explicit)",
    )
    p.set_defaults(run=_json2dcm)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="write a small sample into .dicomkit-sample/, show it and index it in an archive",
        description=(
            "Write a small synthetic sample (2 patients, 3 studies, 5 series, 24 CT and MR images) "
            "into DIR, then run 'dicomkit dump' on one file and 'dicomkit tree' on DIR, then "
            "'import --link' it into DIR/archive and show 'archive stats' and a study-level 'query'. "
            "Running it again rewrites the same files (each one atomically) and imports nothing new."
        ),
    )
    p.add_argument(
        "--dir", default=".dicomkit-sample", help="where to write the sample (default: %(default)s)"
    )
    p.add_argument(
        "--archive",
        metavar="DIR",
        help="the archive the sample is indexed in (default: DIR/archive, inside the sample folder)",
    )
    p.set_defaults(run=_demo)
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(sub, common)
    return parser


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 2


def main(argv: list[str] | None = None) -> int:
    """Run the ``dicomkit`` command line with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    _tolerant_streams()
    out = Output(color=args.color, quiet=getattr(args, "quiet", False))
    command: Callable[[argparse.Namespace, Output], int] = args.run
    try:
        return command(args, out)
    except KeyboardInterrupt:
        out.stderr.write("dicomkit: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `dicomkit dump x | head`): stop quietly
        _silence_stdout()
        return 141


def _tolerant_streams() -> None:
    """Never fail on a character the terminal's encoding cannot show: escape it instead."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # pragma: no cover - not a real file
        pass
