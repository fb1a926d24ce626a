"""The README's library tour runs as a doctest against the sample that `dicomkit demo` writes."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from dicomkit.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _tour() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README has no python blocks"
    return "\n".join(blocks)


def test_readme_tour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    capsys.readouterr()
    test = doctest.DocTestParser().get_doctest(_tour(), {}, "README", str(README), 0)
    assert test.examples, "the tour has no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, capsys.readouterr().out
