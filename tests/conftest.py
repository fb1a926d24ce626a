"""Shared fixtures for the whole test suite.

Only fixtures used by several test modules live here; module-specific helpers stay in their module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

try:
    import pydicom.data.download as _pydicom_download
except ImportError:  # pragma: no cover - pydicom is in the dev group, but keep collection working without it
    pass
else:
    # Never let pydicom fetch its optional online test files: tests use only what is installed.
    _pydicom_download._SIMULATE_NETWORK_OUTAGE = True

# Files under the pydicom data folders that are not DICOM files.
_NOT_DICOM_SUFFIXES = frozenset({".txt", ".json", ".dump", ".icc", ".gz", ".py", ".pyc", ".md"})
_NOT_DICOM_NAMES = frozenset({"README", "LICENSE", "__init__.py"})


def _dicom_files_under(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.name not in _NOT_DICOM_NAMES
        and path.suffix.lower() not in _NOT_DICOM_SUFFIXES
    )


@pytest.fixture(scope="session")
def pydicom_test_files() -> list[Path]:
    """Every (presumed) DICOM file shipped with the installed pydicom and pydicom-data packages.

    Read in place from site-packages, never copied into the repository and never downloaded. Includes
    files without an extension (DICOMDIR test trees) and deliberately malformed files, so a test that
    expects success must tolerate or filter the known-bad ones.
    """
    pytest.importorskip("pydicom")
    from pydicom.data.data_manager import DATA_ROOT

    roots = [Path(DATA_ROOT) / "test_files"]
    try:
        from data_store import DataStore  # the pydicom-data package
    except ImportError:
        pass
    else:
        roots.append(Path(DataStore().data_path))

    files = [path for root in roots if root.is_dir() for path in _dicom_files_under(root)]
    if not files:
        pytest.skip(f"no pydicom test files found under {[str(r) for r in roots]}")
    return files


@pytest.fixture(scope="session")
def dcmtk_available() -> bool:
    """True when DCMTK's command-line tools (dcmdump, dcmconv, dump2dcm, storescu, ...) are on PATH."""
    return shutil.which("dcmdump") is not None


@pytest.fixture(scope="session")
def dciodvfy_available() -> bool:
    """True when dicom3tools' IOD verifier ``dciodvfy`` is on PATH."""
    return shutil.which("dciodvfy") is not None
