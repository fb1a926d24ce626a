"""Part 10 read throughput: dicomkit vs pydicom vs dicomsdl over a generated corpus.

Two workloads, each timed as whole-corpus passes, alternating between readers
within the same process (the starting reader rotates every round), after the page
cache has been warmed by reading every file's bytes once and every reader has done
one untimed (verifying) pass:

index  ``read(path, stop_before_pixels=True)`` then the six index attributes
       PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, Modality,
       StudyDate.  dicomsdl: ``dicomsdl.open_file(path)`` then the same attributes.
       Targets: dicomkit >= 6x pydicom and >= 1.0x dicomsdl.
full   ``read(path)`` then every element's ``.value``, recursing into the items of
       every SQ element.  Target: dicomkit >= 5x pydicom.  dicomsdl's equivalent
       walk is timed for information only.

The reported time is the median of the rounds' pass times; ratios are
``peer median / dicomkit median`` (a speed-up: higher is better for dicomkit).

The dicomkit side is pluggable: by default it is ``dicomkit.read`` (reported as
PENDING while that does not exist); ``--dicomkit-impl module:function`` times any
function with the same signature instead, e.g. ``--dicomkit-impl pydicom:dcmread``
to exercise the harness.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import operator
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from benchmarks import corpus
    from benchmarks import rounds as rounds_
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import corpus  # type: ignore[no-redef]
    import rounds as rounds_  # type: ignore[no-redef]

INDEX_FIELDS = (
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "StudyDate",
)
TARGETS: dict[tuple[str, str], float] = {
    ("index", "pydicom"): 6.0,
    ("index", "dicomsdl"): 1.0,
    ("full", "pydicom"): 5.0,
}
WORKLOADS = ("index", "full")

ReadFn = Callable[..., Any]
Work = Callable[[str], Any]


# --------------------------------------------------------------------------- workloads
def walk(ds: Any) -> int:
    """Touch every element's value, recursing into sequence items; return the count.

    Shared by dicomkit and pydicom: both iterate a Dataset as DataElements with a
    ``VR`` comparable to ``"SQ"`` and SQ values that are sequences of Datasets.
    """
    n = 0
    for elem in ds:
        value = elem.value
        n += 1
        if elem.VR == "SQ":
            for item in value:
                n += walk(item)
    return n


def make_index(read: ReadFn) -> Work:
    get = operator.attrgetter(*INDEX_FIELDS)

    def index(path: str) -> Any:
        return get(read(path, stop_before_pixels=True))

    return index


def make_full(read: ReadFn) -> Work:
    def full(path: str) -> int:
        return walk(read(path))

    return full


@dataclass
class Peer:
    name: str
    version: str
    work: dict[str, Work] = field(default_factory=dict)
    unavailable: str | None = None  # reason, when the reader cannot be timed
    broken: bool = False  # unavailable because it fails (an error), not because it is not written yet
    info_only: frozenset[str] = frozenset()  # workloads reported but without a target


def _pydicom_peer() -> Peer:
    try:
        import pydicom
    except ImportError as exc:
        return Peer("pydicom", "-", unavailable=f"not installed ({exc})")
    read = pydicom.dcmread
    return Peer("pydicom", pydicom.__version__, {"index": make_index(read), "full": make_full(read)})


def _dicomsdl_peer() -> Peer:
    try:
        import dicomsdl
    except ImportError as exc:
        return Peer("dicomsdl", "-", unavailable=f"not installed ({exc})")
    sq_vr = dicomsdl.VR.SQ
    get = operator.attrgetter(*INDEX_FIELDS)

    def index(path: str) -> Any:
        return get(dicomsdl.open_file(path))

    def walk_sdl(ds: Any) -> int:
        n = 0
        for elem in ds:
            n += 1
            if elem.vr() == sq_vr:
                for item in elem.toSequence():
                    n += walk_sdl(item)
            else:
                elem.value()
        return n

    def full(path: str) -> int:
        return walk_sdl(dicomsdl.open_file(path))

    version = _dist_version("dicomsdl")
    return Peer("dicomsdl", version, {"index": index, "full": full}, info_only=frozenset({"full"}))


def _dist_version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def load_dicomkit(impl: str | None = None) -> Peer:
    """The dicomkit peer: ``dicomkit.read``, or ``module:function`` when ``impl`` is given."""
    if impl:
        module_name, _, attr = impl.partition(":")
        read = getattr(importlib.import_module(module_name), attr or "read")
        mod = importlib.import_module(module_name.split(".")[0])
        version = f"{impl} {getattr(mod, '__version__', '')}".strip()
    else:
        try:
            import dicomkit
        except ImportError as exc:
            return Peer("dicomkit", "-", unavailable=f"not importable ({exc})", broken=True)
        version = getattr(dicomkit, "__version__", None) or _dist_version("dicomkit")
        read = getattr(dicomkit, "read", None)
        if read is None:
            return Peer("dicomkit", version, unavailable="dicomkit.read does not exist yet")
    return Peer("dicomkit", version, {"index": make_index(read), "full": make_full(read)})


def build_peers(dicomkit_impl: str | None = None, names: Sequence[str] | None = None) -> list[Peer]:
    peers = [load_dicomkit(dicomkit_impl), _pydicom_peer(), _dicomsdl_peer()]
    if names:
        peers = [p for p in peers if p.name in names]
    return peers


# --------------------------------------------------------------------------- timing
def warm_page_cache(paths: Sequence[str]) -> int:
    total = 0
    for p in paths:
        with open(p, "rb") as f:
            total += len(f.read())
    return total


def time_pass(work: Work, paths: Sequence[str]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for p in paths:
        work(p)
    return time.perf_counter() - t0


def _normalise(result: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(str(v) for v in result)
    return result


def verify_pass(work: Work, paths: Sequence[str]) -> tuple[list[Any], str | None]:
    """One untimed pass (also warms the reader); returns results or the first error."""
    out = []
    for p in paths:
        try:
            out.append(_normalise(work(p)))
        except Exception as exc:
            return out, f"{Path(p).name}: {type(exc).__name__}: {exc}"
    return out, None


def run_workload(
    workload: str, peers: list[Peer], paths: Sequence[str], rounds: int, log: Callable[[str], None]
) -> dict[str, Any]:
    result: dict[str, Any] = {"workload": workload, "files": len(paths), "rounds": rounds, "peers": {}}
    live: list[Peer] = []
    reference: list[Any] | None = None
    for peer in peers:
        entry: dict[str, Any] = {"version": peer.version}
        result["peers"][peer.name] = entry
        if peer.unavailable or workload not in peer.work:
            entry["status"] = "error" if peer.broken else "unavailable"
            entry["reason"] = peer.unavailable or f"no {workload} workload"
            continue
        values, error = verify_pass(peer.work[workload], paths)
        if error:
            entry["status"] = "error"
            entry["reason"] = error
            log(f"  {workload}/{peer.name}: ERROR {error}")
            continue
        entry["status"] = "ok"
        if workload == "index":
            if peer.name == "pydicom":
                reference = values
            entry["_values"] = values
        else:
            entry["elements_per_pass"] = sum(values)
        live.append(peer)
    if workload == "index" and reference is not None:
        for name, entry in result["peers"].items():
            if "_values" in entry and name != "pydicom":
                bad = sum(a != b for a, b in zip(entry["_values"], reference, strict=True))
                entry["mismatches_vs_pydicom"] = bad
                if bad:
                    log(f"  index/{name}: {bad} files whose index fields differ from pydicom's")
    for entry in result["peers"].values():
        entry.pop("_values", None)

    work = {p.name: p.work[workload] for p in live}
    times = rounds_.alternate(
        list(work), lambda name: time_pass(work[name], paths), rounds, len(paths), log, workload
    )
    for name, t in times.items():
        result["peers"][name].update(rounds_.median_figures(t, len(paths)))
    result["checks"] = checks_for(workload, result["peers"])
    return result


def checks_for(
    workload: str,
    peers: dict[str, Any],
    *,
    targets: dict[tuple[str, str], float] | None = None,
    title: str | None = None,
) -> list[dict[str, Any]]:
    """PASS/FAIL rows for ``workload``: the peer's median over dicomkit's against each target
    (also used by the other benchmark scripts with their own targets and titles)."""
    checks = []
    dk = peers.get("dicomkit", {})
    for (wl, peer), target in (TARGETS if targets is None else targets).items():
        if wl != workload or peer not in peers:
            continue
        other = peers[peer]
        check: dict[str, Any] = {
            "name": f"{title or f'read {workload}'}: dicomkit vs {peer}",
            "target": f">= {target:g}x",
            "unit": "x",
            "value": None,
            "per_reader_unit": "us/file",
            "per_reader": {n: e.get("us_per_file") for n, e in peers.items()},
        }
        if other.get("status") != "ok":
            check.update(status="SKIP", note=f"{peer} {other.get('status')}: {other.get('reason')}")
        elif dk.get("status") == "error":
            check.update(status="FAIL", note=dk.get("reason"))
        elif dk.get("status") != "ok":
            check.update(status="PENDING", note=dk.get("reason"))
        else:
            ratio = other["median_seconds"] / dk["median_seconds"]
            check.update(value=round(ratio, 2), status="PASS" if ratio >= target else "FAIL")
        checks.append(check)
    return checks


def machine_info() -> dict[str, Any]:
    import os

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
    }


# --------------------------------------------------------------------------- CLI
def run(
    *,
    corpus_dir: Path | None = None,
    shape: corpus.Shape = corpus.DEFAULT_SHAPE,
    rounds: int = 5,
    workloads: Sequence[str] = WORKLOADS,
    dicomkit_impl: str | None = None,
    peer_names: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    files = corpus.ensure_corpus(corpus_dir, shape, log=log)
    paths = [str(p) for p in files]
    peers = build_peers(dicomkit_impl, peer_names)
    nbytes = warm_page_cache(paths)
    log(f"read: {len(paths)} files, {nbytes / 2**20:.0f} MiB, page cache warmed; {rounds} rounds")
    for peer in peers:
        if peer.unavailable:
            log(f"  {peer.name}: not timed ({peer.unavailable})")
    out: dict[str, Any] = {
        "benchmark": "read",
        "machine": machine_info(),
        "corpus": {
            "dir": str(Path(paths[0]).parent) if paths else None,
            "files": len(paths),
            "bytes": nbytes,
        },
        "workloads": {},
        "checks": [],
    }
    for workload in workloads:
        res = run_workload(workload, peers, paths, rounds, log)
        out["workloads"][workload] = res
        out["checks"].extend(res["checks"])
    return out


def print_report(out: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Part 10 read, {out['corpus']['files']} files")
    for col in ("workload", "reader", "version", "us/file", "files/s", "vs dicomkit", "notes"):
        table.add_column(col, justify="right" if col in ("us/file", "files/s", "vs dicomkit") else "left")
    for workload, res in out["workloads"].items():
        dk = res["peers"].get("dicomkit", {}).get("median_seconds")
        for name, e in res["peers"].items():
            if e["status"] != "ok":
                table.add_row(workload, name, e["version"], "-", "-", "-", f"{e['status']}: {e['reason']}")
                continue
            ratio = f"{e['median_seconds'] / dk:.2f}x" if dk and name != "dicomkit" else "-"
            notes = []
            if e.get("mismatches_vs_pydicom"):
                notes.append(f"{e['mismatches_vs_pydicom']} mismatches")
            if "elements_per_pass" in e:
                notes.append(f"{e['elements_per_pass'] / res['files']:.0f} elements/file")
            table.add_row(
                workload,
                name,
                e["version"],
                f"{e['us_per_file']:.0f}",
                f"{e['files_per_second']:.0f}",
                ratio,
                ", ".join(notes),
            )
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']}x"
        console.print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, help="corpus (cache) directory")
    parser.add_argument("--files", type=int, help="approximate corpus size (default 1,200)")
    parser.add_argument("--quick", action="store_true", help="120 files, 3 rounds")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5)")
    parser.add_argument("--workload", choices=WORKLOADS, action="append", help="repeatable; default all")
    parser.add_argument("--peers", help="comma-separated subset of dicomkit,pydicom,dicomsdl")
    parser.add_argument("--dicomkit-impl", metavar="MODULE:FUNC", help="time this instead of dicomkit.read")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    shape = corpus.chosen_shape(args.quick, args.files)
    rounds = args.rounds or (3 if args.quick else 5)
    out = run(
        corpus_dir=args.corpus_dir,
        shape=shape,
        rounds=rounds,
        workloads=args.workload or WORKLOADS,
        dicomkit_impl=args.dicomkit_impl,
        peer_names=args.peers.split(",") if args.peers else None,
    )
    out["quick"] = bool(args.quick)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    print_report(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
