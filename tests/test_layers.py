"""Guards for the package's shape: light import, an explicit facade, and import contracts kept up to date.

The import-linter contracts in pyproject.toml check the static import graph (``make lint``); the tests here
check what really happens at run time and that the contracts keep covering every module.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import dicomkit

# Optional or UI dependencies that `import dicomkit` must never pull in.
HEAVY = ("numpy", "starlette", "uvicorn", "psycopg", "rich")

# Top-level modules allowed to import HEAVY (lazily, inside themselves): everything else is "core".
EXEMPT_FROM_CORE = frozenset({"cli", "__main__", "pixels", "web", "server", "archive"})

# The facade promised by docs/ARCHITECTURE ("__init__.py  facade: read, write, Dataset, ...").
DOCUMENTED_FACADE = frozenset(
    {"read", "write", "Dataset", "DataElement", "Sequence", "Tag", "VR", "UID", "tags", "uids", "errors"}
)

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

_PROBE = "import json, sys; import dicomkit; print(json.dumps(sorted(sys.modules)))"


def _importers(importtime_log: str, module: str) -> list[str]:
    """The chain of imports that led to ``module``, read from ``-X importtime`` output.

    importtime prints a module after its children, each indented by its nesting depth, so the
    importer of a line is the next line below it that is indented less.
    """
    rows = []
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name_field = line.rsplit("|", 1)[1]
        name = name_field.strip()
        if name == "imported package":
            continue
        rows.append((len(name_field) - len(name_field.lstrip()), name))
    exact = [i for i, (_, name) in enumerate(rows) if name == module]
    inside = [i for i, (_, name) in enumerate(rows) if name.startswith(module + ".")]
    if not exact + inside:
        return []
    first = (exact + inside)[0]
    depth, name = rows[first]
    chain = [name]
    for later_depth, later_name in rows[first + 1 :]:
        if later_depth < depth:
            chain.append(later_name)
            depth = later_depth
    return chain[::-1]


def _heavy_imports(code: str, cwd: Path) -> tuple[list[str], dict[str, str]]:
    """Run ``code`` (which must print ``json.dumps(sorted(sys.modules))`` last) in a fresh interpreter.

    Returns the HEAVY packages it loaded and, for each, the import chain that loaded it.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    errors = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    assert proc.returncode == 0, f"the import probe failed:\n{errors[-4000:]}"
    loaded_roots = {name.partition(".")[0] for name in json.loads(proc.stdout.strip().splitlines()[-1])}
    offenders = sorted(set(HEAVY) & loaded_roots)
    return offenders, {name: " -> ".join(_importers(proc.stderr, name)) for name in offenders}


def test_import_dicomkit_does_not_import_heavy_dependencies(tmp_path: Path) -> None:
    offenders, chains = _heavy_imports(_PROBE, tmp_path)
    assert not offenders, f"`import dicomkit` imported {offenders}; import chains: {chains}"


def test_facade_all_names_exist() -> None:
    assert "__all__" in vars(dicomkit), "dicomkit/__init__.py must define an explicit __all__"
    names = list(dicomkit.__all__)
    assert len(names) == len(set(names)), f"duplicates in dicomkit.__all__: {names}"
    missing = [name for name in names if not hasattr(dicomkit, name)]
    assert not missing, f"dicomkit.__all__ names that do not exist: {missing}"

    namespace: dict[str, object] = {}
    exec("from dicomkit import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == set(names)


def test_facade_exports_the_documented_names() -> None:
    exported = set(getattr(dicomkit, "__all__", ()))
    missing = sorted(DOCUMENTED_FACADE - exported)
    assert not missing, f"missing from dicomkit.__all__: {missing}"


def _top_level_modules() -> set[str]:
    return {info.name for info in pkgutil.iter_modules(dicomkit.__path__)}


def _forbidden_contract() -> dict[str, list[str]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    for contract in contracts:
        if contract["type"] == "forbidden" and "numpy" in contract["forbidden_modules"]:
            return dict(contract)
    pytest.fail("pyproject.toml has no import-linter forbidden contract for numpy & co.")


def test_forbidden_contract_covers_every_core_module() -> None:
    contract = _forbidden_contract()
    assert set(HEAVY) <= set(contract["forbidden_modules"])
    listed = {name.removeprefix("dicomkit.") for name in contract["source_modules"]}
    core = _top_level_modules() - EXEMPT_FROM_CORE
    unlisted = sorted(core - listed)
    assert not unlisted, (
        f"add {['dicomkit.' + name for name in unlisted]} to the forbidden contract's source_modules in "
        "pyproject.toml (or, if it may use optional dependencies, to EXEMPT_FROM_CORE here)"
    )
    exempt_listed = sorted(listed & EXEMPT_FROM_CORE)
    assert not exempt_listed, f"{exempt_listed} may import optional dependencies: not core"


def test_core_modules_do_not_import_heavy_dependencies_at_run_time(tmp_path: Path) -> None:
    """Catches what the static contract cannot see (importlib, plugins): import every core module."""
    core = []
    for info in pkgutil.iter_modules(dicomkit.__path__, prefix="dicomkit."):
        if info.name.removeprefix("dicomkit.") in EXEMPT_FROM_CORE:
            continue
        core.append(info.name)
        if info.ispkg:
            package = importlib.import_module(info.name)
            core += [sub.name for sub in pkgutil.walk_packages(package.__path__, prefix=info.name + ".")]
    probe = (
        "import importlib, json, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    offenders, chains = _heavy_imports(probe, tmp_path)
    assert not offenders, f"core modules imported {offenders}; import chains: {chains}"
