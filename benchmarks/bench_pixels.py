"""Pixel decoding throughput: dicomkit.pixels vs pydicom vs dicomsdl, in the same run.

Two workloads, each timed as whole-set passes (read the file + decode its pixels), the readers
alternating within the process (the starting reader rotates every round) after an untimed pass
that also checks the readers return the same pixels (dicomsdl: the same shape — it leaves the
bits above Bits Stored as stored, where dicomkit and pydicom sign-fill them; the corpus's random
16-bit values with Bits Stored 12 make that correction necessary in every file):

native  the generated corpus (benchmarks/corpus.py: 512x512 int16 CT/MR, Explicit VR LE):
        ``pixel_array(dicomkit.read(p))`` vs ``pydicom.dcmread(p).pixel_array`` vs
        ``dicomsdl.open_file(p).pixelData(storedvalue=True)``. Targets: dicomkit >= 5x pydicom, >= 1.0x dicomsdl.
clean   the same files with their pixel values inside Bits Stored (cached next to the corpus), so
        no correction is needed: dicomkit returns a view. For information (no target).
rle     the first files of the corpus compressed with DCMTK ``dcmcrle`` (cached next to the corpus):
        dicomkit's numpy RLE decoder vs pydicom's own RLE decoder (``decoding_plugin="pydicom"``).
        Target: dicomkit >= 3x pydicom. pylibjpeg-rle (compiled) and dicomsdl are timed for
        information.

Reported: median pass time over the rounds, files/s, and ``peer / dicomkit`` time ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from benchmarks import corpus
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import corpus  # type: ignore[no-redef]

TARGETS = {("native", "pydicom"): 5.0, ("native", "dicomsdl"): 1.0, ("rle", "pydicom"): 3.0}


def _dicomkit() -> Callable[[Path], Any]:
    import dicomkit
    from dicomkit.pixels import pixel_array

    def run(path: Path) -> Any:
        return pixel_array(dicomkit.read(path))

    return run


def _pydicom(plugin: str | None = None) -> Callable[[Path], Any]:
    import pydicom

    def run(path: Path) -> Any:
        ds = pydicom.dcmread(path)
        if plugin is not None:
            ds.pixel_array_options(decoding_plugin=plugin)
        return ds.pixel_array

    return run


def _dicomsdl() -> Callable[[Path], Any] | None:
    try:
        import dicomsdl
    except ImportError:
        return None

    def run(path: Path) -> Any:
        return dicomsdl.open_file(str(path)).pixelData(storedvalue=True)  # stored values, as pixel_array

    return run


def _clean_files(files: list[Path]) -> list[Path]:
    """The corpus with its pixel values brought into Bits Stored (as scanners write them).

    The generated corpus has random 16-bit values with Bits Stored 12, so every file needs the
    unused-bit correction (a copy); here dicomkit can return its view. Written with pydicom.
    """
    import numpy as np
    import pydicom

    out_dir = files[0].parent.parent / (files[0].parent.name + "-clean")
    out_dir.mkdir(exist_ok=True)
    out = []
    for src in files:
        dst = out_dir / src.name
        if not dst.exists():
            ds = pydicom.dcmread(src)
            shift = 16 - int(ds.BitsStored)
            arr = np.frombuffer(ds.PixelData, dtype="<i2" if ds.PixelRepresentation else "<u2")
            ds.PixelData = ((arr << shift) >> shift).astype(arr.dtype).tobytes()
            tmp = dst.with_suffix(".partial")
            ds.save_as(tmp)
            tmp.rename(dst)
        out.append(dst)
    return out


def _rle_files(files: list[Path], count: int) -> list[Path]:
    out_dir = files[0].parent.parent / (files[0].parent.name + "-rle")
    out_dir.mkdir(exist_ok=True)
    out = []
    for src in files[:count]:
        dst = out_dir / src.name
        if not dst.exists():
            tmp = dst.with_suffix(".partial")
            subprocess.run(["dcmcrle", str(src), str(tmp)], check=True, capture_output=True)
            tmp.rename(dst)
        out.append(dst)
    return out


def _time(readers: dict[str, Callable[[Path], Any]], files: list[Path], rounds: int) -> dict[str, float]:
    import numpy as np

    names = list(readers)
    ref = [np.asarray(readers[names[0]](f)) for f in files]
    for name in names[1:]:  # untimed pass: warm up and check the pixels agree
        for f, r in zip(files, ref, strict=True):
            got = np.asarray(readers[name](f))
            # dicomsdl does not clear/sign-fill the bits above Bits Stored: compare shapes only
            same = got.shape == r.shape and (name == "dicomsdl" or np.array_equal(got, r))
            if not same:
                raise SystemExit(f"{name} disagrees with {names[0]} on {f}")
    times: dict[str, list[float]] = {n: [] for n in names}
    for k in range(rounds):
        order = names[k % len(names) :] + names[: k % len(names)]
        for name in order:
            fn = readers[name]
            gc.collect()
            t0 = time.perf_counter()
            for f in files:
                fn(f)
            times[name].append(time.perf_counter() - t0)
    return {n: statistics.median(t) for n, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=600, help="native corpus size (default 600)")
    ap.add_argument("--rle-files", type=int, default=60, help="files compressed with dcmcrle (default 60)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="120 files, 20 RLE files, 3 rounds")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.files, args.rle_files, args.rounds = 120, 20, 3
    warnings.simplefilter("ignore")
    files = corpus.ensure_corpus(None, corpus.Shape.for_files(args.files))
    results: dict[str, Any] = {"files": len(files), "rounds": args.rounds, "workloads": {}}

    native: dict[str, Callable[[Path], Any]] = {"dicomkit": _dicomkit(), "pydicom": _pydicom()}
    sdl = _dicomsdl()
    if sdl is not None:
        native["dicomsdl"] = sdl
    results["workloads"]["native"] = (len(files), _time(native, files, args.rounds))
    clean = _clean_files(files)
    results["workloads"]["clean"] = (len(clean), _time(native, clean, args.rounds))

    if shutil.which("dcmcrle"):
        rle_files = _rle_files(files, args.rle_files)
        rle: dict[str, Callable[[Path], Any]] = {"dicomkit": _dicomkit(), "pydicom": _pydicom("pydicom")}
        try:
            import rle as _pylibjpeg_rle  # noqa: F401  (pylibjpeg-rle)

            rle["pylibjpeg-rle"] = _pydicom("pylibjpeg")
        except ImportError:
            pass
        if sdl is not None:
            rle["dicomsdl"] = sdl
        results["workloads"]["rle"] = (len(rle_files), _time(rle, rle_files, args.rounds))

    rows = []
    for workload, (n, medians) in results["workloads"].items():
        base = medians["dicomkit"]
        for name, t in medians.items():
            ratio = t / base
            target = TARGETS.get((workload, name))
            verdict = "" if target is None else ("PASS" if ratio >= target else "FAIL")
            rows.append((workload, name, n, t, n / t, ratio, target, verdict))
    print(f"{'workload':8} {'reader':14} {'files':>5} {'median s':>9} {'files/s':>9} {'peer/dk':>8} target")
    for workload, name, n, t, fps, ratio, target, verdict in rows:
        tgt = f">= {target:.1f}x {verdict}" if target is not None else ""
        print(f"{workload:8} {name:14} {n:5d} {t:9.3f} {fps:9.1f} {ratio:7.2f}x {tgt}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, **results}, indent=2, default=str) + "\n")
    return 0 if all(r[7] != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
