"""Import time of ``dicomkit`` (and, for reference, pydicom and dicomsdl).

Two measurements, each in fresh interpreters (after one untimed warm-up import
that also writes the ``.pyc`` files):

importtime  ``python -X importtime -c "import dicomkit"``: dicomkit's cumulative
            time from the report (median of ``--runs``, default 10); the
            heaviest direct imports under it are listed to show where time goes.
wall        wall time of ``python -c "import dicomkit"`` minus that of
            ``python -c pass`` (medians of ``--runs``, run alternately).

Target: both < 100 ms for dicomkit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
MODULES = ("dicomkit", "pydicom", "dicomsdl")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE", "PYTHONVERBOSE"):
        env.pop(var, None)
    return env


def parse_importtime(stderr: str, module: str) -> tuple[float, list[tuple[str, float]]]:
    """(cumulative µs of ``module``, its direct imports as (name, cumulative µs)).

    ``-X importtime`` prints ``import time: self | cumulative | name`` with children
    before their parent, nesting shown by two spaces of indentation per level.
    """
    rows: list[tuple[int, str, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line
        name_field = parts[2].rstrip()
        depth = (len(name_field) - len(name_field.lstrip(" ")) - 1) // 2
        rows.append((depth, name_field.strip(), float(parts[1])))
    for i, (depth, name, cumulative) in enumerate(rows):
        if name == module and depth == 0:
            children = []
            for d, n, c in reversed(rows[:i]):
                if d == 0:
                    break
                if d == 1:
                    children.append((n, c))
            children.sort(key=lambda x: -x[1])
            return cumulative, children
    raise ValueError(f"{module} not found in -X importtime output")


def importtime(module: str, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    warm = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    if warm.returncode != 0:
        lines = warm.stderr.strip().splitlines()
        return {"status": "error", "reason": lines[-1] if lines else f"exit {warm.returncode}"}
    samples = []
    children: list[tuple[str, float]] = []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=True)
        cumulative, kids = parse_importtime(proc.stderr, module)
        samples.append(cumulative / 1000)
        children = kids
    return {
        "status": "ok",
        "importtime_ms": round(statistics.median(samples), 2),
        "importtime_samples_ms": [round(s, 2) for s in samples],
        "heaviest_imports_ms": [(n, round(c / 1000, 2)) for n, c in children[:8]],
    }


def wall(modules: list[str], runs: int) -> dict[str, Any]:
    """Median wall ms of ``python -c 'import M'`` for each module and of ``python -c pass``."""
    scripts = {"pass": "pass", **{m: f"import {m}" for m in modules}}
    samples: dict[str, list[float]] = {k: [] for k in scripts}
    for _ in range(runs):
        for key, code in scripts.items():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=_env(), check=True)
            samples[key].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.median(v) for k, v in samples.items()}


def run(runs: int = 10, modules: tuple[str, ...] = MODULES, log: Any = None) -> dict[str, Any]:
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    out: dict[str, Any] = {"benchmark": "import", "runs": runs, "modules": {}, "checks": []}
    ok = []
    for m in modules:
        res = importtime(m, runs)
        out["modules"][m] = res
        if res["status"] == "ok":
            ok.append(m)
            log(f"import: {m} importtime {res['importtime_ms']} ms")
        else:
            log(f"import: {m} ERROR {res['reason']}")
    medians = wall(ok, runs)
    out["python_startup_ms"] = round(medians["pass"], 2)
    for m in ok:
        out["modules"][m]["wall_ms"] = round(medians[m] - medians["pass"], 2)
        log(f"import: {m} wall {out['modules'][m]['wall_ms']} ms over a {medians['pass']:.1f} ms startup")

    dk = out["modules"].get("dicomkit", {})
    for key, label in (("importtime_ms", "-X importtime cumulative"), ("wall_ms", "wall minus startup")):
        check: dict[str, Any] = {
            "name": f"import dicomkit ({label})",
            "target": f"< {TARGET_MS:g} ms",
            "unit": "ms",
            "value": dk.get(key),
            "per_reader_unit": "ms",
            "per_reader": {m: r.get(key) for m, r in out["modules"].items()},
        }
        if dk.get("status") != "ok":
            check.update(status="FAIL", note=dk.get("reason"))
        else:
            check["status"] = "PASS" if dk[key] < TARGET_MS else "FAIL"
        out["checks"].append(check)
    return out


def print_report(out: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Import time (median of {out['runs']}; startup {out['python_startup_ms']} ms)")
    for col in ("module", "importtime ms", "wall - startup ms", "heaviest direct imports (ms)"):
        table.add_column(
            col, justify="left" if col in ("module", "heaviest direct imports (ms)") else "right"
        )
    for m, r in out["modules"].items():
        if r["status"] != "ok":
            table.add_row(m, "-", "-", f"error: {r['reason']}")
            continue
        heavy = ", ".join(f"{n} {c:g}" for n, c in r["heaviest_imports_ms"][:5])
        table.add_row(m, f"{r['importtime_ms']:.1f}", f"{r['wall_ms']:.1f}", heavy)
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']} {c['unit']}"
        console.print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="interpreter launches per measurement (default 10)")
    parser.add_argument("--quick", action="store_true", help="5 runs")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    out = run(runs=args.runs or (5 if args.quick else 10))
    out["quick"] = bool(args.quick)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    print_report(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
