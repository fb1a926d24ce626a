"""dicomkit.model.hierarchy: generated corpora with known structure, planted problems, pydicom's pile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dicomkit.model import Finding, Hierarchy, Kind, Level
from dicomkit.model import hierarchy as hierarchy_module
from tests.model.corpus import dataset, slices, uid, write

AXIAL = ("1", "0", "0", "0", "1", "0")
CORONAL = ("1", "0", "0", "0", "0", "-1")
P2 = {"PatientID": "P2", "PatientName": "Roe^Rick", "PatientSex": "M", "PatientBirthDate": "19800202"}


def build_corpus(root: Path) -> dict[str, Path]:
    """Patients P1..P4 with planted problems; returns some paths by role."""
    a, b, c = uid(1), uid(2), uid(3)
    a1 = slices(root / "P1/A/A1", a, uid(1, 1), [0, 2.5, 5, 7.5, 10, 12.5])
    slices(root / "P1/A/A2", a, uid(1, 2), [0, 4, 8, 16, 20], numbers=[1, 2, 3, 5, 6], Modality="MR")
    slices(root / "P1/B", b, uid(2, 1), [0], PatientName="Doe^Janet")  # same Patient ID, another name
    slices(root / "P2/C/C1", c, uid(3, 1), [0, 5, 5, 10, 15], numbers=[1, 2, 2, 3, 4], **P2)
    slices(root / "P2/C/C2", c, uid(3, 2), [0, 3, 6, 10, 13], **P2)
    slices(root / "P2/C/C3", c, uid(3, 3), [0, 5], **P2)
    write(
        root / "P2/C/C3/coronal.dcm",
        StudyInstanceUID=c,
        SeriesInstanceUID=uid(3, 3),
        SOPInstanceUID=uid(3, 3, 9),
        InstanceNumber=3,
        ImagePositionPatient=("-10", "0", "10"),
        ImageOrientationPatient=CORONAL,
        **P2,
    )
    # series A1's UID again, in study C
    write(
        root / "P2/C/stray.dcm",
        StudyInstanceUID=c,
        SeriesInstanceUID=uid(1, 1),
        SOPInstanceUID=uid(1, 1, 99),
        InstanceNumber=1,
        ImagePositionPatient=("-10", "-10", "0"),
        **P2,
    )
    # study A's UID again, under patient P3
    write(
        root / "P3/a.dcm",
        PatientID="P3",
        PatientName="Poe^Paul",
        StudyInstanceUID=a,
        SeriesInstanceUID=uid(1, 9),
        SOPInstanceUID=uid(1, 9, 1),
        InstanceNumber=1,
    )
    # an exact copy and a different file with the same SOP Instance UID
    (root / "copies").mkdir()
    shutil.copyfile(a1[0], root / "copies/copy.dcm")
    write(
        root / "copies/other.dcm",
        StudyInstanceUID=a,
        SeriesInstanceUID=uid(1, 1),
        SOPInstanceUID=f"{uid(1, 1)}.2",
        InstanceNumber=2,
        ImagePositionPatient=("-10", "-10", "2.5"),
        ContentTime="120000",
    )
    # malformed values
    write(
        root / "P4/bad.dcm",
        PatientID="P4",
        PatientName="Bad^Values",
        StudyInstanceUID="1.2.03.4",
        SeriesInstanceUID=None,
        SOPInstanceUID=uid(9, 9, 1),
        StudyDate="2024-01-01",
        StudyTime="25",
        AcquisitionDateTime="20241301",
        Modality="XYZ",
        InstanceNumber=1,
    )
    # not instances
    (root / "notes.txt").write_text("not DICOM at all, but long enough to be looked at")
    (root / "empty.dcm").write_bytes(b"")
    write(root / "nosop.dcm", SOPInstanceUID=None, StudyInstanceUID=a, SeriesInstanceUID=uid(1, 1))
    return {"a1_first": a1[0], "a1_second": a1[1]}


EXPECTED_FINDINGS = {
    (Kind.PATIENT_CONFLICT, Level.PATIENT, ("P1",)),
    (Kind.STUDY_UNDER_PATIENTS, Level.STUDY, (uid(1),)),
    (Kind.SERIES_UNDER_STUDIES, Level.SERIES, (uid(1, 1),)),
    (Kind.DUPLICATE_INSTANCE, Level.INSTANCE, ("P1", uid(1), uid(1, 1), f"{uid(1, 1)}.1")),
    (Kind.CONFLICTING_INSTANCE, Level.INSTANCE, (f"{uid(1, 1)}.2",)),
    (Kind.MISSING_SLICE, Level.SERIES, ("P1", uid(1), uid(1, 2))),
    (Kind.INSTANCE_NUMBER_GAP, Level.SERIES, ("P1", uid(1), uid(1, 2))),
    (Kind.DUPLICATE_POSITION, Level.SERIES, ("P2", uid(3), uid(3, 1))),
    (Kind.INSTANCE_NUMBER_REPEAT, Level.SERIES, ("P2", uid(3), uid(3, 1))),
    (Kind.UNEVEN_SPACING, Level.SERIES, ("P2", uid(3), uid(3, 2))),
    (Kind.MIXED_ORIENTATION, Level.SERIES, ("P2", uid(3), uid(3, 3))),
    (Kind.MALFORMED_UID, Level.STUDY, ("P4", "1.2.03.4")),
    (Kind.MALFORMED_DATETIME, Level.STUDY, ("P4", "1.2.03.4")),  # Study Date and Study Time
    (Kind.MISSING_UID, Level.SERIES, ("P4", "1.2.03.4", "")),
    (Kind.UNKNOWN_MODALITY, Level.SERIES, ("P4", "1.2.03.4", "")),
    (Kind.MALFORMED_DATETIME, Level.INSTANCE, ("P4", "1.2.03.4", "", uid(9, 9, 1))),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, build_corpus(root)


def test_structure(corpus: tuple[Path, dict[str, Path]]) -> None:
    root, _ = corpus
    h = Hierarchy.from_paths([root], workers=1)
    assert h.files == 33  # 28 instances, 2 more copies, 3 skipped
    structure = {
        p.patient_id: {st.uid: {se.uid: sorted(i.uid for i in se) for se in st} for st in p} for p in h
    }
    assert structure == {
        "P1": {
            uid(1): {
                uid(1, 1): sorted(f"{uid(1, 1)}.{k}" for k in range(1, 7)),
                uid(1, 2): sorted(f"{uid(1, 2)}.{k}" for k in range(1, 6)),
            },
            uid(2): {uid(2, 1): [f"{uid(2, 1)}.1"]},
        },
        "P2": {
            uid(3): {
                uid(3, 1): sorted(f"{uid(3, 1)}.{k}" for k in range(1, 6)),
                uid(3, 2): sorted(f"{uid(3, 2)}.{k}" for k in range(1, 6)),
                uid(3, 3): sorted([f"{uid(3, 3)}.1", f"{uid(3, 3)}.2", uid(3, 3, 9)]),
                uid(1, 1): [uid(1, 1, 99)],
            }
        },
        "P3": {uid(1): {uid(1, 9): [uid(1, 9, 1)]}},
        "P4": {"1.2.03.4": {"": [uid(9, 9, 1)]}},
    }
    assert tuple(h.counts) == (4, 5, 9, 28)
    assert [p.name for p in h] == ["Bad^Values", "Doe^Jane", "Poe^Paul", "Roe^Rick"]
    assert sorted((s.path.removeprefix(str(root) + "/"), s.reason) for s in h.skipped) == [
        ("empty.dcm", "not DICOM"),
        ("nosop.dcm", "no SOP Instance UID"),
        ("notes.txt", "not DICOM"),
    ]


def test_findings_match_exactly(corpus: tuple[Path, dict[str, Path]]) -> None:
    root, paths = corpus
    h = Hierarchy.from_paths([root], workers=1)
    assert {(f.kind, f.level, f.uids) for f in h.findings} == EXPECTED_FINDINGS
    by_kind = {f.kind: f for f in h.findings}
    assert len([f for f in h.findings if f.kind is Kind.MALFORMED_DATETIME]) == 3
    assert all(isinstance(f, Finding) for f in h.findings)
    assert by_kind[Kind.DUPLICATE_INSTANCE].paths == tuple(
        sorted([str(paths["a1_first"]), str(root / "copies/copy.dcm")])
    )
    assert by_kind[Kind.CONFLICTING_INSTANCE].paths == tuple(
        sorted([str(paths["a1_second"]), str(root / "copies/other.dcm")])
    )
    assert "1 slice missing between positions 8 and 16 (spacing 4 mm)" in by_kind[Kind.MISSING_SLICE].message
    assert by_kind[Kind.INSTANCE_NUMBER_GAP].message.endswith("missing between 1 and 6: 4")
    assert by_kind[Kind.INSTANCE_NUMBER_REPEAT].message == "Instance Numbers used twice: 2"
    assert "2 images at position 5" in by_kind[Kind.DUPLICATE_POSITION].message
    assert "gap of 4 mm (spacing 3 mm)" in by_kind[Kind.UNEVEN_SPACING].message
    assert "2 orientations" in by_kind[Kind.MIXED_ORIENTATION].message
    assert "'Doe^Jane' (13 files), 'Doe^Janet' (1 file)" in by_kind[Kind.PATIENT_CONFLICT].message
    assert "'XYZ' is not a defined term" in by_kind[Kind.UNKNOWN_MODALITY].message
    assert "leading zero" in by_kind[Kind.MALFORMED_UID].message
    for f in h.findings:
        assert f.line().startswith(f"{f.kind} {f.level} ")
        assert f.to_json()["kind"] == str(f.kind)


def test_lookups_ordering_and_geometry(corpus: tuple[Path, dict[str, Path]]) -> None:
    root, _ = corpus
    h = Hierarchy.from_paths([root], workers=1)
    a1 = h.series(uid(1, 1))
    assert len(a1) == 6 and len(a1.duplicates) == 2
    assert [i.position[2] for i in a1 if i.position] == [0, 2.5, 5, 7.5, 10, 12.5]
    g = a1.geometry
    assert g is not None and a1.spacing == 2.5
    assert g.normal == (0, 0, 1) and g.positions == 6 and g.per_position == 1
    assert a1.extent == (2.0, 2.0, 15.0)  # 4 columns x 0.5 mm, 4 rows x 0.5 mm, 6 slices x 2.5 mm
    assert h.study(uid(1)).series.keys() == {uid(1, 1), uid(1, 2)}  # the first place of a UID in tree order
    assert h.patient("P2").name == "Roe^Rick" and h.patient("P2").sex == "M"
    inst = h.instance(f"{uid(1, 2)}.4")
    assert inst.number == 5 and inst.rows == 4 and inst.bits_stored == 12 and inst.sop_class_uid
    assert h.series(uid(3, 3)).geometry is None  # mixed orientations
    assert [i.number for i in h.series(uid(3, 3))] == [1, 2, 3]  # by Instance Number then
    with pytest.raises(KeyError):
        h.series("1.2.3")
    assert len(list(h.instances())) == h.counts.instances
    assert len(list(h.all_series())) == h.counts.series
    assert len(list(h.studies())) == h.counts.studies


def test_multiprocess_equals_single_process(
    corpus: tuple[Path, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = corpus
    single = Hierarchy.from_paths([root], workers=1)
    monkeypatch.setattr(hierarchy_module, "PARALLEL_THRESHOLD", 1)
    calls: list[tuple[int, int]] = []
    multi = Hierarchy.from_paths([root], workers=3, progress=lambda done, total: calls.append((done, total)))
    assert multi.to_json(level="instance") == single.to_json(level="instance")
    assert multi.findings == single.findings and multi.skipped == single.skipped
    assert calls and calls[-1] == (33, 33)


def test_from_datasets() -> None:
    datasets = [
        dataset(
            StudyInstanceUID=uid(5),
            SeriesInstanceUID=uid(5, 1),
            SOPInstanceUID=uid(5, 1, k),
            InstanceNumber=k,
        )
        for k in (1, 2, 4)
    ]
    h = Hierarchy.from_datasets([*datasets, (dataset(SOPInstanceUID=None), "mem")])
    assert tuple(h.counts) == (1, 1, 1, 3)
    assert h.skipped == (("mem", "no SOP Instance UID"),)
    assert [(f.kind, f.message) for f in h.findings] == [
        (Kind.INSTANCE_NUMBER_GAP, "Instance Numbers missing between 1 and 4: 3")
    ]


def test_missing_path(tmp_path: Path) -> None:
    h = Hierarchy.from_paths([tmp_path / "nope"])
    assert h.missing == (str(tmp_path / "nope"),) and h.files == 0 and not h.findings


def test_localizers_and_repeated_volumes_are_not_findings(tmp_path: Path) -> None:
    # two localizer images at one position; a series of 2 time points x 3 positions
    slices(tmp_path / "loc", uid(6), uid(6, 1), [0, 0], ImageType=("ORIGINAL", "PRIMARY", "LOCALIZER"))
    slices(tmp_path / "dyn", uid(6), uid(6, 2), [0, 0, 5, 5, 10, 10])
    h = Hierarchy.from_paths([tmp_path])
    assert h.findings == ()
    dyn = h.series(uid(6, 2)).geometry
    assert dyn is not None and dyn.positions == 3 and dyn.per_position == 2 and dyn.spacing == 5


def test_demo_sample_is_clean(tmp_path: Path) -> None:
    from dicomkit.cli.demo import sample, write_sample

    write_sample(tmp_path, sample())
    h = Hierarchy.from_paths([tmp_path])
    assert h.findings == ()
    assert tuple(h.counts) == (2, 3, 5, 24)


def test_pydicom_files_are_all_accounted_for(
    pydicom_test_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [str(p) for p in pydicom_test_files]
    h = Hierarchy.from_paths(files, workers=1)
    assert h.files == len(files)
    placed = [i.path for se in h.all_series() for i in [*se.instances.values(), *se.duplicates]]
    skipped = [s.path for s in h.skipped]
    assert len(placed) + len(skipped) == len(files)
    assert set(placed) | set(skipped) == set(files)
    assert all(s.reason for s in h.skipped)
    assert not [s for s in h.skipped if "internal error" in s.reason]
    assert h.counts.instances > 100
    monkeypatch.setattr(hierarchy_module, "PARALLEL_THRESHOLD", 1)
    multi = Hierarchy.from_paths(files, workers=2)
    assert multi.to_json(level="instance") == h.to_json(level="instance")
    assert multi.findings == h.findings


def test_files_without_patient_id_are_not_a_conflict() -> None:
    datasets = [
        dataset(
            PatientID=None,
            PatientName=name,
            StudyInstanceUID=uid(7, k),
            SeriesInstanceUID=uid(7, k, 1),
            SOPInstanceUID=uid(7, k, 1, 1),
        )
        for k, name in enumerate(["A^A", "B^B"], 1)
    ]
    h = Hierarchy.from_datasets(datasets)
    assert [p.patient_id for p in h] == [""] and h.counts.studies == 2
    assert h.findings == ()
