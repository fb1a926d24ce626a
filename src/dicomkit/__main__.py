"""``python -m dicomkit``: the same as the ``dicomkit`` command."""

from __future__ import annotations

from dicomkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
