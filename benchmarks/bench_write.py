"""Part 10 write throughput: dicomkit.write vs pydicom dcmwrite over the generated corpus.

Two workloads, each timed as whole-corpus passes, alternating between the writers within
the same process (the starting writer rotates every round), after the page cache has been
warmed (every corpus file read once) and every writer has done one untimed, verified pass:

write      every corpus file is read once, before timing (``dicomkit.read`` /
           ``pydicom.dcmread``); a pass writes each data set to its own file in a temporary
           folder: ``dicomkit.write(ds, fh)`` vs ``pydicom.dcmwrite(fh, ds)``, both into a
           file opened with ``open(path, "wb")`` (the same I/O for both: no fsync).
           Target: dicomkit >= 3x pydicom. ``dicomkit.write(ds, path)`` (atomic: temp file,
           fsync, rename) is timed for information as ``dicomkit-atomic``.
transcode  explicit -> deflated -> explicit per file: read the corpus file, write it
           Deflated Explicit VR Little Endian into memory, read that back, write it Explicit
           VR Little Endian to a file. Target: dicomkit >= 2x pydicom.
           Both at their default level (zlib's 6); dicomkit compresses with ISA-L when the
           optional ``isal`` package is installed (its level 2, which 6 maps to), pydicom
           with zlib. ``dicomkit-zlib`` is dicomkit forced to the stdlib zlib fallback
           (information). The compression ratio each writer achieves on the corpus (Explicit
           VR LE bytes / deflated file bytes) is printed too. The zlib share is measured
           apart (``--zlib-profile``: compress/decompress of the corpus data sets at levels 1
           and 6), and ``--deflate-levels 1`` times the workload again with both writers
           forced to level 1 (information, no target).

The reported time is the median of the rounds' pass times; ratios are
``pydicom median / dicomkit median`` (a speed-up: higher is better for dicomkit).

    .venv/bin/python benchmarks/bench_write.py              # 1,200 files, 5 rounds
    .venv/bin/python benchmarks/bench_write.py --quick      # 120 files, 3 rounds
    .venv/bin/python benchmarks/bench_write.py --check      # exit 1 unless every target PASSes
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    from benchmarks import bench_read, corpus
    from benchmarks import rounds as rounds_
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import bench_read  # type: ignore[no-redef,import-not-found,unused-ignore]
    import corpus  # type: ignore[no-redef,import-not-found,unused-ignore]
    import rounds as rounds_  # type: ignore[no-redef,import-not-found,unused-ignore]

EXPLICIT = "1.2.840.10008.1.2.1"
DEFLATED = "1.2.840.10008.1.2.1.99"
TARGETS: dict[tuple[str, str], float] = {("write", "pydicom"): 3.0, ("transcode", "pydicom"): 2.0}
WORKLOADS = ("write", "transcode")
_CHECK_NAMES = {"write": "write the corpus", "transcode": "transcode explicit -> deflated -> explicit"}

#: One pass: (index of the corpus file, output path) -> something to verify
Work = Callable[[int, str], Any]


# --------------------------------------------------------------------------- writers
def _dicomkit_write(datasets: list[Any]) -> dict[str, Work]:
    import dicomkit

    def write(i: int, out: str) -> None:
        with open(out, "wb") as fh:
            dicomkit.write(datasets[i], fh)

    def write_atomic(i: int, out: str) -> None:
        dicomkit.write(datasets[i], out)

    return {"dicomkit": write, "dicomkit-atomic": write_atomic}


def _pydicom_write(datasets: list[Any]) -> dict[str, Work]:
    import pydicom

    def write(i: int, out: str) -> None:
        with open(out, "wb") as fh:
            pydicom.dcmwrite(fh, datasets[i])

    return {"pydicom": write}


def _dicomkit_transcode(paths: Sequence[str], *, stdlib_zlib: bool = False) -> Work:
    import dicomkit
    import dicomkit.codec.writer as writer

    def transcode(i: int, out: str) -> None:
        buf = io.BytesIO()
        dicomkit.write(dicomkit.read(paths[i]), buf, transfer_syntax=DEFLATED)
        with open(out, "wb") as fh:
            dicomkit.write(dicomkit.read(buf.getvalue()), fh, transfer_syntax=EXPLICIT)

    def transcode_zlib(i: int, out: str) -> None:
        saved = writer._isal_zlib
        writer._isal_zlib = None  # the stdlib fallback
        try:
            transcode(i, out)
        finally:
            writer._isal_zlib = saved

    return transcode_zlib if stdlib_zlib else transcode


def deflate_ratios(paths: Sequence[str]) -> dict[str, Any]:
    """Explicit VR LE corpus bytes / Deflated file bytes, per writer (untimed)."""
    import pydicom
    import pydicom.uid

    import dicomkit
    import dicomkit.codec.writer as writer

    sizes = {"explicit": 0, "dicomkit": 0, "dicomkit-zlib": 0, "pydicom": 0}
    for p in paths:
        sizes["explicit"] += os.path.getsize(p)
        ds = dicomkit.read(p)
        buf = io.BytesIO()
        dicomkit.write(ds, buf, transfer_syntax=DEFLATED)
        sizes["dicomkit"] += len(buf.getvalue())
        saved, writer._isal_zlib = writer._isal_zlib, None
        try:
            buf = io.BytesIO()
            dicomkit.write(ds, buf, transfer_syntax=DEFLATED)
            sizes["dicomkit-zlib"] += len(buf.getvalue())
        finally:
            writer._isal_zlib = saved
        pds = pydicom.dcmread(p)
        pds.file_meta.TransferSyntaxUID = pydicom.uid.UID(DEFLATED)
        buf = io.BytesIO()
        pydicom.dcmwrite(buf, pds)
        sizes["pydicom"] += len(buf.getvalue())
    return {k: round(sizes["explicit"] / v, 4) for k, v in sizes.items() if k != "explicit"}


def _pydicom_transcode(paths: Sequence[str]) -> Work:
    import pydicom
    import pydicom.uid

    def transcode(i: int, out: str) -> None:
        ds = pydicom.dcmread(paths[i])
        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(DEFLATED)
        buf = io.BytesIO()
        pydicom.dcmwrite(buf, ds)
        ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(EXPLICIT)
        with open(out, "wb") as fh:
            pydicom.dcmwrite(fh, ds)

    return transcode


class _ZlibAtLevel:
    """Stands in for the ``zlib`` module inside both writers: ``compressobj`` at a forced
    level, everything else zlib's own (used only for the equal-level comparisons)."""

    def __init__(self, level: int) -> None:
        self.level = level

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    def compressobj(self, level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(self.level, *args, **kwargs)


_SHIPPED_LEVEL: list[int] = []


def force_deflate_level(level: int | None) -> None:
    """Make dicomkit's and pydicom's writers compress at ``level`` (None: as they ship)."""
    import pydicom.filewriter

    import dicomkit.codec.writer

    if not _SHIPPED_LEVEL:
        _SHIPPED_LEVEL.append(dicomkit.codec.writer.DEFAULT_DEFLATE_LEVEL)
    shim: Any = zlib if level is None else _ZlibAtLevel(level)
    dicomkit.codec.writer.DEFAULT_DEFLATE_LEVEL = _SHIPPED_LEVEL[0] if level is None else level
    pydicom.filewriter.zlib = shim  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- timing
def warm_page_cache(paths: Sequence[str]) -> int:
    total = 0
    for p in paths:
        with open(p, "rb") as f:
            total += len(f.read())
    return total


def time_pass(work: Work, n: int, out_dir: str) -> float:
    gc.collect()
    outs = [os.path.join(out_dir, f"{i:06d}.dcm") for i in range(n)]
    t0 = time.perf_counter()
    for i, out in enumerate(outs):
        work(i, out)
    return time.perf_counter() - t0


def _fingerprint(path: str) -> tuple[str, ...]:
    """What must survive a write: a few values and the pixel bytes, as pydicom reads them."""
    import hashlib

    import pydicom

    ds = pydicom.dcmread(path)
    return (
        str(ds.PatientID),
        str(ds.SOPInstanceUID),
        str(len(ds)),
        hashlib.sha1(ds.PixelData).hexdigest(),
    )


def verify(work: Work, paths: Sequence[str], out_dir: str, check: int) -> str | None:
    """One untimed pass (also warms the writer); the first ``check`` outputs must read back
    in pydicom with the same values as the corpus file."""
    for i, src in enumerate(paths):
        out = os.path.join(out_dir, f"{i:06d}.dcm")
        try:
            work(i, out)
            if i < check and _fingerprint(out) != _fingerprint(src):
                return f"{Path(src).name}: written file differs from the original"
        except Exception as exc:
            return f"{Path(src).name}: {type(exc).__name__}: {exc}"
    return None


def run_workload(
    workload: str,
    writers: dict[str, Work],
    paths: Sequence[str],
    rounds: int,
    tmp: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    result: dict[str, Any] = {"workload": workload, "files": len(paths), "rounds": rounds, "peers": {}}
    live: list[str] = []
    dirs: dict[str, str] = {}
    for name, work in writers.items():
        d = tmp / f"{workload}-{name}"
        d.mkdir()
        dirs[name] = str(d)
        error = verify(work, paths, str(d), check=20)
        if error:
            result["peers"][name] = {"status": "error", "reason": error}
            log(f"  {workload}/{name}: ERROR {error}")
        else:
            result["peers"][name] = {"status": "ok"}
            live.append(name)
    times = rounds_.alternate(
        live, lambda name: time_pass(writers[name], len(paths), dirs[name]), rounds, len(paths), log, workload
    )
    for name, t in times.items():
        result["peers"][name].update(rounds_.median_figures(t, len(paths)))
    for folder in dirs.values():
        shutil.rmtree(folder, ignore_errors=True)
    result["checks"] = bench_read.checks_for(
        workload, result["peers"], targets=TARGETS, title=_CHECK_NAMES[workload]
    )
    return result


def zlib_profile(paths: Sequence[str], rounds: int) -> dict[str, Any]:
    """Where the deflate time goes: zlib alone on the corpus data sets (the bytes after the
    File Meta Information), compress at levels 1 and 6 (the default) and decompress."""
    import dicomkit

    bodies = [dicomkit.write_dataset(dicomkit.read(p), EXPLICIT) for p in paths]
    out: dict[str, Any] = {"bytes": sum(map(len, bodies))}
    for level in (1, 6):
        times, packed = [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            packed = 0
            for body in bodies:
                c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
                packed += len(c.compress(body) + c.flush())
            times.append(time.perf_counter() - t0)
        out[f"compress_level_{level}"] = {
            "us_per_file": round(statistics.median(times) * 1e6 / len(bodies), 1),
            "ratio": round(out["bytes"] / packed, 3),
        }
    packed_bodies = [zlib.compress(b, 6, wbits=-zlib.MAX_WBITS) for b in bodies]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for p in packed_bodies:
            zlib.decompress(p, wbits=-zlib.MAX_WBITS)
        times.append(time.perf_counter() - t0)
    out["decompress"] = {"us_per_file": round(statistics.median(times) * 1e6 / len(bodies), 1)}
    return out


def _isal_version() -> str | None:
    try:
        import isal
    except ImportError:
        return None
    return str(isal.__version__)


def machine_info() -> dict[str, Any]:
    import platform

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


# --------------------------------------------------------------------------- CLI
def run(
    *,
    corpus_dir: Path | None = None,
    shape: corpus.Shape = corpus.DEFAULT_SHAPE,
    rounds: int = 5,
    workloads: Sequence[str] = WORKLOADS,
    profile_zlib: bool = False,
    deflate_levels: Sequence[int] = (),
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    import warnings

    import pydicom

    import dicomkit

    warnings.simplefilter("ignore")
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    files = corpus.ensure_corpus(corpus_dir, shape, log=log)
    paths = [str(p) for p in files]
    nbytes = warm_page_cache(paths)
    log(f"write: {len(paths)} files, {nbytes / 2**20:.0f} MiB, page cache warmed; {rounds} rounds")
    out: dict[str, Any] = {
        "benchmark": "write",
        "machine": machine_info(),
        "versions": {
            "dicomkit": dicomkit.__version__,
            "pydicom": pydicom.__version__,
            "isal": _isal_version(),
        },
        "corpus": {"dir": str(Path(paths[0]).parent), "files": len(paths), "bytes": nbytes},
        "workloads": {},
        "checks": [],
    }
    with tempfile.TemporaryDirectory(prefix="dicomkit-bench-write-") as tmp:
        for workload in workloads:
            if workload == "write":
                dk_sets = [dicomkit.read(p) for p in paths]
                py_sets = [pydicom.dcmread(p) for p in paths]
                writers = {**_dicomkit_write(dk_sets), **_pydicom_write(py_sets)}
            else:
                writers = {
                    "dicomkit": _dicomkit_transcode(paths),
                    "dicomkit-zlib": _dicomkit_transcode(paths, stdlib_zlib=True),
                    "pydicom": _pydicom_transcode(paths),
                }
                out["deflate_ratio"] = deflate_ratios(paths)
            res = run_workload(workload, writers, paths, rounds, Path(tmp), log)
            out["workloads"][workload] = res
            out["checks"].extend(res["checks"])
            if workload == "transcode":
                for level in deflate_levels:  # for information: both writers at the same level
                    force_deflate_level(level)
                    try:
                        res = run_workload(workload, writers, paths, rounds, Path(tmp), log)
                    finally:
                        force_deflate_level(None)
                    res.pop("checks")
                    out["workloads"][f"transcode@level{level}"] = res
            del writers
            gc.collect()
    if profile_zlib:
        out["zlib"] = zlib_profile(paths, rounds)
    return out


def print_report(out: dict[str, Any]) -> None:
    print(f"Part 10 write, {out['corpus']['files']} files ({out['corpus']['bytes'] / 2**20:.0f} MiB)")
    print(f"{'workload':10} {'writer':16} {'us/file':>9} {'files/s':>9} {'pydicom/x':>9}")
    for workload, res in out["workloads"].items():
        py = res["peers"].get("pydicom", {}).get("median_seconds")
        for name, e in res["peers"].items():
            if e["status"] != "ok":
                print(f"{workload:10} {name:16} {e['status']}: {e['reason']}")
                continue
            ratio = f"{py / e['median_seconds']:.2f}x" if py else "-"
            print(f"{workload:10} {name:16} {e['us_per_file']:9.0f} {e['files_per_second']:9.1f} {ratio:>9}")
    if "deflate_ratio" in out:
        print(
            "deflate compression ratio on the corpus (explicit bytes / deflated file bytes): "
            + ", ".join(f"{k} {v}" for k, v in out["deflate_ratio"].items())
        )
    if "zlib" in out:
        z = out["zlib"]
        print(
            f"zlib on the data sets ({z['bytes'] / 2**20:.0f} MiB): "
            + ", ".join(
                f"compress level {lv} {z[f'compress_level_{lv}']['us_per_file']:.0f} us/file "
                f"(ratio {z[f'compress_level_{lv}']['ratio']})"
                for lv in (1, 6)
            )
            + f", decompress {z['decompress']['us_per_file']:.0f} us/file"
        )
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']}x"
        print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, help="corpus (cache) directory")
    parser.add_argument("--files", type=int, help="approximate corpus size (default 1,200)")
    parser.add_argument("--quick", action="store_true", help="120 files, 3 rounds")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5)")
    parser.add_argument("--workload", choices=WORKLOADS, action="append", help="repeatable; default all")
    parser.add_argument("--zlib-profile", action="store_true", help="also time zlib alone at levels 1 and 6")
    parser.add_argument(
        "--deflate-levels",
        default="",
        metavar="L,...",
        help="also time transcode with both writers forced to these zlib levels (information)",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target is PASS")
    args = parser.parse_args(argv)

    shape = corpus.chosen_shape(args.quick, args.files)
    rounds = args.rounds or (3 if args.quick else 5)
    out = run(
        corpus_dir=args.corpus_dir,
        shape=shape,
        rounds=rounds,
        workloads=args.workload or WORKLOADS,
        profile_zlib=args.zlib_profile,
        deflate_levels=[int(x) for x in args.deflate_levels.split(",") if x.strip()],
    )
    out["quick"] = bool(args.quick)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    print_report(out)
    if args.check and any(c["status"] != "PASS" for c in out["checks"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
