"""Archive at scale: a 1,000,000-instance index, import rate empty vs full, study-query latency (issue 6).

For each backend (SQLite embedded at ``<root>/index.sqlite``; PostgreSQL in a private database
created for the run on ``127.0.0.1:5432`` and dropped afterwards) a new, empty archive in copy
mode is filled with the synthetic content of ``scale_data.py`` (default 10,000 patients x 2
studies x 5 series x 10 instances = 20,000 studies, 100,000 series, 1,000,000 instances;
**header-only files** of ~1.2 KiB with realistic attribute values, no Pixel Data) through
``Archive.store_many`` given in-memory PS3.10 ``bytes``, in chunks of ``--chunk`` instances
(whole patients). Each chunk is generated first (untimed), then its ``store_many`` call is timed:
the per-chunk rate (instances/s) over the whole fill is the import-rate curve.

* Import rate: the median of the first 3 chunks' rates (empty archive) vs the median of the last
  3 (full archive). Target: end >= 80% of start.
* Queries: then ``--queries`` (default 300) varied study-level queries
  (``Query.from_params("STUDY", {"PatientName": "SMI*", "StudyDate": "20150301-20170101",
  "ModalitiesInStudy": "CT"})``: surname prefixes of 1-4 letters or surname^given prefix, closed
  or half-open date ranges of 2 weeks to 5 years, one of 10 modalities), 10 untimed warm-up
  queries first; each ``list(archive.find(query))`` is timed. Target: p95 < 50 ms. Every result
  count is checked against an independent in-memory evaluation of the generated studies.

``--max-import-minutes`` stops a fill early (at a chunk boundary); the report then gives the size
reached, the rate trend (least-squares line through the chunk rates) and the time 1,000,000
would take, marked as an extrapolation. The machine load is sampled throughout.

    .venv/bin/python benchmarks/bench_archive_scale.py                     # 1M, SQLite then PostgreSQL
    .venv/bin/python benchmarks/bench_archive_scale.py --quick             # 3,000 instances, < 1 min
    .venv/bin/python benchmarks/bench_archive_scale.py --backend sqlite --patients 2000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    from benchmarks import archive_driver, machine_load, scale_data
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import archive_driver  # type: ignore[no-redef,import-not-found,unused-ignore]
    import machine_load  # type: ignore[no-redef,import-not-found,unused-ignore]
    import scale_data  # type: ignore[no-redef,import-not-found,unused-ignore]

RATE_TARGET = 0.8
P95_TARGET_MS = 50.0
FULL = scale_data.ScaleShape()
QUICK = scale_data.ScaleShape(patients=30)
EDGE_CHUNKS = 3
WARMUP_QUERIES = 10
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextmanager
def postgres_database(admin_dsn: str, *, keep: bool = False) -> Iterator[str]:
    """A private database for the run (dropped afterwards, even on errors); yields its URL.
    ``admin_dsn`` is a ``postgresql://`` URL of an existing database to connect to for that."""
    import psycopg
    from psycopg import sql

    name = f"dkbench_scale_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dropped = False
    try:
        yield urllib.parse.urlsplit(admin_dsn)._replace(path=f"/{name}").geturl()
    except BaseException:
        dropped = True
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        raise
    finally:
        if not keep and not dropped:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _database_size(backend: str, root: Path, dsn: str | None) -> float | None:
    """Index size in MiB (SQLite file + WAL, or pg_database_size)."""
    if backend == "sqlite":
        return round(sum(p.stat().st_size for p in root.glob("index.sqlite*")) / 2**20, 1)
    try:
        import psycopg

        with psycopg.connect(dsn or "") as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return round(int(row[0]) / 2**20, 1) if row else None
    except Exception:  # information only
        return None


def _linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope."""
    if len(xs) < 2:
        return (ys[0] if ys else 0.0), 0.0
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def _stage(stage: Path, gen: scale_data.Generator, patients: range) -> list[str]:
    """Write the patients' files under ``stage`` (plain writes, no fsync: this is input, not the
    archive) and return their paths."""
    paths = []
    for p in patients:
        folder = stage / f"{p // 1000:04d}" / f"{p:07d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(gen.patient(p)):
            path = folder / f"{i:05d}.dcm"
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(str(path))
    return paths


def _cpu_trend(curve: list[dict[str, Any]], target: int) -> dict[str, Any] | None:
    """The least-squares line through the per-CPU-second rates: its value on an empty archive, at
    the size reached and at ``target`` (an extrapolation when the fill stopped early)."""
    points = [(c["instances"], c["per_cpu_s"]) for c in curve if c["per_cpu_s"]]
    if len(points) < 2:
        return None
    at_0, slope = _linear_fit([float(x) for x, _ in points], [float(y) for _, y in points])
    end = points[-1][0]
    return {
        "at_0": round(at_0, 1),
        "at_end": round(at_0 + slope * end, 1),
        "at_target": round(at_0 + slope * target, 1),
        "end_over_0": round((at_0 + slope * end) / at_0, 3),
        "target_over_0": round((at_0 + slope * target) / at_0, 3),
    }


def fill(
    arch: Any, gen: scale_data.Generator, args: argparse.Namespace, stage: Path | None
) -> dict[str, Any]:
    """Fill the archive chunk by chunk; ``stage`` (a folder) means: write the chunk's files there
    first and import their paths (link mode, or copy mode from paths), else import ``bytes``."""
    shape = gen.shape
    per_chunk = max(1, args.chunk // shape.per_patient)
    deadline = time.monotonic() + args.max_import_minutes * 60 if args.max_import_minutes else None
    curve: list[dict[str, Any]] = []
    done = 0
    gen_s = 0.0
    import_s = 0.0
    next_log = 0.0
    for first in range(0, shape.patients, per_chunk):
        t_gen = time.perf_counter()
        patients = range(first, min(first + per_chunk, shape.patients))
        data: list[Any]
        if stage is None:
            data = [b for p in patients for b in gen.patient(p)]
        else:
            data = _stage(stage, gen, patients)
        cpu0 = machine_load.own_cpu()
        t0 = time.perf_counter()
        report = archive_driver.store_many(arch, data, args.workers)
        seconds = time.perf_counter() - t0
        cpu = machine_load.own_cpu() - cpu0
        gen_s += t0 - t_gen
        import_s += seconds
        counts = archive_driver.report_counts(report)
        if counts.get("stored") is not None and counts.get("stored") != len(data):
            raise SystemExit(f"store_many stored {counts['stored']} of {len(data)} instances: {report!r}")
        done += len(data)
        curve.append(
            {
                "instances": done,
                "chunk": len(data),
                "seconds": round(seconds, 3),
                "rate": round(len(data) / seconds, 1),
                "cpu_s": round(cpu, 2),
                "per_cpu_s": round(len(data) / cpu, 1) if cpu > 0 else None,
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
        if done / shape.total >= next_log or done == shape.total:
            _log(
                f"  {done:>9,} instances  {len(data) / seconds:8.0f}/s this chunk  "
                f"{done / import_s:8.0f}/s overall  load {curve[-1]['loadavg_1m']}"
            )
            next_log += 0.05
        if deadline is not None and time.monotonic() > deadline and done < shape.total:
            _log(f"  --max-import-minutes reached at {done:,} instances: stopping the fill")
            break
    k = max(1, min(EDGE_CHUNKS, len(curve) // 4))
    start_rate = statistics.median(c["rate"] for c in curve[:k])
    end_rate = statistics.median(c["rate"] for c in curve[-k:])
    cpu_rates = [c["per_cpu_s"] for c in curve if c["per_cpu_s"]]
    intercept, slope = _linear_fit([c["instances"] for c in curve], [c["rate"] for c in curve])
    out: dict[str, Any] = {
        "instances": done,
        "target_instances": shape.total,
        "complete": done == shape.total,
        "import_seconds": round(import_s, 1),
        "generate_seconds": round(gen_s, 1),
        "overall_rate": round(done / import_s, 1),
        "start_rate": round(start_rate, 1),
        "end_rate": round(end_rate, 1),
        "end_over_start": round(end_rate / start_rate, 3),
        "edge_chunks": k,
        # instances per CPU second of this process and its worker processes (not the PostgreSQL
        # server): insensitive to what else runs on the machine
        "start_per_cpu_s": round(statistics.median(cpu_rates[:k]), 1) if cpu_rates else None,
        "end_per_cpu_s": round(statistics.median(cpu_rates[-k:]), 1) if cpu_rates else None,
        "trend": {"rate_at_0": round(intercept, 1), "rate_change_per_100k": round(slope * 100_000, 1)},
        "cpu_trend": _cpu_trend(curve, shape.total),
        "curve": curve,
    }
    if done < shape.total:
        projected_rate = max(intercept + slope * shape.total, 1e-9)
        remaining = shape.total - done
        # the rate declines linearly at worst: the average of the current and the projected end rate
        out["extrapolation"] = {
            "projected_rate_at_target": round(projected_rate, 1),
            "projected_end_over_start": round(projected_rate / start_rate, 3),
            "projected_total_import_s": round(import_s + remaining / ((end_rate + projected_rate) / 2), 0),
        }
    return out


def run_queries(arch: Any, gen: scale_data.Generator, count: int) -> dict[str, Any]:
    from dicomkit.model.query import Query

    queries = scale_data.study_queries(count + WARMUP_QUERIES)
    for q in queries[:WARMUP_QUERIES]:
        list(arch.find(Query.from_params("STUDY", q.params)))
    times_ms: list[float] = []
    results: list[int] = []
    mismatches: list[dict[str, Any]] = []
    for q in queries[WARMUP_QUERIES:]:
        query = Query.from_params("STUDY", q.params)
        t0 = time.perf_counter()
        found = list(arch.find(query))
        times_ms.append((time.perf_counter() - t0) * 1000)
        results.append(len(found))
        expected = q.expected(gen.studies)
        if len(found) != expected:
            mismatches.append({"params": q.params, "found": len(found), "expected": expected})
    ordered = sorted(times_ms)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "queries": len(times_ms),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(quantiles[94], 2),
        "p99_ms": round(quantiles[98], 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "results_mean": round(statistics.fmean(results), 1),
        "results_max": max(results),
        "results_zero": sum(1 for r in results if r == 0),
        "mismatches": len(mismatches),
        "mismatch_examples": mismatches[:5],
        "example": queries[WARMUP_QUERIES].params,
    }


def run_backend(
    backend: str, shape: scale_data.ScaleShape, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    root = work / f"archive-{backend}"
    stage = work / f"input-{backend}" if args.mode == "link" or args.source == "paths" else None
    _log(
        f"== {backend}: {shape.total:,} instances ({shape.label}) into {root}, {args.mode} mode from "
        f"{'files staged in ' + str(stage) if stage else 'in-memory bytes'}"
    )
    gen = scale_data.Generator(shape)
    keep = False
    with _database(backend, args) as dsn, machine_load.LoadSampler() as load:
        try:
            with archive_driver.opened(root, dsn, link=args.mode == "link") as arch:
                result = fill(arch, gen, args, stage)
                result["index_mib"] = _database_size(backend, root, dsn)
                result["indexed"] = archive_driver.instance_count(arch)
                if args.queries and not archive_driver.query_missing():
                    _log(f"  {result['indexed']:,} instances indexed; {args.queries} study queries ...")
                    result["query"] = run_queries(arch, gen, args.queries)
                elif args.queries:
                    result["query_error"] = archive_driver.query_missing()
            keep = args.keep
        finally:
            if keep:
                result["kept"] = {"root": str(root), "database": dsn, "input": str(stage) if stage else None}
                _log(f"  kept: --reuse {root}" + (f" --database '{dsn}'" if dsn else ""))
            else:
                t0 = time.perf_counter()
                archive_driver.remove(root)
                if stage is not None:
                    archive_driver.remove(stage)
                _log(f"  removed the archive in {time.perf_counter() - t0:.0f} s")
    result["backend"] = backend
    result["mode"] = args.mode
    result["source"] = "paths" if stage else "bytes"
    result["load"] = load.summary()
    return result


def reuse(root: Path, database: str | None, shape: scale_data.ScaleShape, queries: int) -> dict[str, Any]:
    """Queries only, on an archive kept by an earlier ``--keep`` run (same shape options)."""
    with archive_driver.opened(root, database, create=False) as arch:
        stats = arch.stats()
        gen = scale_data.Generator(shape)
        for p in range(int(stats.patients)):
            for _ in gen.patient(p, encode=False):
                pass
        _log(
            f"== reuse {root}: {stats.instances:,} instances, {stats.patients:,} patients; {queries} queries"
        )
        with machine_load.LoadSampler() as load:
            result: dict[str, Any] = {"instances": stats.instances, "query": run_queries(arch, gen, queries)}
    result["load"] = load.summary()
    result["backend"] = str(stats.database)
    return result


@contextmanager
def _database(backend: str, args: argparse.Namespace) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    with postgres_database(args.pg_dsn, keep=args.keep) as dsn:
        yield dsn


def _checks(out: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for backend, r in out["backends"].items():
        if "error" in r:
            checks.append(
                {
                    "name": f"archive scale ({backend})",
                    "target": "-",
                    "unit": "",
                    "value": None,
                    "status": "PENDING" if r.get("pending") else "ERROR",
                    "note": r["error"],
                }
            )
            continue
        size = f"{r['instances']:,} instances" + ("" if r.get("complete", True) else " (stopped early)")
        if "end_over_start" in r:
            checks.append(
                {
                    "name": f"archive import rate at {size} vs empty ({backend}, {r['mode']} mode)",
                    "target": f">= {RATE_TARGET:.0%}",
                    "unit": "x",
                    "value": r["end_over_start"],
                    "status": "PASS" if r["end_over_start"] >= RATE_TARGET else "FAIL",
                    "note": f"{r['start_rate']:.0f} -> {r['end_rate']:.0f} instances/s",
                }
            )
        q = r.get("query")
        if q is None:
            checks.append(
                {
                    "name": f"study query p95 at {size} ({backend})",
                    "target": f"< {P95_TARGET_MS:g} ms",
                    "unit": "ms",
                    "value": None,
                    "status": "PENDING" if r.get("query_error") else "SKIP",
                    "note": r.get("query_error") or "--queries 0",
                }
            )
            continue
        checks.append(
            {
                "name": f"study query p95 at {size}, {q['queries']} queries ({backend})",
                "target": f"< {P95_TARGET_MS:g} ms",
                "unit": "ms",
                "value": q["p95_ms"],
                "status": "PASS" if q["p95_ms"] < P95_TARGET_MS and not q["mismatches"] else "FAIL",
                "note": f"p50 {q['p50_ms']} ms; {q['mismatches']} result-count mismatches",
            }
        )
    return checks


def print_report(out: dict[str, Any]) -> None:
    for backend, r in out["backends"].items():
        if "error" in r:
            print(f"{backend}: not measured: {r['error']}")
            continue
        if "import_seconds" in r:
            print(
                f"{backend} ({r['mode']} mode, {r['source']}): {r['instances']:,} instances in "
                f"{r['import_seconds']:.0f} s ({r['overall_rate']:.0f}/s overall; input generation "
                f"{r['generate_seconds']:.0f} s untimed); rate empty {r['start_rate']:.0f}/s, full "
                f"{r['end_rate']:.0f}/s ({r['end_over_start']:.0%}); index {r['index_mib']} MiB"
            )
            if r.get("start_per_cpu_s") and r.get("end_per_cpu_s"):
                print(
                    f"  per CPU second of the importer (load-independent): empty {r['start_per_cpu_s']:.0f}, "
                    f"full {r['end_per_cpu_s']:.0f} ({r['end_per_cpu_s'] / r['start_per_cpu_s']:.0%})"
                )
            t = r.get("cpu_trend")
            if t:
                print(
                    f"  fitted line through the per-CPU-second rates: {t['at_0']:.0f} empty, {t['at_end']:.0f} at "
                    f"{r['instances']:,} ({t['end_over_0']:.0%}), {t['at_target']:.0f} at "
                    f"{r['target_instances']:,} ({t['target_over_0']:.0%})"
                )
        if "extrapolation" in r:
            e = r["extrapolation"]
            print(
                f"  EXTRAPOLATED to {r['target_instances']:,}: rate {e['projected_rate_at_target']:.0f}/s "
                f"({e['projected_end_over_start']:.0%} of empty), ~{e['projected_total_import_s']:.0f} s in all"
            )
        q = r.get("query")
        if q:
            print(
                f"  study queries at {r['instances']:,} instances: {q['queries']}: p50 {q['p50_ms']} ms, "
                f"p95 {q['p95_ms']} ms, max {q['max_ms']} ms; {q['results_mean']} studies per answer on "
                f"average (max {q['results_max']}, {q['results_zero']} empty); {q['mismatches']} count mismatches"
            )
        print(f"  machine: {machine_load.describe(r['load'])}")
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']}{c['unit']}"
        print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--quick", action="store_true", help="30 patients = 3,000 instances, 50 queries (< 1 min)"
    )
    ap.add_argument("--patients", type=int, help=f"default {FULL.patients:,}")
    ap.add_argument("--studies", type=int, default=FULL.studies, help="per patient")
    ap.add_argument("--series", type=int, default=FULL.series, help="per study")
    ap.add_argument("--instances", type=int, default=FULL.instances, help="per series")
    ap.add_argument("--chunk", type=int, help="instances per store_many call (default 10,000; --quick 300)")
    ap.add_argument("--queries", type=int, help="timed study queries (default 300; --quick 50)")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), action="append", help="default both")
    ap.add_argument(
        "--pg-dsn", default=DEFAULT_PG, help="where the private database is created (%(default)s)"
    )
    ap.add_argument("--workers", type=int, help="store_many(workers=...) (default: the archive's own)")
    ap.add_argument("--max-import-minutes", type=float, help="stop each fill after this long and extrapolate")
    ap.add_argument(
        "--mode",
        choices=("link", "copy"),
        default="link",
        help="link: index staged files in place (default, the fastest the API allows); copy: store copies",
    )
    ap.add_argument(
        "--source",
        choices=("paths", "bytes"),
        default="paths",
        help="copy mode: import staged paths (worker processes) or in-memory bytes (in-process)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the archives (and PostgreSQL databases)")
    ap.add_argument("--reuse", type=Path, metavar="ROOT", help="only run the queries on a kept archive")
    ap.add_argument("--database", help="with --reuse: the kept archive's PostgreSQL URL")
    ap.add_argument("--work", type=Path, help="where the archives are written (default $TMPDIR)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every target is PASS")
    args = ap.parse_args(argv)
    base = QUICK if args.quick else FULL
    shape = scale_data.ScaleShape(args.patients or base.patients, args.studies, args.series, args.instances)
    args.chunk = args.chunk or (300 if args.quick else 10_000)
    args.queries = args.queries if args.queries is not None else (50 if args.quick else 300)
    backends = args.backend or ["sqlite", "postgresql"]

    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "archive_scale",
        "quick": bool(args.quick),
        "shape": shape.__dict__,
        "chunk": args.chunk,
        "machine_before": machine_load.snapshot(),
        "backends": {},
    }
    if args.mode == "link" and args.source == "bytes":
        ap.error("link mode indexes files in place: it needs --source paths")
    missing = archive_driver.missing()
    if args.reuse:
        missing = missing or archive_driver.query_missing()
        name = "postgresql" if args.database else "sqlite"
        if missing:
            out["backends"][name] = {"error": missing, "pending": True}
        else:
            out["backends"][name] = reuse(args.reuse, args.database, shape, args.queries)
        backends = []
    work = Path(tempfile.mkdtemp(prefix="dkbench-scale-", dir=args.work))
    try:
        for backend in backends:
            if missing:
                out["backends"][backend] = {"error": missing, "pending": True}
                continue
            try:
                out["backends"][backend] = run_backend(backend, shape, args, work)
            except Exception as exc:  # report and go on with the other backend
                _log(f"{backend}: {type(exc).__name__}: {exc}")
                out["backends"][backend] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        if not args.keep:
            archive_driver.remove(work)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["checks"] = _checks(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print_report(out)
    crashed = any("error" in r and not r.get("pending") for r in out["backends"].values())
    if crashed or (args.check and any(c["status"] != "PASS" for c in out["checks"])):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
