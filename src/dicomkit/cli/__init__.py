"""The ``dicomkit`` command line.

::

    dicomkit dump [--json] [--all] [--stop-before-pixels] [--strict] [--charset TERM] FILE...
    dicomkit tree [--json] [--verbose] PATH...
    dicomkit demo [--dir DIR]

``main(argv)`` parses the arguments, runs one subcommand and returns the exit status:
0 when everything worked, 1 when a file could not be read (each such file is reported on
stderr as one line ``dicomkit: FILE: what is wrong (tag (gggg,eeee), offset N)``; the other
files are still processed), 2 for a usage error. Fix-ups the reader made are printed as
``warning: FILE: ...`` lines on stderr (``dump --quiet`` hides them).

rich is used here only (the tree and colours); the subcommands live in
:mod:`dicomkit.cli.dump`, :mod:`dicomkit.cli.tree` and :mod:`dicomkit.cli.demo`.
"""

from __future__ import annotations

import argparse
import contextlib
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
        help="show the patient / study / series hierarchy of files and folders",
        description=(
            "Read every file under each PATH (folders recursively, pixel data skipped) and show "
            "patients, their studies and the studies' series with the number of instances. "
            "Files that are not DICOM are skipped and counted."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print the hierarchy as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="list skipped files and reading warnings")
    p.set_defaults(run=_tree)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="write a small sample into .dicomkit-sample/ and run dump and tree on it",
        description=(
            "Write a small synthetic sample (2 patients, 3 studies, 5 series, 24 CT and MR images) "
            "into DIR, then run 'dicomkit dump' on one file and 'dicomkit tree' on DIR. Running it "
            "again rewrites the same files (each one atomically)."
        ),
    )
    p.add_argument(
        "--dir", default=".dicomkit-sample", help="where to write the sample (default: %(default)s)"
    )
    p.set_defaults(run=_demo)
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
