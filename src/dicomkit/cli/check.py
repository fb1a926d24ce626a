"""``dicomkit check``: only the findings about files and folders, one line each.

``kind level uid: message`` per finding (``--json``: one JSON object per line with kind,
level, uids, message and paths). Exit status 0 when there is no finding, 1 when there are
findings or a PATH does not exist.
"""

from __future__ import annotations

import argparse
import json

from dicomkit.cli import Output
from dicomkit.cli.tree import scan

__all__ = ["run"]


def run(args: argparse.Namespace, out: Output) -> int:
    h = scan(args.paths, out)
    for f in h.findings:
        if args.json:
            out.text(json.dumps(f.to_json(), ensure_ascii=False))
        else:
            out.text(f.line())
    return 1 if h.missing or h.findings else 0
