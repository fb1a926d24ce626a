"""Shared by the CLI tests: run ``dicomkit`` in-process, and find pydicom's test files."""

from __future__ import annotations

import pytest

from dicomkit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``dicomkit ARGS``."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def data_file(name: str) -> str:
    """A file shipped with pydicom (never downloaded)."""
    from pydicom.data import get_charset_files, get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        found = get_charset_files(name)
        path = found[0] if found else None
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)
