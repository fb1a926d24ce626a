"""Generate (or reuse) the synthetic DICOM corpus used by the read benchmarks.

The corpus is equivalent to the team's shared ``make_corpus.py``: files are stamped
out with pydicom (a dev dependency, used here only as a *writer*) from pydicom's
own ``CT_small.dcm`` / ``MR_small.dcm`` test files, as
PATIENTS x STUDIES x SERIES x INSTANCES Explicit VR Little Endian files with fresh
UIDs, patient data and 512x512 16-bit pixel data (~0.5 MiB per file).

To be realistic every file has ~250 data elements including private tags and
nested sequences:

* CT keeps all of CT_small's GE private groups (0009, 0011, 0019, 0021, ..., 0043)
  and its Other Patient IDs Sequence;
* MR (MR_small has neither private tags nor sequences) gets typical MR attributes,
  Siemens-style private groups (0019, 0029 with two CSA-like OB blobs, 0051);
* both get a Referenced Image Sequence with 2 items, a Procedure Code Sequence and
  a private sequence (group 0071) whose items hold standard and private elements.

The corpus is written once and cached: the directory name is keyed by
``CORPUS_VERSION`` and the shape, and a ``MANIFEST.json`` is written last (the
directory is built under a temporary name and renamed into place), so an
interrupted generation is never reused.  Bump ``CORPUS_VERSION`` whenever the
generated content changes.

Usage::

    python benchmarks/corpus.py                   # default 10x2x3x20 = 1,200 files
    python benchmarks/corpus.py --files 120       # ~120 files (shape chosen for you)
    python benchmarks/corpus.py --dir /data/corpus --patients 10 --instances 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CORPUS_VERSION = "dkbench-corpus-v1"
MANIFEST = "MANIFEST.json"
ENV_CACHE_DIR = "DICOMKIT_BENCH_CACHE"

ROWS = COLUMNS = 512


@dataclass(frozen=True)
class Shape:
    patients: int = 10
    studies: int = 2
    series: int = 3
    instances: int = 20

    @property
    def total(self) -> int:
        return self.patients * self.studies * self.series * self.instances

    @property
    def label(self) -> str:
        return f"{self.patients}x{self.studies}x{self.series}x{self.instances}"

    @classmethod
    def for_files(cls, n: int) -> Shape:
        """A shape with 2 studies x 3 series per patient and about ``n`` files."""
        n = max(n, 1)
        if n < 6:
            return cls(1, 1, 1, n)
        patients = max(1, min(10, n // 60))
        instances = max(1, round(n / (patients * 6)))
        return cls(patients, 2, 3, instances)


DEFAULT_SHAPE = Shape()
QUICK_SHAPE = Shape(2, 2, 3, 10)  # 120 files


def chosen_shape(quick: bool, files: int | None) -> Shape:
    """The corpus a benchmark's ``--quick`` / ``--files N`` options ask for (``--files`` wins)."""
    if files:
        return Shape.for_files(files)
    return QUICK_SHAPE if quick else DEFAULT_SHAPE


def cache_root() -> Path:
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / "dicomkit-bench"


def default_dir(shape: Shape) -> Path:
    return cache_root() / f"{CORPUS_VERSION}-{shape.label}"


def list_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.dcm"))


def _valid_manifest(directory: Path, shape: Shape) -> dict[str, Any] | None:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("version") != CORPUS_VERSION or manifest.get("shape") != asdict(shape):
        return None
    if manifest.get("files") != len(list_files(directory)):
        return None
    return manifest


def ensure_corpus(
    directory: Path | None = None,
    shape: Shape = DEFAULT_SHAPE,
    *,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Return the corpus files, generating them first unless a valid cache exists."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    directory = Path(directory) if directory is not None else default_dir(shape)
    if not force and _valid_manifest(directory, shape) is not None:
        log(f"corpus: reusing {shape.total} files in {directory}")
        return list_files(directory)
    if directory.exists():
        if any(directory.iterdir()) and not (directory / MANIFEST).exists():
            raise RuntimeError(f"{directory} is not empty and not a generated corpus: refusing to replace it")
        shutil.rmtree(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    try:
        t0 = time.perf_counter()
        log(f"corpus: generating {shape.total} files ({shape.label}) in {directory} ...")
        manifest = generate(tmp, shape)
        manifest["seconds"] = round(time.perf_counter() - t0, 2)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.chmod(0o755)
        tmp.rename(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(
        f"corpus: wrote {manifest['files']} files, {manifest['bytes'] / 2**20:.0f} MiB, "
        f"~{manifest['elements_per_file']} elements/file in {manifest['seconds']} s"
    )
    return list_files(directory)


# --------------------------------------------------------------------------- generation
# Everything below imports pydicom lazily so that `import corpus` stays cheap.


def _uid(*parts: object) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[CORPUS_VERSION, *map(str, parts)]))


def _code_item(value: str, scheme: str, meaning: str) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _add_private(ds: Any, group: int, creator: str, specs: list[tuple[int, str, Any]]) -> None:
    block = ds.private_block(group, creator, create=True)
    for offset, vr, value in specs:
        block.add_new(offset, vr, value)


def _synthetic_private_specs(seed: int, count: int, *, first: int = 0x01) -> list[tuple[int, str, Any]]:
    """``count`` private elements with a realistic VR mix (deterministic)."""
    rng = random.Random(seed)
    specs: list[tuple[int, str, Any]] = []
    for k in range(count):
        offset = first + k
        match k % 12:
            case 0:
                specs.append((offset, "LO", f"PARAM_{rng.randrange(10**6):06d}"))
            case 1:
                specs.append((offset, "SH", f"V{rng.randrange(100)}"))
            case 2:
                specs.append((offset, "DS", f"{rng.uniform(-500, 500):.6f}"))
            case 3:
                specs.append((offset, "IS", str(rng.randrange(10**5))))
            case 4:
                specs.append((offset, "SL", rng.randrange(-(2**20), 2**20)))
            case 5:
                specs.append((offset, "SS", [rng.randrange(-300, 300) for _ in range(rng.randint(1, 4))]))
            case 6:
                specs.append((offset, "US", rng.randrange(2**16)))
            case 7:
                specs.append((offset, "UL", rng.randrange(2**32)))
            case 8:
                specs.append((offset, "FL", [rng.uniform(-100, 100) for _ in range(rng.randint(1, 3))]))
            case 9:
                specs.append((offset, "FD", rng.uniform(0, 1e9)))
            case 10:
                specs.append((offset, "CS", rng.choice(["YES", "NO", "NORMAL", "FAST"])))
            case _:
                specs.append((offset, "OB", rng.randbytes(rng.choice([16, 48, 128]))))
    return specs


def _add_mr_realism(ds: Any) -> None:
    """MR_small has 73 elements and no private data: make it look like a real MR."""
    ds.SeriesDescription = "t2_tse_tra_p2"
    ds.ProtocolName = "t2_tse_tra_p2"
    ds.StudyDescription = "MR HEAD W/O CONTRAST"
    ds.BodyPartExamined = "HEAD"
    ds.InstitutionAddress = "1 Example Street, Springfield"
    ds.InstitutionalDepartmentName = "Radiology"
    ds.PerformingPhysicianName = "RAD^ANNE"
    ds.PatientAge = "047Y"
    ds.PatientBirthDate = "19770314"
    ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = ds.StudyDate
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "185112.250000"
    ds.MagneticFieldStrength = "1.5"
    ds.SAR = "0.8412"
    ds.dBdt = "0"
    ds.PercentSampling = "100"
    ds.PercentPhaseFieldOfView = "87.5"
    ds.PixelBandwidth = "190"
    ds.AcquisitionMatrix = [0, 512, 448, 0]
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.VariableFlipAngleFlag = "N"
    ds.ReceiveCoilName = "HeadNeck_20"
    ds.TransmitCoilName = "Body"
    ds.NumberOfPhaseEncodingSteps = "447"
    ds.SpacingBetweenSlices = "5.5"
    ds.SequenceName = "*tse2d1_15"
    ds.AngioFlag = "N"
    ds.PatientPosition = "HFS"
    ds.ImagesInAcquisition = "20"
    ds.AcquisitionDuration = 96.3
    ds.StationName = "MRC12345"
    ds.SoftwareVersions = "syngo MR E11"
    ds.DeviceSerialNumber = "12345"
    ds.WindowCenterWidthExplanation = "Algo1"
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.LossyImageCompression = "00"
    ds.AnatomicRegionSequence = _sequence([_code_item("T-A0100", "SRT", "Brain")])
    # Siemens-style private groups: "MR HEADER" (0019), CSA headers (0029), 0051.
    _add_private(
        ds,
        0x0019,
        "SIEMENS MR HEADER",
        [
            (0x08, "CS", "IMAGE NUM 4"),
            (0x09, "LO", "1.0"),
            (0x0B, "DS", "10"),
            (0x0F, "SH", "Fast"),
            (0x11, "SH", "No"),
            (0x12, "SL", [0, 0, -1432]),
            (0x13, "SL", [0, 0, -1432]),
            (0x14, "IS", ["0", "0", "0"]),
            (0x15, "FD", [-116.37, -139.1, -62.6]),
            (0x17, "DS", "1"),
            (0x18, "IS", "2500"),
            *_synthetic_private_specs(19, 60, first=0x20),
        ],
    )
    _add_private(
        ds,
        0x0029,
        "SIEMENS CSA HEADER",
        [
            (0x08, "CS", "IMAGE NUM 4"),
            (0x09, "LO", "20100114"),
            (0x10, "OB", random.Random(10).randbytes(8192)),
            (0x18, "CS", "MR"),
            (0x19, "LO", "20100114"),
            (0x20, "OB", random.Random(20).randbytes(16384)),
        ],
    )
    _add_private(ds, 0x0051, "SIEMENS MR HEADER", _synthetic_private_specs(51, 24, first=0x08))


def _sequence(items: list[Any]) -> Any:
    from pydicom.sequence import Sequence

    return Sequence(items)


def _private_sequence_item(k: int) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = f"DKB{k:03d}"
    item.CodingSchemeDesignator = "99DKBENCH"
    item.CodeMeaning = f"Benchmark reconstruction step {k}"
    _add_private(item, 0x0071, "DKBENCH ITEM", _synthetic_private_specs(700 + k, 4, first=0x10))
    return item


def _templates() -> list[Any]:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import ExplicitVRLittleEndian

    out = []
    for name in ("CT_small.dcm", "MR_small.dcm"):
        path = get_testdata_file(name)
        if path is None:  # pragma: no cover - pydicom's test data always ships these
            raise RuntimeError(f"pydicom test file {name} not found")
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if ds.Modality == "MR":
            _add_mr_realism(ds)
        ds.ProcedureCodeSequence = _sequence([_code_item("RPID17", "RADLEX", f"{ds.Modality} ROUTINE")])
        # A private sequence (nested data under a private creator) in every file.
        _add_private(
            ds,
            0x0071,
            "DKBENCH PRIVATE",
            [
                (0x10, "SQ", _sequence([_private_sequence_item(0), _private_sequence_item(1)])),
                (0x11, "LO", "x"),
            ],
        )
        out.append(ds)
    return out


def _count_elements(ds: Any) -> int:
    n = 0
    for elem in ds:
        n += 1
        if elem.VR == "SQ":
            for item in elem.value:
                n += _count_elements(item)
    return n


def generate(out: Path, shape: Shape) -> dict[str, Any]:
    """Write ``shape.total`` files into ``out`` (which must exist) and return a manifest."""
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset

    templates = _templates()
    rng = random.Random(42)
    n = 0
    total_bytes = 0
    elements: list[int] = []
    for p in range(shape.patients):
        pid = f"PAT{p:05d}"
        name = f"DOE^JOHN{p}"
        for s in range(shape.studies):
            study = _uid("study", p, s)
            for r in range(shape.series):
                series = _uid("series", p, s, r)
                ds = templates[(p + r) % 2]
                sop_class = ds.SOPClassUID
                previous = [_uid("sop", p, s, r, -2), _uid("sop", p, s, r, -1)]
                for i in range(shape.instances):
                    sop = _uid("sop", p, s, r, i)
                    ds.PatientID, ds.PatientName = pid, name
                    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
                    ds.SOPInstanceUID = sop
                    ds.file_meta.MediaStorageSOPInstanceUID = sop
                    ds.InstanceNumber, ds.SeriesNumber = i + 1, r + 1
                    ds.StudyDate = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                    ds.AccessionNumber = f"ACC{p:04d}{s}"
                    ds.ImagePositionPatient = [0.0, 0.0, float(i) * 2.5]
                    ds.SliceLocation = f"{float(i) * 2.5:.4f}"
                    ds.Rows = ds.Columns = ROWS
                    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
                    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
                    refs = []
                    for ref_uid in previous:
                        ref = Dataset()
                        ref.ReferencedSOPClassUID = sop_class
                        ref.ReferencedSOPInstanceUID = ref_uid
                        refs.append(ref)
                    ds.ReferencedImageSequence = _sequence(refs)
                    previous = [previous[1], sop]
                    ds.PixelData = (
                        np.random.default_rng(n)
                        .integers(-1000, 3000, (ROWS, COLUMNS), dtype=np.int16)
                        .tobytes()
                    )
                    path = out / f"{n:06d}.dcm"
                    ds.save_as(path, enforce_file_format=True)
                    total_bytes += path.stat().st_size
                    if i == 0 and r < 2:
                        elements.append(_count_elements(ds))
                    n += 1
    return {
        "version": CORPUS_VERSION,
        "shape": asdict(shape),
        "files": n,
        "bytes": total_bytes,
        "elements_per_file": sorted(set(elements)),
        "generator": f"pydicom {pydicom.__version__}, numpy {np.__version__}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="output/cache directory (default: %(default)s)")
    parser.add_argument("--files", type=int, help="approximate number of files (overrides the shape)")
    parser.add_argument("--patients", type=int, default=DEFAULT_SHAPE.patients)
    parser.add_argument("--studies", type=int, default=DEFAULT_SHAPE.studies)
    parser.add_argument("--series", type=int, default=DEFAULT_SHAPE.series)
    parser.add_argument("--instances", type=int, default=DEFAULT_SHAPE.instances)
    parser.add_argument("--force", action="store_true", help="regenerate even if a valid cache exists")
    args = parser.parse_args(argv)
    if args.files:
        shape = Shape.for_files(args.files)
    else:
        shape = Shape(args.patients, args.studies, args.series, args.instances)
    files = ensure_corpus(args.dir, shape, force=args.force)
    print(f"{len(files)} files in {files[0].parent if files else args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
