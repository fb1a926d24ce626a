"""Archive import throughput: dicomkit.archive vs Orthanc's REST API, same corpus, same run (issue 6).

The benchmark corpus (``corpus.py``: 1,200 CT/MR files, 512x512 16-bit, ~0.5 MiB each) is
imported into an *empty* store, ``--rounds`` times per importer, the importers alternating and
the starting one rotating every round. Before every timed import the previous store is deleted,
``sync`` flushes its dirty pages (so one importer's write-back does not land in the next one's
time) and every corpus file is read once (page cache warm). Importers:

orthanc   Orthanc 1.10 (Debian ``orthanc``), started fresh for each round inside ``unshare -n``
          with its default SQLite index and file storage in a new temporary directory; every file
          is POSTed to ``/instances`` from 2 threads with one keep-alive ``http.client``
          connection each (``orthanc_peer.py``). Timed: the first POST to the last answer
          (Orthanc's start-up and shutdown excluded).
api       ``dicomkit.archive.open(root)`` (copy mode, SQLite at ``<root>/index.sqlite``, the
          archive's own durability: atomic fsync'd files, committed index) then
          ``store_many(files)``, then close. Timed: open to close.
cli       ``python -m dicomkit import CORPUS --archive ROOT`` as a whole process (interpreter
          start-up included), when the command exists.

Reported: files/s and MiB/s (median of the rounds), and dicomkit / Orthanc ratios.
Target: dicomkit (API) >= 3x Orthanc. Every import is verified (instance count == files).

    .venv/bin/python benchmarks/bench_archive.py               # 1,200 files, 3 rounds
    .venv/bin/python benchmarks/bench_archive.py --quick       # 120 files, 1 round (smoke test)
    .venv/bin/python benchmarks/bench_archive.py --files 600 --rounds 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from benchmarks import archive_driver, corpus, machine_load, orthanc_peer
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import archive_driver  # type: ignore[no-redef,import-not-found,unused-ignore]
    import corpus  # type: ignore[no-redef,import-not-found,unused-ignore]
    import machine_load  # type: ignore[no-redef,import-not-found,unused-ignore]
    import orthanc_peer  # type: ignore[no-redef,import-not-found,unused-ignore]

TARGET = 3.0
IMPORTERS = ("orthanc", "api", "cli")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warm(files: list[Path]) -> int:
    """Read every file once (page cache); returns the total size in bytes."""
    total = 0
    for path in files:
        total += len(path.read_bytes())
    return total


def _importers(
    files: list[Path], corpus_dir: Path, work: Path, args: argparse.Namespace
) -> tuple[dict[str, Callable[[], dict[str, Any]]], dict[str, str]]:
    runners: dict[str, Callable[[], dict[str, Any]]] = {}
    unavailable: dict[str, str] = {}
    root = work / "dicomkit-archive"

    if args.skip_orthanc:
        unavailable["orthanc"] = "skipped (--skip-orthanc)"
    elif reason := orthanc_peer.available():
        unavailable["orthanc"] = reason
    else:
        runners["orthanc"] = lambda: orthanc_peer.orthanc_import(files, clients=args.clients, work=work)

    if reason := archive_driver.missing():
        unavailable["api"] = unavailable["cli"] = reason
        return runners, unavailable

    def api() -> dict[str, Any]:
        archive_driver.remove(root)
        try:
            return archive_driver.api_import(files, root, workers=args.workers)
        finally:
            archive_driver.remove(root)

    runners["api"] = api

    if args.skip_cli:
        unavailable["cli"] = "skipped (--skip-cli)"
    elif reason := archive_driver.cli_available():
        unavailable["cli"] = reason
    else:

        def cli() -> dict[str, Any]:
            archive_driver.remove(root)
            try:
                return archive_driver.cli_import(corpus_dir, root)
            finally:
                archive_driver.remove(root)

        runners["cli"] = cli
    return runners, unavailable


def run(args: argparse.Namespace) -> dict[str, Any]:
    shape = corpus.chosen_shape(args.quick, args.files)
    files = corpus.ensure_corpus(args.corpus_dir, shape, log=_log)
    corpus_dir = files[0].parent
    total_bytes = warm(files)
    rounds = args.rounds or (1 if args.quick else 3)
    out: dict[str, Any] = {
        "benchmark": "archive",
        "files": len(files),
        "mib": round(total_bytes / 2**20, 1),
        "rounds": rounds,
        "clients": args.clients,
        "workers": args.workers,
        "orthanc": orthanc_peer.orthanc_version(),
        "machine_before": machine_load.snapshot(),
    }
    times: dict[str, list[float]] = {}
    failed: dict[str, str] = {}
    details: dict[str, list[dict[str, Any]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dkbench-archive-", dir=args.work) as tmp,
        machine_load.LoadSampler() as load,
    ):
        runners, unavailable = _importers(files, corpus_dir, Path(tmp), args)
        for name, why in unavailable.items():
            _log(f"{name}: not measured: {why}")
        names = [n for n in IMPORTERS if n in runners]
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)] if names else []
            for name in order:
                if name in failed:
                    continue
                os.sync()
                warm(files)
                try:
                    with machine_load.LoadSampler() as one:
                        result = runners[name]()
                except Exception as exc:  # report it, go on with the other importers
                    failed[name] = f"{type(exc).__name__}: {str(exc)[-300:]}"
                    _log(f"round {r + 1} {name}: FAILED: {failed[name]}")
                    continue
                result["load"] = one.summary()
                if result.get("instances") != len(files):
                    raise SystemExit(
                        f"{name}: {result.get('instances')} instances stored, expected {len(files)}: {result}"
                    )
                times.setdefault(name, []).append(result["seconds"])
                details.setdefault(name, []).append(result)
                cpu = f"; {result['cpu_s'] * 1000 / len(files):.2f} ms CPU/file" if "cpu_s" in result else ""
                _log(
                    f"round {r + 1} {name:8} {len(files) / result['seconds']:8.1f} files/s "
                    f"({result['seconds']:.2f} s; load avg {result['load']['loadavg_1m_end']}{cpu})"
                )
    out["load"] = load.summary()
    out["unavailable"] = unavailable
    out["failed"] = failed
    out["details"] = details
    out["importers"] = {
        name: {
            "median_s": statistics.median(ts),
            "files_per_s": len(files) / statistics.median(ts),
            "mib_per_s": total_bytes / 2**20 / statistics.median(ts),
            "rounds_s": ts,
        }
        for name, ts in times.items()
    }
    for name, rounds_done in details.items():
        cpus = [d["cpu_s"] for d in rounds_done if "cpu_s" in d]
        if cpus:  # (the API importer: this process and its worker processes)
            out["importers"][name]["cpu_ms_per_file"] = statistics.median(cpus) * 1000 / len(files)
    out["checks"] = _checks(out)
    return out


def _checks(out: dict[str, Any]) -> list[dict[str, Any]]:
    imp = out["importers"]
    checks = []
    for name, label in (("api", "Python API"), ("cli", "dicomkit import")):
        check: dict[str, Any] = {
            "name": f"archive import, {out['files']} files ({label}): dicomkit vs Orthanc REST",
            "target": f">= {TARGET:g}x",
            "unit": "x",
            "value": None,
            "per_reader_unit": "files/s",
            "per_reader": {"dicomkit": round(imp[name]["files_per_s"], 1)} if name in imp else {},
        }
        if name in out["failed"]:
            check["status"] = "ERROR"
            check["note"] = out["failed"][name]
        elif name not in imp:
            why = out["unavailable"].get(name, "")
            check["status"] = "PENDING" if "not importable" in why or "no `dicomkit" in why else "SKIP"
            check["note"] = why
        elif "orthanc" not in imp:
            check["status"] = "SKIP"
            check["note"] = f"Orthanc not measured: {out['unavailable'].get('orthanc')}"
        else:
            ratio = imp[name]["files_per_s"] / imp["orthanc"]["files_per_s"]
            check["value"] = round(ratio, 2)
            check["status"] = "PASS" if ratio >= TARGET else "FAIL"
            check["note"] = f"Orthanc {imp['orthanc']['files_per_s']:.0f} files/s"
        checks.append(check)
    return checks


def print_report(out: dict[str, Any]) -> None:
    print(
        f"archive import: {out['files']} files, {out['mib']} MiB, {out['rounds']} round(s), median per importer"
    )
    for name, r in out["importers"].items():
        cpu = f"  {r['cpu_ms_per_file']:.2f} ms CPU/file" if "cpu_ms_per_file" in r else ""
        print(
            f"  {name:8} {r['files_per_s']:8.1f} files/s {r['mib_per_s']:7.1f} MiB/s  ({r['median_s']:.2f} s){cpu}"
        )
    for name, why in out["unavailable"].items():
        print(f"  {name:8} not measured: {why}")
    print(f"  machine: {machine_load.describe(out['load'])}")
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']}x"
        print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="120 files, 1 round (< 1 min)")
    ap.add_argument("--files", type=int, help="approximate corpus size (default 1,200)")
    ap.add_argument("--corpus-dir", type=Path, help="corpus (cache) directory")
    ap.add_argument("--rounds", type=int, help="rounds per importer (default 3; --quick 1)")
    ap.add_argument("--clients", type=int, default=2, help="Orthanc HTTP clients (default 2)")
    ap.add_argument("--workers", type=int, help="store_many(workers=...) (default: the archive's own)")
    ap.add_argument("--work", type=Path, help="where the stores are written (default $TMPDIR)")
    ap.add_argument("--skip-orthanc", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every target is PASS")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args)
    out["quick"] = bool(args.quick)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print_report(out)
    if out["failed"] or (args.check and any(c["status"] != "PASS" for c in out["checks"])):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
