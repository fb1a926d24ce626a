"""Benchmark ``dicomkit tree --json`` against a plain pydicom script, and a 100,000-file RSS check.

Speed: a generated corpus (default 10,000 files: 20 patients x 2 studies x 5 series x 50
instances, 64x64 16-bit images, ~70 elements each incl. a sequence and a private block) is
scanned by two whole commands, each run as a subprocess, alternately, ``--rounds`` times
after the page cache is warmed (every file read once):

* ``dicomkit tree --json --color never CORPUS`` (all cores);
* a plain pydicom script: ``dcmread(path, stop_before_pixels=True)`` for every file, the same
  attributes per level read into nested dicts (patient → study → series → instances), printed
  as JSON (one process).

Both outputs are checked to hold the same grouping (patients, studies, series, instances).
Target: dicomkit ≥ 6× faster (median wall times).

Memory: a 100,000-file corpus of small files (8x8 pixels) is written by copying one template
per series and patching the UIDs, Instance Number and position in place, then
``dicomkit tree --json`` runs on it in a fresh process started through ``/bin/sh`` and its
peak RSS (children included: ``RUSAGE_CHILDREN`` of the shell) is read. Target: < 500 MB.
The corpus is deleted afterwards.

    .venv/bin/python benchmarks/bench_tree.py                 # both (a few minutes)
    .venv/bin/python benchmarks/bench_tree.py --quick         # 1,000 files, 3 rounds, 10,000-file RSS
    .venv/bin/python benchmarks/bench_tree.py --skip-memory --rounds 5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dicomkit
from dicomkit.dataset import DataElement, Dataset, Sequence
from dicomkit.dictionary import tag_for_keyword

ROOT = "1.2.826.0.1.3680043.8.498.77"
SOP_PLACEHOLDER = ROOT + ".9" + "8" * 20  # fixed width, patched per file
NUMBER_PLACEHOLDER = "987654"  # IS, 6 characters
Z_PLACEHOLDER = "+98765.43"  # DS, 9 characters (twice: position z and Slice Location)

PYDICOM_SCRIPT = r"""
import json, os, sys
from pydicom import dcmread
from pydicom.errors import InvalidDicomError

PATIENT = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
STUDY = ("StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "InstitutionName",
         "ReferringPhysicianName", "RequestedProcedureDescription", "StudyID", "RequestingPhysician",
         "StudyDescription")
SERIES = ("SeriesInstanceUID", "SeriesNumber", "Modality", "SeriesDescription", "StationName",
          "OperatorsName", "BodyPartExamined", "ProtocolName", "NumberOfSlices",
          "PerformedProcedureStepStatus", "SeriesDate", "SeriesTime")
INSTANCE = ("SOPInstanceUID", "SOPClassUID", "InstanceNumber", "ImagePositionPatient",
            "ImageOrientationPatient", "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit",
            "PixelRepresentation", "PixelSpacing", "NumberOfFrames", "ImageComments", "ImageType")

def val(ds, kw):
    v = ds.get(kw)
    if v is None:
        return None
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return [str(x) for x in v]
    return str(v)

patients = {}
skipped = []
for top in sys.argv[1:]:
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                ds = dcmread(path, stop_before_pixels=True)
            except (InvalidDicomError, OSError) as exc:
                skipped.append((path, str(exc)))
                continue
            p = patients.setdefault(val(ds, "PatientID"), {k: val(ds, k) for k in PATIENT} | {"studies": {}})
            st = p["studies"].setdefault(val(ds, "StudyInstanceUID"), {k: val(ds, k) for k in STUDY} | {"series": {}})
            se = st["series"].setdefault(val(ds, "SeriesInstanceUID"), {k: val(ds, k) for k in SERIES} | {"instances": {}})
            se["instances"][val(ds, "SOPInstanceUID")] = {k: val(ds, k) for k in INSTANCE} | {"path": path}
out = {"patients": [p | {"studies": [st | {"series": [se | {"NumberOfInstances": len(se["instances"]),
        "instances": None} for se in st["series"].values()]} for st in p["studies"].values()]}
        for p in patients.values()], "skipped": skipped}
json.dump(out, sys.stdout)
"""


# ---------------------------------------------------------------------------------------
# corpus


def _ds(elements: list[tuple[str | int, str, Any]]) -> Dataset:
    ds = Dataset()
    for key, vr, value in elements:
        tag = key if isinstance(key, int) else tag_for_keyword(key)
        if isinstance(value, list):
            value = Sequence(value)
        ds[tag] = DataElement(tag, vr, value)
    return ds


def _template(p: int, s: int, se: int, size: int) -> bytes:
    study_uid = f"{ROOT}.1.{p + 1}.{s + 1}"
    modality = "CT" if se % 2 == 0 else "MR"
    code = _ds(
        [("CodeValue", "SH", "X1"), ("CodingSchemeDesignator", "SH", "99BENCH"), ("CodeMeaning", "LO", "x")]
    )
    ds = _ds(
        [
            ("SpecificCharacterSet", "CS", "ISO_IR 100"),
            ("ImageType", "CS", ("ORIGINAL", "PRIMARY", "AXIAL")),
            ("InstanceCreationDate", "DA", "20240311"),
            (
                "SOPClassUID",
                "UI",
                "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4",
            ),
            ("SOPInstanceUID", "UI", SOP_PLACEHOLDER),
            ("StudyDate", "DA", f"2024{s + 1:02d}11"),
            ("SeriesDate", "DA", f"2024{s + 1:02d}11"),
            ("ContentDate", "DA", f"2024{s + 1:02d}11"),
            ("StudyTime", "TM", "093012"),
            ("SeriesTime", "TM", f"09{se + 31:02d}00"),
            ("ContentTime", "TM", "094500.123"),
            ("AccessionNumber", "SH", f"ACC{p:04d}{s}"),
            ("Modality", "CS", modality),
            ("Manufacturer", "LO", "dicomkit bench"),
            ("InstitutionName", "LO", "General Hospital"),
            ("ReferringPhysicianName", "PN", "Doe^John"),
            ("StationName", "SH", "STATION1"),
            ("StudyDescription", "LO", f"STUDY {s + 1}"),
            ("SeriesDescription", "LO", f"series {se + 1}"),
            ("OperatorsName", "PN", "Op^One"),
            ("ManufacturerModelName", "LO", "synthetic"),
            ("ProcedureCodeSequence", "SQ", [code]),
            (0x00090010, "LO", "DICOMKIT BENCH"),
            (0x00091001, "LO", "private value"),
            (0x00091002, "OB", bytes(64)),
            ("PatientName", "PN", f"Patient^{p:05d}"),
            ("PatientID", "LO", f"PID{p:05d}"),
            ("PatientBirthDate", "DA", f"19{50 + p % 50:02d}0101"),
            ("PatientSex", "CS", "FM"[p % 2]),
            ("PatientAge", "AS", "050Y"),
            ("BodyPartExamined", "CS", "CHEST"),
            ("SliceThickness", "DS", "2.5"),
            ("ProtocolName", "LO", "protocol"),
            ("PatientPosition", "CS", "HFS"),
            ("StudyInstanceUID", "UI", study_uid),
            ("SeriesInstanceUID", "UI", f"{study_uid}.{se + 1}"),
            ("StudyID", "SH", f"{s + 1}"),
            ("SeriesNumber", "IS", se + 1),
            ("AcquisitionNumber", "IS", 1),
            ("InstanceNumber", "IS", NUMBER_PLACEHOLDER),
            ("ImagePositionPatient", "DS", ("-160", "-160", Z_PLACEHOLDER)),
            ("ImageOrientationPatient", "DS", ("1", "0", "0", "0", "1", "0")),
            ("FrameOfReferenceUID", "UI", f"{study_uid}.99"),
            ("PositionReferenceIndicator", "LO", ""),
            ("SliceLocation", "DS", Z_PLACEHOLDER),
            ("SamplesPerPixel", "US", 1),
            ("PhotometricInterpretation", "CS", "MONOCHROME2"),
            ("Rows", "US", size),
            ("Columns", "US", size),
            ("PixelSpacing", "DS", ("0.7", "0.7")),
            ("BitsAllocated", "US", 16),
            ("BitsStored", "US", 12),
            ("HighBit", "US", 11),
            ("PixelRepresentation", "US", 0),
            ("WindowCenter", "DS", "40"),
            ("WindowWidth", "DS", "400"),
            ("RescaleIntercept", "DS", "-1024"),
            ("RescaleSlope", "DS", "1"),
            ("PerformedProcedureStepStatus", "CS", "COMPLETED"),
            ("PixelData", "OW", bytes(2 * size * size)),
        ]
    )
    buf = io.BytesIO()
    dicomkit.write(ds, buf, transfer_syntax="1.2.840.10008.1.2.1")
    return buf.getvalue()


def _offsets(data: bytes, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    return out


def make_corpus(root: Path, shape: tuple[int, int, int, int], size: int) -> int:
    """Write patients x studies x series x instances files under ``root``; returns the count."""
    patients, studies, series, instances = shape
    count = 0
    for p in range(patients):
        for s in range(studies):
            for se in range(series):
                data = bytearray(_template(p, s, se, size))
                sop = _offsets(data, SOP_PLACEHOLDER.encode())
                num = _offsets(data, NUMBER_PLACEHOLDER.encode())
                zs = _offsets(data, Z_PLACEHOLDER.encode())
                folder = root / f"P{p:05d}" / f"S{s + 1}" / f"SE{se + 1:02d}"
                folder.mkdir(parents=True, exist_ok=True)
                for n in range(instances):
                    uid = f"{ROOT}.9{p:06d}{s:02d}{se:03d}{n:09d}".encode()
                    assert len(uid) == len(SOP_PLACEHOLDER)
                    for at in sop:
                        data[at : at + len(uid)] = uid
                    for at in num:
                        data[at : at + 6] = f"{n + 1:06d}".encode()
                    for at in zs:
                        data[at : at + 9] = f"{-2.5 * n:+09.2f}".encode()
                    (folder / f"IM{n + 1:05d}.dcm").write_bytes(data)
                    count += 1
    return count


def _shape_for(files: int) -> tuple[int, int, int, int]:
    instances = 50 if files >= 2000 else 10
    patients = max(1, files // (2 * 5 * instances))
    return (patients, 2, 5, instances)


# ---------------------------------------------------------------------------------------
# measurements


def _warm(root: Path) -> None:
    for path in root.rglob("*.dcm"):
        path.read_bytes()


def _run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def _grouping(tree: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {
        (str(p["PatientID"]), str(st["StudyInstanceUID"]), str(se["SeriesInstanceUID"])): se[
            "NumberOfInstances"
        ]
        for p in tree["patients"]
        for st in p["studies"]
        for se in st["series"]
    }


def bench_speed(files: int, rounds: int, work: Path) -> dict[str, Any]:
    root = work / f"tree-{files}"
    shape = _shape_for(files)
    t0 = time.perf_counter()
    n = make_corpus(root, shape, 64)
    print(f"corpus: {n} files {shape} written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    _warm(root)
    script = work / "pydicom_tree.py"
    script.write_text(PYDICOM_SCRIPT)
    dicomkit_cmd = [sys.executable, "-m", "dicomkit", "tree", "--json", "--color", "never", str(root)]
    pydicom_cmd = [sys.executable, str(script), str(root)]
    _, out_d = _run(dicomkit_cmd)
    _, out_p = _run(pydicom_cmd)
    if _grouping(json.loads(out_d)) != _grouping(json.loads(out_p)):
        raise SystemExit("dicomkit and the pydicom script disagree on the grouping")
    times: dict[str, list[float]] = {"dicomkit": [], "pydicom": []}
    for r in range(rounds):
        order = [("dicomkit", dicomkit_cmd), ("pydicom", pydicom_cmd)]
        if r % 2:
            order.reverse()
        for name, cmd in order:
            times[name].append(_run(cmd)[0])
        print(
            f"round {r + 1}: dicomkit {times['dicomkit'][-1]:.2f} s, pydicom {times['pydicom'][-1]:.2f} s",
            file=sys.stderr,
        )
    shutil.rmtree(root)
    d, p = statistics.median(times["dicomkit"]), statistics.median(times["pydicom"])
    return {
        "files": n,
        "dicomkit_s": d,
        "pydicom_s": p,
        "ratio": p / d,
        "target": 6.0,
        "status": "PASS" if p / d >= 6.0 else "FAIL",
        "rounds": times,
    }


def bench_memory(files: int, work: Path) -> dict[str, Any]:
    root = work / f"rss-{files}"
    shape = _shape_for(files)
    if files >= 50_000:
        shape = (files // (2 * 5 * 100), 2, 5, 100)
    t0 = time.perf_counter()
    n = make_corpus(root, shape, 8)
    print(f"corpus: {n} small files {shape} written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    try:
        cmd = f"{sys.executable} -m dicomkit tree --json --color never {root} > /dev/null"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        proc = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode not in (0, 1):
            raise SystemExit(f"dicomkit tree failed: {proc.stderr[-2000:]}")
    finally:
        shutil.rmtree(root)
    peak_mb = peak_kib * 1024 / 1e6
    return {
        "files": n,
        "seconds": elapsed,
        "peak_rss_mb": peak_mb,
        "note": f"largest single process; RUSAGE_CHILDREN before: {before} KiB",
        "target_mb": 500,
        "status": "PASS" if peak_mb < 500 else "FAIL",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--memory-files", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    if args.quick:
        args.files, args.memory_files, args.rounds = 1000, 10_000, 3
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dicomkit-bench-tree-") as tmp:
        work = Path(tmp)
        if not args.skip_speed:
            results["speed"] = bench_speed(args.files, args.rounds, work)
            s = results["speed"]
            print(
                f"tree --json, {s['files']} files: dicomkit {s['dicomkit_s']:.2f} s, pydicom script "
                f"{s['pydicom_s']:.2f} s: {s['ratio']:.2f}x (target >= 6x) {s['status']}"
            )
        if not args.skip_memory:
            results["memory"] = bench_memory(args.memory_files, work)
            m = results["memory"]
            print(
                f"tree --json, {m['files']} small files: {m['seconds']:.1f} s, peak RSS "
                f"{m['peak_rss_mb']:.0f} MB (target < 500 MB) {m['status']}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(r["status"] == "PASS" for r in results.values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
