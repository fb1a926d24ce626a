"""Pixel decoding throughput: dicomkit.pixels vs pydicom vs dicomsdl, and dicomkit's overhead over
the JPEG-family codecs called directly, in the same run.

The workloads are each timed as whole-set passes (read the file + decode its pixels), the readers
alternating within the process (the starting reader rotates every round) after an untimed pass
that also checks the readers return the same pixels (dicomsdl: the same shape — it leaves the
bits above Bits Stored as stored, where dicomkit and pydicom sign-fill them; the corpus's random
16-bit values with Bits Stored 12 make that correction necessary in every file):

native  the generated corpus (benchmarks/corpus.py: 512x512 int16 CT/MR, Explicit VR LE):
        ``pixel_array(dicomkit.read(p))`` vs ``pydicom.dcmread(p).pixel_array`` vs
        ``dicomsdl.open_file(p).pixelData(storedvalue=True)``, each result dropped at once (a folder
        processed file by file). Targets (on ``native/path``): dicomkit >= 5x pydicom, >= 1.0x dicomsdl.
native-keep  the same, every result of a pass kept until the pass ends (a series loaded into memory).
        Both are also reported as ``native/path`` and ``native-keep/path``: relative to
        ``dicomkit-path``, ``pixel_array(p)`` given the path (the pixels read straight into the
        array's buffer: one buffer per file instead of two). The targets are judged on
        ``native/path`` (a pass over the corpus, read + decode, file by file); the other rows
        show the same ratios for information.
        ``pydicom-path`` is pydicom 3's ``pydicom.pixels.pixel_array(p)`` (information).
        Each timed pass runs in a new Python process (after an untimed warm-up pass there), so every
        reader starts from the same allocator state: the fresh pages a 512 KiB buffer costs (page
        faults, ~2 us per 4 KiB page on this VM) are a large part of all these timings.
        ``dicomkit-read_pixels`` is ``dicomkit.pixels.decode.read_pixels(p)`` (the data set read without
        its pixel data, then the pixels read straight into the array's buffer): information.
clean   the same files with their pixel values inside Bits Stored (cached next to the corpus), so
        no correction is needed: dicomkit returns a view. For information (no target).
rle     the first files of the corpus compressed with DCMTK ``dcmcrle`` (cached next to the corpus):
        dicomkit's numpy-only RLE decoder (imagecodecs' PackBits switched off) vs pydicom's own RLE
        decoder (``decoding_plugin="pydicom"``). Target: dicomkit >= 3x pydicom.
        ``dicomkit-imagecodecs`` (PackBits in C, the default when the codecs extra is installed),
        pylibjpeg-rle (compiled) and dicomsdl are timed for information.
frame   one frame of a 2,000-frame RLE file (64x64 16-bit, generated once next to the corpus):
        bytes read (``/proc/self/io`` rchar) and peak traced memory (tracemalloc: Python and numpy
        allocations) for ``read_pixels(path, k)``, for ``pixel_array(dicomkit.read(path), k)`` and
        for pydicom 3's ``pydicom.pixels.pixel_array(path, index=k)``; information (the test suite
        checks the bytes read).
jpeg-ls, j2k, htj2k, jpeg-sv1, jpeg-base
        dicomkit's overhead over its codec (imagecodecs): the first ``--codec-files`` clean files
        compressed by dicomkit itself (``dicomkit.pixels.compress.compress``: JPEG-LS lossless,
        JPEG 2000 lossless, HTJ2K lossless, JPEG Lossless SV1; JPEG Baseline on the pixels
        brought to 8 bits, ``value >> 4`` + 128), cached next to the corpus. One row per reader:
        ``dicomkit`` is ``pixel_array(dicomkit.read(p))``, ``dicomkit-read_pixels`` is
        ``read_pixels(p)``, ``direct`` is the codec called directly: open and read the whole file
        (``fh.read()``), a memoryview of the frame's single fragment (its offset and length found
        beforehand, untimed) passed to the imagecodecs decoder dicomkit uses (``jpegls_decode``,
        ``jpeg2k_decode``, ``htj2k_decode``, ``jpeg8_decode``), plus, where that decoder returns
        the stored bits unsigned and dicomkit a signed array (JPEG-LS, JPEG Lossless of the
        signed corpus), the one numpy shift pair that sign-extends them: the same array as
        dicomkit's (checked in the untimed pass). ``pydicom`` (``dcmread(p).pixel_array``, its
        default plugins) is information, left out where it has no decoder or returns other pixels.
        Target: dicomkit <= 1.2x direct, written in the rows as ``direct / dicomkit >= 0.833``
        (the rows' ratio is always ``reader / dicomkit``); the ``codec_overhead`` JSON entry and
        the summary lines give ``dicomkit / direct`` and ``read_pixels / direct`` (wall and CPU)
        and the extra microseconds per file.

Reported: median pass time over the rounds, files/s, and ``peer / dicomkit`` time ratios; the
same ratios in CPU time (``time.process_time``), less sensitive to other load on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from benchmarks import corpus
except ImportError:  # run as a script: benchmarks/ itself is sys.path[0]
    import corpus  # type: ignore[no-redef]

#: Keyed by (row label, reader). The native targets ("uncompressed pixel_array over the benchmark
#: corpus, read + decode") are judged on a pass over the corpus file by file with ``pixel_array(p)``
#: ("native/path"); ``pixel_array(read(p))`` ("native") and the keep pattern are reported beside
#: them with the same ratios, for information (see docs/benchmarks.md: page faults decide them).
TARGETS = {
    ("native/path", "pydicom"): 5.0,
    ("native/path", "dicomsdl"): 1.0,
    ("rle", "pydicom"): 3.0,
}


def _dicomkit(*, numpy_only: bool = False) -> Callable[[Path], Any]:
    import dicomkit
    import dicomkit.pixels.rle as rle
    from dicomkit.pixels import pixel_array

    def run(path: Path) -> Any:
        return pixel_array(dicomkit.read(path))

    def run_numpy(path: Path) -> Any:
        saved, rle._PACKBITS = rle._PACKBITS, None
        try:
            return pixel_array(dicomkit.read(path))
        finally:
            rle._PACKBITS = saved

    return run_numpy if numpy_only else run


def _dicomkit_read_pixels() -> Callable[[Path], Any]:
    from dicomkit.pixels.decode import read_pixels

    def run(path: Path) -> Any:
        return read_pixels(path)[1]

    return run


def _dicomkit_path() -> Callable[[Path], Any]:
    from dicomkit.pixels import pixel_array

    def run(path: Path) -> Any:
        return pixel_array(path)

    return run


def _pydicom_path() -> Callable[[Path], Any]:
    from pydicom.pixels import pixel_array as pydicom_pixel_array

    def run(path: Path) -> Any:
        return pydicom_pixel_array(path)

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


_FACTORIES: dict[str, Callable[[], Callable[[Path], Any] | None]] = {
    "dicomkit": _dicomkit,
    "dicomkit-numpy": lambda: _dicomkit(numpy_only=True),
    "dicomkit-read_pixels": _dicomkit_read_pixels,
    "dicomkit-path": _dicomkit_path,
    "pydicom": _pydicom,
    "pydicom-path": _pydicom_path,
    "pydicom-own": lambda: _pydicom("pydicom"),
    "pylibjpeg-rle": lambda: _pydicom("pylibjpeg"),
    "dicomsdl": _dicomsdl,
}


def _reader(factory: str) -> Callable[[Path], Any] | None:
    """The reader ``factory`` makes, labelled with it (the timed passes rebuild it in a child)."""
    fn = _FACTORIES[factory]()
    if fn is not None:
        fn.factory = factory  # type: ignore[attr-defined]
    return fn


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


def _time(
    readers: dict[str, Callable[[Path], Any]], files: list[Path], rounds: int, *, keep: bool = False
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds per pass, by reader.

    ``keep``: each pass keeps every result in a list until the pass ends (loading a series into
    memory), else each result is dropped at once (processing a folder file by file). The arrays of
    the check pass are released before timing: holding them changes what the allocator hands out
    (the fresh pages a 512 KiB buffer costs dominate these timings, see docs/benchmarks.md)."""
    import numpy as np

    names = list(readers)
    ref = [np.asarray(readers[names[0]](f)) for f in files]
    got = None
    for name in names[1:]:  # untimed pass: warm up and check the pixels agree
        for f, r in zip(files, ref, strict=True):
            got = np.asarray(readers[name](f))
            # dicomsdl does not clear/sign-fill the bits above Bits Stored: compare shapes only
            same = got.shape == r.shape and (name == "dicomsdl" or np.array_equal(got, r))
            if not same:
                raise SystemExit(f"{name} disagrees with {names[0]} on {f}")
    del ref, got
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    isolated = all(hasattr(fn, "factory") for fn in readers.values())
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps([str(f) for f in files]))
        for k in range(rounds):
            order = names[k % len(names) :] + names[: k % len(names)]
            for name in order:
                if isolated:
                    wall, used = _child_pass(readers[name].factory, listing, keep)  # type: ignore[attr-defined]
                else:
                    wall, used = _one_pass(readers[name], files, keep)
                times[name].append(wall)
                cpu[name].append(used)
    return (
        {n: statistics.median(t) for n, t in times.items()},
        {n: statistics.median(t) for n, t in cpu.items()},
    )


def _child_pass(factory: str, listing: Path, keep: bool) -> tuple[float, float]:
    """One timed pass of reader ``factory`` over the files in ``listing``, in a new Python process
    (after one untimed warm-up pass there): every reader starts from the same allocator state."""
    cmd = [sys.executable, __file__, "--child", factory, "--child-files", str(listing)]
    if keep:
        cmd.append("--child-keep")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"timing {factory} failed:\n{out.stderr}")
    wall, used = json.loads(out.stdout.strip().splitlines()[-1])
    return float(wall), float(used)


def _one_pass(fn: Callable[[Path], Any], files: list[Path], keep: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one pass of ``fn`` over ``files`` (see ``_time`` for ``keep``)."""
    gc.collect()
    kept: list[Any] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    if keep:
        for f in files:
            kept.append(fn(f))
    else:
        for f in files:
            fn(f)
    wall, used = time.perf_counter() - t0, time.process_time() - c0
    del kept
    return wall, used


def _child(factory: str, listing: Path, keep: bool) -> int:
    files = [Path(p) for p in json.loads(listing.read_text())]
    fn = _FACTORIES[factory]()
    if fn is None:
        raise SystemExit(f"{factory} is not available")
    for f in files:
        fn(f)
    print(json.dumps(_one_pass(fn, files, keep)))
    return 0


def _many_frames_file(files: list[Path], frames: int = 2000) -> Path | None:
    """A 2,000-frame RLE Lossless file (64x64 16-bit frames, Basic Offset Table), cached:
    written natively by dicomkit, compressed by DCMTK ``dcmcrle`` (None without DCMTK)."""
    import numpy as np

    import dicomkit
    from dicomkit.dataset import DataElement

    path = files[0].parent.parent / f"{files[0].parent.name}-rle-{frames}-frames.dcm"
    if path.exists():
        return path
    if not shutil.which("dcmcrle"):
        return None
    rng = np.random.default_rng(2000)
    ds = dicomkit.read(files[0], stop_before_pixels=True)
    ds.meta = None
    ds.Rows = ds.Columns = 64
    ds.NumberOfFrames = str(frames)
    ds.PixelRepresentation = 0
    ramp = np.add.outer(np.arange(64), np.arange(64)).astype(np.uint16) * 16
    pixels = ramp + rng.integers(0, 8, size=(frames, 64, 64), dtype=np.uint16)
    ds[0x7FE00010] = DataElement(0x7FE00010, "OW", pixels.astype("<u2").tobytes())
    native = path.with_suffix(".native.partial")
    dicomkit.write(ds, native, transfer_syntax="1.2.840.10008.1.2.1")
    tmp = path.with_suffix(".partial")
    subprocess.run(["dcmcrle", "+ot", str(native), str(tmp)], check=True, capture_output=True)
    native.unlink()
    tmp.rename(path)
    return path


def _rchar() -> int:
    try:
        with open("/proc/self/io") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))
    except (OSError, StopIteration):
        return -1


def _one_frame(path: Path, index: int) -> dict[str, dict[str, float]]:
    """Bytes read, peak traced memory and time to decode frame ``index`` of ``path``."""
    import tracemalloc

    import pydicom.pixels

    import dicomkit
    from dicomkit.pixels import pixel_array
    from dicomkit.pixels.decode import read_pixels

    ways: dict[str, Callable[[], Any]] = {
        "dicomkit read_pixels": lambda: read_pixels(path, index)[1],
        "dicomkit pixel_array(read)": lambda: pixel_array(dicomkit.read(path), index),
        "pydicom pixels.pixel_array": lambda: pydicom.pixels.pixel_array(
            str(path), index=index, decoding_plugin="pydicom"
        ),
    }
    out: dict[str, dict[str, float]] = {}
    for name, fn in ways.items():
        fn()  # warm
        gc.collect()
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0  # timed without tracemalloc (it slows allocations)
        r0 = _rchar()
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = {"bytes_read": _rchar() - r0, "peak_traced_bytes": peak, "seconds": elapsed}
    return out


# -- codec overhead: dicomkit vs calling imagecodecs directly ------------------------------------

#: workload name -> (transfer syntax UID, 8-bit source, imagecodecs decoder dicomkit uses)
CODEC_SYNTAXES: dict[str, tuple[str, bool, str]] = {
    "jpeg-ls": ("1.2.840.10008.1.2.4.80", False, "jpegls_decode"),
    "j2k": ("1.2.840.10008.1.2.4.90", False, "jpeg2k_decode"),
    "htj2k": ("1.2.840.10008.1.2.4.201", False, "htj2k_decode"),
    "jpeg-sv1": ("1.2.840.10008.1.2.4.70", False, "jpeg8_decode"),
    "jpeg-base": ("1.2.840.10008.1.2.4.50", True, "jpeg8_decode"),
}
#: ``direct / dicomkit`` time >= 1/1.2, i.e. dicomkit's time <= 1.2x the codec called directly
CODEC_TARGET = round(1 / 1.2, 3)
TARGETS.update({(workload, "direct"): CODEC_TARGET for workload in CODEC_SYNTAXES})


def _codec_workloads(
    clean: list[Path], count: int, rounds: int, workloads: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Time each JPEG-family syntax (dicomkit, its read_pixels, the codec directly, pydicom);
    add the timings to ``workloads`` and return the dicomkit / direct ratios per syntax."""
    import numpy as np

    import dicomkit
    from dicomkit.pixels import pixel_array

    overhead: dict[str, dict[str, float]] = {}
    from dicomkit.errors import DicomError

    for workload, (_uid, _eight_bit, decoder) in CODEC_SYNTAXES.items():
        try:
            files = _codec_files(clean, workload, count)
        except (ImportError, DicomError) as exc:  # no imagecodecs, or a build without this codec
            print(f"{workload}: skipped ({exc})", file=sys.stderr)
            continue
        want = pixel_array(dicomkit.read(files[0]))
        got = np.asarray(_direct(files[:1], decoder, None)(files[0]))
        signed_bits = None
        if got.dtype.kind == "u" and want.dtype.kind == "i":
            signed_bits = int(dicomkit.read(files[0], stop_before_pixels=True).BitsStored)
        readers: dict[str, Callable[[Path], Any]] = {
            "dicomkit": _dicomkit(),
            "dicomkit-read_pixels": _dicomkit_read_pixels(),
            "direct": _direct(files, decoder, signed_bits),
        }
        pyd = _pydicom()
        try:  # information only: left out when no pydicom plugin decodes this syntax
            if np.array_equal(np.asarray(pyd(files[0])), want):
                readers["pydicom"] = pyd
        except Exception:
            pass
        medians, cpu = _time(readers, files, rounds)
        workloads[workload] = (len(files), (medians, cpu))
        per_file = 1e6 / len(files)
        overhead[workload] = {
            "dicomkit/direct": round(medians["dicomkit"] / medians["direct"], 3),
            "read_pixels/direct": round(medians["dicomkit-read_pixels"] / medians["direct"], 3),
            "dicomkit/direct_cpu": round(cpu["dicomkit"] / cpu["direct"], 3),
            "direct_us_per_file": round(medians["direct"] * per_file, 1),
            "dicomkit_extra_us_per_file": round((medians["dicomkit"] - medians["direct"]) * per_file, 1),
            "read_pixels_extra_us_per_file": round(
                (medians["dicomkit-read_pixels"] - medians["direct"]) * per_file, 1
            ),
        }
    return overhead


def _codec_files(clean: list[Path], workload: str, count: int) -> list[Path]:
    """The first ``count`` clean corpus files compressed by dicomkit itself
    (``dicomkit.pixels.compress.compress``), cached next to the corpus; ``jpeg-base`` first
    brings the pixels to 8 bits unsigned (``value >> 4`` + 128) with ``set_pixel_data``."""
    import numpy as np

    import dicomkit
    from dicomkit.pixels import pixel_array
    from dicomkit.pixels.compress import compress
    from dicomkit.pixels.encode import set_pixel_data

    uid, eight_bit, _ = CODEC_SYNTAXES[workload]
    out_dir = clean[0].parent.parent / (clean[0].parent.name.removesuffix("-clean") + f"-{workload}")
    out_dir.mkdir(exist_ok=True)
    out = []
    for src in clean[:count]:
        dst = out_dir / src.name
        if not dst.exists():
            ds = dicomkit.read(src)
            if eight_bit:
                arr = pixel_array(ds).astype(np.int32)
                set_pixel_data(ds, ((arr >> 4) + 128).clip(0, 255).astype(np.uint8))
            tmp = dst.with_suffix(".partial")
            dicomkit.write(compress(ds, uid), tmp)
            tmp.rename(dst)
        out.append(dst)
    return out


def _single_fragment(path: Path) -> tuple[int, int]:
    """(file offset, length) of the one fragment of a single-frame encapsulated file, found
    untimed: the (7FE0,0010) OB header with undefined length, then the Basic Offset Table item,
    then the first item (the file holds nothing after the pixel data)."""
    import struct

    data = path.read_bytes()
    head = data.rfind(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
    if head < 0:
        raise SystemExit(f"{path}: no encapsulated Pixel Data header")
    p = head + 12
    _, _, bot = struct.unpack_from("<HHL", data, p)
    p += 8 + bot
    g, e, n = struct.unpack_from("<HHL", data, p)
    if (g, e) != (0xFFFE, 0xE000):
        raise SystemExit(f"{path}: no first fragment item")
    nxt = struct.unpack_from("<HH", data, p + 8 + n)
    if nxt != (0xFFFE, 0xE0DD):
        raise SystemExit(f"{path}: more than one fragment")
    return p + 8, n


def _direct(files: list[Path], decoder: str, signed_bits: int | None) -> Callable[[Path], Any]:
    """The codec called directly: read the file's bytes, take a memoryview of the frame's
    fragment (offsets pre-located untimed) and call the imagecodecs decoder. ``signed_bits``:
    sign-extend from that many bits (the JPEG-LS / JPEG Lossless decoders return the stored
    bits unsigned; one numpy shift pair, the least needed to return the same array)."""
    import imagecodecs
    import numpy as np

    where = {f: _single_fragment(f) for f in files}
    fn = getattr(imagecodecs, decoder)

    def run(path: Path) -> Any:
        off, n = where[path]
        with open(path, "rb", buffering=0) as fh:
            data = fh.read()
        arr = fn(memoryview(data)[off : off + n])
        if signed_bits is not None:
            shift = arr.dtype.itemsize * 8 - signed_bits
            arr = arr.view(arr.dtype.str.replace("u", "i"))
            arr = np.right_shift(np.left_shift(arr, shift), shift)
        return arr

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=600, help="native corpus size (default 600)")
    ap.add_argument("--rle-files", type=int, default=60, help="files compressed with dcmcrle (default 60)")
    ap.add_argument(
        "--codec-files", type=int, default=30, help="files per JPEG-family syntax (default 30; 0: skip)"
    )
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="120 files, 20 RLE files, 10 codec files, 3 rounds")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # internal: one timed pass in a new process
    ap.add_argument("--child-files", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-keep", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        warnings.simplefilter("ignore")
        return _child(args.child, args.child_files, args.child_keep)
    if args.quick:
        args.files, args.rle_files, args.codec_files, args.rounds = 120, 20, 10, 3
    warnings.simplefilter("ignore")
    files = corpus.ensure_corpus(None, corpus.Shape.for_files(args.files))
    results: dict[str, Any] = {"files": len(files), "rounds": args.rounds, "workloads": {}}

    native: dict[str, Callable[[Path], Any]] = {
        name: fn
        for name in ("dicomkit", "dicomkit-path", "pydicom", "pydicom-path", "dicomsdl")
        if (fn := _reader(name))
    }
    sdl = native.get("dicomsdl")
    results["workloads"]["native"] = (len(files), _time(native, files, args.rounds))
    results["workloads"]["native-keep"] = (len(files), _time(native, files, args.rounds, keep=True))
    clean = _clean_files(files)
    results["workloads"]["clean"] = (len(clean), _time(native, clean, args.rounds))

    if shutil.which("dcmcrle"):
        rle_files = _rle_files(files, args.rle_files)
        rle: dict[str, Callable[[Path], Any]] = {
            "dicomkit": _reader("dicomkit-numpy"),  # type: ignore[dict-item]
            "dicomkit-imagecodecs": _reader("dicomkit"),  # type: ignore[dict-item]
            "pydicom": _reader("pydicom-own"),  # type: ignore[dict-item]
        }
        try:
            import rle as _pylibjpeg_rle  # noqa: F401  (pylibjpeg-rle)

            rle["pylibjpeg-rle"] = _reader("pylibjpeg-rle")  # type: ignore[assignment]
        except ImportError:
            pass
        if sdl is not None:
            rle["dicomsdl"] = sdl
        results["workloads"]["rle"] = (len(rle_files), _time(rle, rle_files, args.rounds))

    if args.codec_files:
        results["codec_overhead"] = _codec_workloads(
            clean, args.codec_files, args.rounds, results["workloads"]
        )

    many = _many_frames_file(files)
    results["frame"] = _one_frame(many, 1234) if many is not None else {}

    rows = []  # run_all.py reads these 8 fields; CPU-time ratios are in "cpu_ratios"
    cpu_ratios: dict[str, float] = {}
    for workload, (n, (medians, cpu)) in results["workloads"].items():
        # the native workloads are reported twice: relative to pixel_array(read(p)) ("dicomkit") and,
        # as "<workload>/path", relative to pixel_array(p) ("dicomkit-path"); targets apply to both
        bases = ["dicomkit", "dicomkit-path"] if "dicomkit-path" in medians else ["dicomkit"]
        for base_name in bases:
            label = workload if base_name == "dicomkit" else f"{workload}/path"
            base, cpu_base = medians[base_name], cpu[base_name]
            for name, t in medians.items():
                if base_name != "dicomkit" and name == "dicomkit":
                    continue
                ratio = t / base
                target = TARGETS.get((label, name))
                verdict = "" if target is None else ("PASS" if ratio >= target else "FAIL")
                rows.append((label, name, n, t, n / t, ratio, target, verdict))
                cpu_ratios[f"{label}/{name}"] = round(cpu[name] / cpu_base, 3)
    results["cpu_ratios"] = cpu_ratios
    print(
        f"{'workload':16} {'reader':22} {'files':>5} {'median s':>9} {'files/s':>9} {'peer/dk':>8} "
        f"{'cpu p/dk':>8} target"
    )
    for workload, name, n, t, fps, ratio, target, verdict in rows:
        cpu_ratio = cpu_ratios[f"{workload}/{name}"]
        tgt = f">= {target:.{1 if target >= 1 else 3}f}x {verdict}" if target is not None else ""
        print(f"{workload:16} {name:22} {n:5d} {t:9.3f} {fps:9.1f} {ratio:7.2f}x {cpu_ratio:7.2f}x {tgt}")
    for workload, o in results.get("codec_overhead", {}).items():
        print(
            f"{workload:9} dicomkit/direct {o['dicomkit/direct']:5.2f}x "
            f"(+{o['dicomkit_extra_us_per_file']:.0f} us/file), read_pixels/direct "
            f"{o['read_pixels/direct']:5.2f}x (+{o['read_pixels_extra_us_per_file']:.0f} us/file); "
            f"direct {o['direct_us_per_file']:.0f} us/file; CPU dicomkit/direct {o['dicomkit/direct_cpu']:.2f}x "
            "(target: dicomkit <= 1.2x direct)"
        )
    if many is not None:
        print(f"one frame of {many.name} ({many.stat().st_size} bytes):")
    for name, e in results["frame"].items():
        print(
            f"  {name:28} read {e['bytes_read']:>10} bytes, peak traced {e['peak_traced_bytes']:>10} bytes, "
            f"{e['seconds'] * 1e3:.1f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, **results}, indent=2, default=str) + "\n")
    return 0 if all(r[7] != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
