"""Run every dicomkit benchmark and print a summary table with PASS/FAIL per target.

Each benchmark runs in its own interpreter (``bench_import.py``, ``bench_read.py``,
``bench_memory.py``, then ``bench_write.py``, ``bench_pixels.py`` and ``bench_tree.py``
when present, in that order) and hands its results back as JSON; progress goes to
stderr.  ``make bench`` runs this script.

    python benchmarks/run_all.py                 # full run (~1,200-file corpus, 1 GB file)
    python benchmarks/run_all.py --quick         # 120 files, 3 rounds, 100 MB file
    python benchmarks/run_all.py --json out.json
    python benchmarks/run_all.py --only read --dicomkit-impl pydicom:dcmread   # harness self-test
    python benchmarks/run_all.py --only write --only pixels --only tree

Statuses: PASS / FAIL against the target; PENDING while ``dicomkit.read`` does not
exist; SKIP when the peer a ratio needs could not be measured.  The exit status is
0 unless a benchmark crashed, or ``--check`` is given and a target is not PASS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: bench_write.py, bench_pixels.py and bench_tree.py run only where they exist.
OPTIONAL = ("write", "pixels", "tree", "archive")
BENCHMARKS = ("import", "read", "memory", *(b for b in OPTIONAL if (HERE / f"bench_{b}.py").exists()))
READERS = ("dicomkit", "pydicom", "dicomsdl")
STYLE = {"PASS": "bold green", "FAIL": "bold red", "PENDING": "yellow", "SKIP": "dim", "ERROR": "bold red"}


def machine_info() -> dict[str, Any]:
    from importlib import metadata

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    os_name = platform.platform()
    try:
        info = platform.freedesktop_os_release()
        os_name = f"{info.get('PRETTY_NAME', os_name)} ({platform.machine()})"
    except OSError:
        pass
    packages = {}
    for dist in READERS:
        try:
            packages[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            packages[dist] = "not installed"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "os": os_name,
        "python": platform.python_version(),
        "packages": packages,
    }


def run_one(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out_json = tmp / f"{name}.json"
    cmd = [sys.executable, str(HERE / f"bench_{name}.py"), "--json", str(out_json)]
    if args.quick:
        cmd.append("--quick")
    if args.dicomkit_impl and name in ("read", "memory"):
        cmd += ["--dicomkit-impl", args.dicomkit_impl]
    if name in ("read", "write"):
        if args.corpus_dir:
            cmd += ["--corpus-dir", str(args.corpus_dir)]
        if args.files:
            cmd += ["--files", str(args.files)]
        if args.rounds:
            cmd += ["--rounds", str(args.rounds)]
    if name == "memory" and args.frames:
        cmd += ["--frames", str(args.frames)]
    print(f"== {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    # The child's own report goes to stderr with the progress lines (stdout stays clean).
    proc = subprocess.run(cmd, stdout=sys.stderr, check=False)
    elapsed = round(time.perf_counter() - t0, 1)
    # bench_pixels/bench_tree exit 1 when a target fails: their JSON still says how it went
    ran = proc.returncode == 0 or (name in ("pixels", "tree") and proc.returncode == 1)
    if not ran or not out_json.exists():
        return {
            "benchmark": name,
            "error": f"exit status {proc.returncode}",
            "seconds": elapsed,
            "checks": [],
        }
    result: dict[str, Any] = json.loads(out_json.read_text())
    if name == "pixels":
        result = _pixels_checks(result)
    elif name == "tree":
        result = _tree_checks(result)
    result["seconds"] = elapsed
    return result


def _pixels_checks(raw: dict[str, Any]) -> dict[str, Any]:
    """bench_pixels.py's rows (workload, reader, files, median s, files/s, ratio, target,
    verdict) as checks (its exit status is 1 when a target fails, so only a missing JSON
    file counts as a crash)."""
    checks = []
    per: dict[str, dict[str, float]] = {}
    for workload, reader, files, median, _fps, _ratio, _target, _verdict in raw.get("rows", []):
        # the "<workload>/path" rows compare with pixel_array(path): dicomkit's column is that reader
        column = "dicomkit" if workload.endswith("/path") and reader == "dicomkit-path" else reader
        per.setdefault(workload, {})[column] = round(median * 1e6 / files, 1)
    for workload, reader, _files, _median, _fps, ratio, target, verdict in raw.get("rows", []):
        if target is None:
            continue
        checks.append(
            {
                "name": f"pixels {workload}: dicomkit vs {reader}",
                "target": f">= {target:g}x",
                "unit": "x",
                "value": round(ratio, 2),
                "status": verdict,
                "per_reader_unit": "us/file",
                "per_reader": per.get(workload, {}),
            }
        )
    return {"benchmark": "pixels", "raw": raw, "checks": checks}


def _tree_checks(raw: dict[str, Any]) -> dict[str, Any]:
    """bench_tree.py's speed (ratio vs a pydicom script) and memory (peak RSS) results."""
    checks = []
    speed = raw.get("speed")
    if speed:
        checks.append(
            {
                "name": f"tree --json, {speed.get('files')} files: dicomkit vs pydicom script",
                "target": ">= 6x",
                "unit": "x",
                "value": speed.get("ratio"),
                "status": speed.get("status", "FAIL"),
                "per_reader_unit": "s",
                "per_reader": {"dicomkit": speed.get("dicomkit_s"), "pydicom": speed.get("pydicom_s")},
            }
        )
    memory = raw.get("memory")
    if memory:
        checks.append(
            {
                "name": f"tree --json, {memory.get('files')} small files: peak RSS",
                "target": "< 500 MB",
                "unit": "MB",
                "value": memory.get("peak_rss_mb"),
                "status": memory.get("status", "FAIL"),
                "per_reader_unit": "MB",
                "per_reader": {"dicomkit": memory.get("peak_rss_mb")},
            }
        )
    return {"benchmark": "tree", "raw": raw, "checks": checks}


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if not isinstance(value, int | float):
        return str(value)
    if unit.startswith("x"):
        return f"{value:.2f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def summary_table(results: dict[str, dict[str, Any]], quick: bool) -> Any:
    from rich.table import Table

    title = "dicomkit benchmarks" + (" (--quick: not an acceptance run)" if quick else "")
    table = Table(title=title)
    table.add_column("check")
    table.add_column("per reader")
    for reader in READERS:
        table.add_column(reader, justify="right")
    for col in ("result", "target", "status"):
        table.add_column(col, justify="right" if col != "status" else "left")
    for name, res in results.items():
        if res.get("error"):
            table.add_row(
                f"{name} benchmark", "", "", "", "", "-", "-", f"[{STYLE['ERROR']}]ERROR[/] {res['error']}"
            )
            continue
        for c in res["checks"]:
            unit = c.get("per_reader_unit", "")
            per = c.get("per_reader", {})
            result = "-" if c["value"] is None else f"{_fmt(c['value'], c['unit'])} {c['unit']}"
            status = f"[{STYLE.get(c['status'], '')}]{c['status']}[/]"
            if c.get("note") and c["status"] != "PASS":
                status += f" [dim]{c['note']}[/]"
            table.add_row(
                c["name"],
                unit,
                *(_fmt(per.get(r), unit) for r in READERS),
                result,
                c["target"],
                status,
            )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpus and file, fewer rounds")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="repeatable; default all")
    parser.add_argument("--skip", choices=BENCHMARKS, action="append", default=[])
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--corpus-dir", type=Path, help="read/write benchmark corpus (cache) directory")
    parser.add_argument("--files", type=int, help="read/write benchmark corpus size (default 1,200)")
    parser.add_argument("--rounds", type=int, help="read/write benchmark alternating rounds (default 5)")
    parser.add_argument("--frames", type=int, help="memory benchmark frames (default 2,000 = 1.05 GB)")
    parser.add_argument("--dicomkit-impl", metavar="MODULE:FUNC", help="time this instead of dicomkit.read")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target is PASS")
    args = parser.parse_args(argv)

    selected = [b for b in (args.only or BENCHMARKS) if b not in args.skip]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="dicomkit-bench-") as tmp:
        for name in selected:
            results[name] = run_one(name, args, Path(tmp))

    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(summary_table(results, args.quick))
    machine = machine_info()
    console.print(
        f"[dim]{machine['cpus']} CPUs ({machine['cpu_model']}), {machine['os']}, "
        f"Python {machine['python']}; {', '.join(f'{k} {v}' for k, v in machine['packages'].items())}[/]"
    )

    if args.json:
        payload = {
            "quick": args.quick,
            "dicomkit_impl": args.dicomkit_impl,
            "machine": machine,
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"results written to {args.json}")

    crashed = any(r.get("error") for r in results.values())
    statuses = [c["status"] for r in results.values() for c in r.get("checks", [])]
    if crashed:
        return 1
    if args.check and any(s != "PASS" for s in statuses):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
