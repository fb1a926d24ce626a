"""dicomkit.model.findings: the value rules (PS3.5 9.1 UIDs, 6.2 DA/TM/DT) and Modality terms."""

from __future__ import annotations

import pytest

from dicomkit.model.findings import (
    MODALITIES,
    RETIRED_MODALITIES,
    is_valid_da,
    is_valid_dt,
    is_valid_tm,
    uid_problem,
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1.2.840.10008.1.2", None),
        ("0.1", None),
        ("1.02", "has a component with a leading zero"),
        ("1..2", "has an empty component"),
        ("1.2.", "has an empty component"),
        ("1.2a", "has characters other than digits and dots"),
        ("", "is empty"),
        ("1." * 32 + "1", "is 65 characters long (at most 64)"),
    ],
)
def test_uid_problem(value: str, problem: str | None) -> None:
    assert uid_problem(value) == problem


@pytest.mark.parametrize(
    ("value", "ok"),
    [("20240229", True), ("20230229", False), ("20241301", False), ("2024-01-01", False), ("1997.04.24", False),
     ("", True), ("2024011", False)],
)  # fmt: skip
def test_da(value: str, ok: bool) -> None:
    assert is_valid_da(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("09", True), ("0930", True), ("093012", True), ("093012.123456", True), ("235960", True),
     ("24", False), ("0960", False), ("14:04:38", False), ("093012.1234567", False), ("9", False)],
)  # fmt: skip
def test_tm(value: str, ok: bool) -> None:
    assert is_valid_tm(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2024", True), ("202403", True), ("20240311093012.5+0100", True), ("20240311-1200", True),
     ("20241301", False), ("2024031125", False), ("20240311+1500", False), ("20240311+0160", False)],
)  # fmt: skip
def test_dt(value: str, ok: bool) -> None:
    assert is_valid_dt(value) is ok


def test_modalities() -> None:
    assert {"CT", "MR", "US", "CR", "DX", "MG", "XA", "NM", "PT", "SR", "SEG", "OT"} <= MODALITIES
    assert not MODALITIES & RETIRED_MODALITIES
