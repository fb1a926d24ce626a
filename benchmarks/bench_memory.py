"""Peak memory of reading a ~1 GB multi-frame file (header only, and in full).

A multi-frame file (default 2,000 frames of 512x512 uint16 = 1.05 GB of pixel
data) is written once per run: pydicom writes the header, then the Pixel Data
element header and the pixel bytes are appended in 8 MiB chunks, so the generator
itself stays small (its own peak RSS is reported).  Each measurement then runs in
a fresh interpreter that imports the reader, notes its ``ru_maxrss`` (the
baseline), reads the file and reports ``ru_maxrss`` again:

header  ``read(path, stop_before_pixels=True)`` + a few attributes.
        Target: dicomkit's peak RSS < 50 MiB (ru_maxrss).
full    ``read(path)`` + ``len(ds.PixelData)``.
        Target: pixel bytes copied at most once, i.e.
        peak RSS - baseline <= 1.1 x file size.

pydicom and dicomsdl (``dicomsdl.open_file`` + the PixelData element's value) are
measured the same way for reference.  The big file is deleted afterwards
(``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER_TARGET_MIB = 50.0
FULL_TARGET_RATIO = 1.1
ROWS = COLUMNS = 512
DEFAULT_FRAMES = 2000
QUICK_FRAMES = 200
CHUNK_FRAMES = 16  # 16 x 512 KiB = 8 MiB per write

# Runs in a fresh interpreter: argv = path, mode (header|full), reader spec.
CHILD = r"""
import json, resource, sys, time, importlib
path, mode, reader = sys.argv[1:4]

def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

def hwm_kb():  # the kernel's per-mm high-water mark: a cross-check of ru_maxrss
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

if reader == "dicomsdl":
    import dicomsdl
    def read(p, stop_before_pixels=False):
        return dicomsdl.open_file(p)
    def pixels(ds):
        return ds.getDataElement("PixelData").value()
else:
    module, _, attr = reader.partition(":")
    read = getattr(importlib.import_module(module), attr or "read")
    def pixels(ds):
        return ds.PixelData

baseline = maxrss_kb()
t0 = time.perf_counter()
ds = read(path, stop_before_pixels=(mode == "header"))
fields = [str(ds.PatientID), str(ds.SOPInstanceUID), int(ds.NumberOfFrames), int(ds.Rows)]
nbytes = None
if mode == "full":
    value = pixels(ds)
    nbytes = len(value) if hasattr(value, "__len__") else None
elapsed = time.perf_counter() - t0
print(json.dumps({"baseline_kb": baseline, "peak_kb": maxrss_kb(), "vmhwm_kb": hwm_kb(),
                  "seconds": elapsed, "pixel_bytes_seen": nbytes, "fields": fields}))
"""


def write_multiframe(path: Path, frames: int = DEFAULT_FRAMES) -> int:
    """Write a ``frames`` x 512 x 512 uint16 file in chunks; return its size."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    frame_bytes = ROWS * COLUMNS * 2
    nbytes = frames * frame_bytes
    if nbytes > 0xFFFFFFFE:
        raise ValueError(f"{frames} frames do not fit a 32-bit Pixel Data length")

    sop_class = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC Image Storage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = "20240101"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.PatientName = "BIG^MULTIFRAME"
    ds.PatientID = "BIG00001"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.InstanceNumber = 1
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = 33.3
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0

    base = np.arange(ROWS * COLUMNS, dtype=np.uint16).reshape(1, ROWS * COLUMNS)
    offsets = np.arange(CHUNK_FRAMES, dtype=np.uint16).reshape(CHUNK_FRAMES, 1)
    with path.open("wb") as f:
        dcmwrite(f, ds, enforce_file_format=True)
        # (7FE0,0010) OW, explicit VR little endian: tag, VR, 2 reserved bytes, 32-bit length.
        f.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, nbytes))
        for start in range(0, frames, CHUNK_FRAMES):
            count = min(CHUNK_FRAMES, frames - start)
            chunk = base + offsets[:count] + np.uint16(start)
            f.write(chunk.tobytes())
        # Flush to disk now so that background writeback does not slow down whichever
        # reader happens to be measured first.
        f.flush()
        os.fsync(f.fileno())
    return path.stat().st_size


def clean_run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` so that its ``ru_maxrss`` starts from zero.

    Linux carries a process's RSS high-water mark across fork+exec, so a child
    spawned directly by this (large) process would report our peak as its own.
    Going through a small shell that forks the command (and does not exec it)
    gives the child a fresh high-water mark.
    """
    return subprocess.run(
        ["/bin/sh", "-c", '"$@"; rc=$?; exit $rc', "sh", *argv], capture_output=True, text=True, check=False
    )


def measure(path: Path, mode: str, reader: str) -> dict[str, Any]:
    proc = clean_run([sys.executable, "-c", CHILD, str(path), mode, reader])
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"status": "error", "reason": lines[-1] if lines else f"exit {proc.returncode}"}
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    res["status"] = "ok"
    res["peak_mib"] = round(res["peak_kb"] / 1024, 1)
    res["baseline_mib"] = round(res["baseline_kb"] / 1024, 1)
    res["delta_mib"] = round((res["peak_kb"] - res["baseline_kb"]) / 1024, 1)
    return res


def dicomkit_reader(impl: str | None) -> tuple[str | None, str | None, bool]:
    """(reader spec for the child, reason it is unavailable, whether that is an error)."""
    if impl:
        return impl, None, False
    probe = subprocess.run(
        [sys.executable, "-c", "import dicomkit, sys; sys.exit(0 if hasattr(dicomkit, 'read') else 3)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 3:
        return None, "dicomkit.read does not exist yet", False
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines()
        return None, f"dicomkit is not importable ({lines[-1] if lines else probe.returncode})", True
    return "dicomkit:read", None, False


def run(
    *,
    frames: int = DEFAULT_FRAMES,
    directory: Path | None = None,
    keep: bool = False,
    dicomkit_impl: str | None = None,
    log: Any = None,
) -> dict[str, Any]:
    import resource

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    directory = directory or Path(tempfile.gettempdir()) / "dicomkit-bench"
    directory.mkdir(parents=True, exist_ok=True)
    need = frames * ROWS * COLUMNS * 2
    free = shutil.disk_usage(directory).free
    if free < need * 1.2:
        raise RuntimeError(f"need {need / 1e9:.1f} GB free in {directory}, have {free / 1e9:.1f} GB")
    path = directory / f"multiframe-{frames}.dcm"
    out: dict[str, Any] = {"benchmark": "memory", "frames": frames, "readers": {}, "checks": []}
    try:
        t0 = time.perf_counter()
        size = write_multiframe(path, frames)
        out["file_bytes"] = size
        out["write_seconds"] = round(time.perf_counter() - t0, 2)
        out["generator_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        log(
            f"memory: wrote {size / 1e9:.2f} GB ({frames} frames) in {out['write_seconds']} s, "
            f"generator peak RSS {out['generator_peak_mib']} MiB"
        )
        dk_spec, dk_reason, dk_broken = dicomkit_reader(dicomkit_impl)
        readers = {"dicomkit": dk_spec, "pydicom": "pydicom:dcmread", "dicomsdl": "dicomsdl"}
        for name, spec in readers.items():
            entry: dict[str, Any] = {"spec": spec}
            out["readers"][name] = entry
            for mode in ("header", "full"):
                if spec is None:
                    entry[mode] = {"status": "error" if dk_broken else "unavailable", "reason": dk_reason}
                    continue
                res = measure(path, mode, spec)
                entry[mode] = res
                if res["status"] == "ok":
                    log(
                        f"  {name} {mode}: peak {res['peak_mib']} MiB "
                        f"(baseline {res['baseline_mib']} MiB, +{res['delta_mib']} MiB) in {res['seconds']:.2f} s"
                    )
                else:
                    log(f"  {name} {mode}: ERROR {res['reason']}")
    finally:
        if keep:
            log(f"  kept {path}")
        else:
            path.unlink(missing_ok=True)
    out["checks"] = checks_for(out)
    return out


def checks_for(out: dict[str, Any]) -> list[dict[str, Any]]:
    dk = out["readers"].get("dicomkit", {})
    size_mib = out["file_bytes"] / 2**20
    checks: list[dict[str, Any]] = []

    header = dk.get("header", {})
    c: dict[str, Any] = {
        "name": "memory: header-only read peak RSS",
        "target": f"< {HEADER_TARGET_MIB:g} MiB",
        "unit": "MiB",
        "value": None,
        "per_reader_unit": "MiB peak",
        "per_reader": {n: e.get("header", {}).get("peak_mib") for n, e in out["readers"].items()},
    }
    if header.get("status") == "ok":
        c.update(
            value=header["peak_mib"], status="PASS" if header["peak_mib"] < HEADER_TARGET_MIB else "FAIL"
        )
    else:
        c.update(status="FAIL" if header.get("status") == "error" else "PENDING", note=header.get("reason"))
    checks.append(c)

    full = dk.get("full", {})
    c = {
        "name": "memory: full read (peak - baseline) / file size",
        "target": f"<= {FULL_TARGET_RATIO:g}x",
        "unit": "x",
        "value": None,
        "per_reader_unit": "x file",
        "per_reader": {
            n: round(e["full"]["delta_mib"] / size_mib, 3)
            if e.get("full", {}).get("status") == "ok"
            else None
            for n, e in out["readers"].items()
        },
    }
    if full.get("status") == "ok":
        ratio = full["delta_mib"] / size_mib
        c.update(
            value=round(ratio, 3),
            status="PASS" if ratio <= FULL_TARGET_RATIO else "FAIL",
            note=f"peak {full['peak_mib']} MiB for a {size_mib:.0f} MiB file",
        )
    else:
        c.update(status="FAIL" if full.get("status") == "error" else "PENDING", note=full.get("reason"))
    checks.append(c)
    return checks


def print_report(out: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    size_mib = out["file_bytes"] / 2**20
    table = Table(title=f"Peak RSS reading a {size_mib:.0f} MiB multi-frame file ({out['frames']} frames)")
    for col in ("reader", "mode", "baseline MiB", "peak MiB", "peak-baseline", "x file", "seconds", "notes"):
        table.add_column(col, justify="left" if col in ("reader", "mode", "notes") else "right")
    for name, entry in out["readers"].items():
        for mode in ("header", "full"):
            r = entry.get(mode, {})
            if r.get("status") != "ok":
                table.add_row(name, mode, "-", "-", "-", "-", "-", f"{r.get('status')}: {r.get('reason')}")
                continue
            table.add_row(
                name,
                mode,
                f"{r['baseline_mib']:.1f}",
                f"{r['peak_mib']:.1f}",
                f"{r['delta_mib']:.1f}",
                f"{r['delta_mib'] / size_mib:.2f}",
                f"{r['seconds']:.2f}",
                "",
            )
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    console.print(f"generator peak RSS: {out['generator_peak_mib']} MiB")
    for c in out["checks"]:
        value = "-" if c["value"] is None else f"{c['value']} {c['unit']}"
        console.print(f"{c['status']:8} {c['name']}: {value} (target {c['target']}) {c.get('note') or ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, help=f"default {DEFAULT_FRAMES} (~1.05 GB)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FRAMES} frames (~105 MB)")
    parser.add_argument("--dir", type=Path, help="where to write the temporary file")
    parser.add_argument("--keep", action="store_true", help="do not delete the file afterwards")
    parser.add_argument(
        "--dicomkit-impl", metavar="MODULE:FUNC", help="measure this instead of dicomkit.read"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    frames = args.frames or (QUICK_FRAMES if args.quick else DEFAULT_FRAMES)
    out = run(frames=frames, directory=args.dir, keep=args.keep, dicomkit_impl=args.dicomkit_impl)
    out["quick"] = bool(args.quick)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    print_report(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
