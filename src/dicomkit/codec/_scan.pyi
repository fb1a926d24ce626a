"""Type stubs of the reader's optional C scanner (src/dicomkit/codec/_scan.c)."""

from typing import Any

def explicit(
    buf: bytes, pos: int, lim: int, little: bool, stop: int, last: int, lazy_sq: bool, d: dict[int, Any], /
) -> tuple[int, int]: ...
def implicit(
    buf: bytes,
    pos: int,
    lim: int,
    little: bool,
    stop: int,
    last: int,
    sq_tags: frozenset[int],
    sq_rules: tuple[tuple[int, int], ...],
    d: dict[int, Any],
    /,
) -> tuple[int, int]: ...
