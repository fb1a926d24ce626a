"""Query → SQL: thousands of generated queries give the same answer from the in-memory matcher
(:meth:`Query.apply` over records built here from the data sets), SQLite and PostgreSQL.

The data set (a few hundred instances) is full of values that trip SQL translations: mixed
case, empty and absent values, several values in one attribute, person names with ideographic
groups, partial times, GLOB / LIKE metacharacters (``[``, ``%``, ``_``) inside values, and
sequences. The reference records are built from each data set's DICOM JSON, split by the query
model's level table (:func:`dicomkit.model.query.attribute_level`), with the derived attributes
counted here from the generated hierarchy — not from the archive.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dicomkit.archive
from dicomkit.archive import Archive
from dicomkit.codec.json import to_json_dict
from dicomkit.dataset import Dataset
from dicomkit.errors import QueryError
from dicomkit.model.findings import Level
from dicomkit.model.query import Query, attribute_level
from tests.archive import conftest, data

SEED = 20240311
NAMES: list[Any] = [
    "Doe^Jane",
    "DOE^JOHN",
    "doe^jim",
    "Smith^Anna^Maria",
    "Müller^Jürgen",
    "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "O'Brien^Pat",
    "Doe",
    "",
    None,
    "Doe^Jane^^Dr",
    ["Twin^One", "Twin^Two"],
]
DATES: list[Any] = [
    "20240101",
    "20240115",
    "20231231",
    "20240229",
    "19991231",
    "",
    None,
    ["20240102", "20240301"],
]
TIMES: list[Any] = ["10", "1030", "103045", "103045.5", "235959.999999", "000000", "", None]
TEXTS: list[Any] = [
    "CT Chest",
    "ct chest",
    "CT CHEST W/O",
    "Brain MRI",
    "Knee [left]",
    "50%_off",
    "a*b?c",
    "",
    None,
    "Ünïcode ståff",
    ["Multi One", "Multi Two"],
]
ACCESSIONS: list[Any] = ["A100", "a100", "A101", "", None, "ACC 7", ["A200", "A201"]]
MODALITIES = ["CT", "MR", "US", "SR", "OT"]
CLASSES = [data.CT, data.MR, "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.7"]
BODY_PARTS: list[Any] = ["CHEST", "HEAD", "KNEE", "", None]
LEVEL_ORDER = {Level.PATIENT: 0, Level.STUDY: 1, Level.SERIES: 2, Level.INSTANCE: 3}


def _pick(rng: random.Random, pool: list[Any]) -> Any:
    return rng.choice(pool)


def generate(rng: random.Random) -> list[Dataset]:
    out = []
    patients = [f"P{k:03d}" for k in range(24)] + ["p001", "ID WITH SPACE"]
    for p_index, pid in enumerate(patients):
        patient = {
            "PatientID": pid,
            "PatientName": _pick(rng, NAMES),
            "PatientBirthDate": _pick(rng, DATES),
            "PatientSex": _pick(rng, ["M", "F", "O", "", None]),
            "PatientComments": _pick(rng, TEXTS[:-1]),
            "SpecificCharacterSet": "ISO_IR 192",
        }
        for s_index in range(rng.randint(1, 4)):
            study_no = p_index * 10 + s_index
            study = {
                "StudyDate": _pick(rng, DATES),
                "StudyTime": _pick(rng, TIMES),
                "AccessionNumber": _pick(rng, ACCESSIONS),
                "StudyDescription": _pick(rng, TEXTS),
                "ReferringPhysicianName": _pick(rng, NAMES),
                "StudyID": _pick(rng, ["S1", "s1", "S2", "", None]),
            }
            for k in range(rng.randint(1, 3)):
                series = {
                    "Modality": _pick(rng, MODALITIES),
                    "SeriesDescription": _pick(rng, TEXTS),
                    "SeriesNumber": _pick(rng, [1, 2, 3, 10, None]),
                    "SeriesDate": _pick(rng, DATES),
                    "SeriesTime": _pick(rng, TIMES),
                    "BodyPartExamined": _pick(rng, BODY_PARTS),
                    "OperatorsName": _pick(rng, NAMES),
                    "InstitutionName": _pick(rng, TEXTS),
                }
                if rng.random() < 0.4:
                    series["RequestAttributesSequence"] = [
                        {"ScheduledProcedureStepID": rng.choice(["SPS1", "SPS2", "sps1"])}
                    ]
                sop_class = rng.choice(CLASSES)
                for i in range(rng.randint(1, 4)):
                    attrs = {**patient, **study, **series}
                    attrs.update(
                        SOPClassUID=sop_class if rng.random() < 0.8 else rng.choice(CLASSES),
                        InstanceNumber=rng.choice([i + 1, None]),
                        ContentDate=_pick(rng, DATES),
                        ImageType=rng.choice([["ORIGINAL", "PRIMARY", "AXIAL"], ["DERIVED", "SECONDARY"]]),
                    )
                    out.append(data.dataset(study_no, k, i, **attrs))
    return out


def reference_records(datasets: list[Dataset]) -> dict[Level, list[dict[str, Any]]]:
    """Per level, one DICOM JSON record per entity: its attributes and its parents', plus the
    derived attributes counted here."""
    tree: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = defaultdict(lambda: defaultdict(dict))
    for ds in datasets:
        rec = to_json_dict(ds)
        rec = {k: v for k, v in rec.items() if not k.startswith(("0002", "7FE0")) and k != "00080005"}
        pid, st, se = (rec.get(k, {}).get("Value", [""])[0] for k in ("00100020", "0020000D", "0020000E"))
        tree[pid][st].setdefault(se, []).append(rec)

    def part(rec: dict[str, Any], upto: Level) -> dict[str, Any]:
        return {
            k: v
            for k, v in rec.items()
            if LEVEL_ORDER[attribute_level(int(k, 16), Level.INSTANCE)] <= LEVEL_ORDER[upto]
        }

    def num(n: int) -> dict[str, Any]:
        return {"vr": "IS", "Value": [n]}

    out: dict[Level, list[dict[str, Any]]] = {lv: [] for lv in LEVEL_ORDER}
    for studies in tree.values():
        p_series = sum(len(s) for s in studies.values())
        p_instances = sum(len(i) for s in studies.values() for i in s.values())
        first = next(iter(next(iter(studies.values())).values()))[0]
        patient = {**part(first, Level.PATIENT), "00201200": num(len(studies))}
        patient |= {"00201202": num(p_series), "00201204": num(p_instances)}
        out[Level.PATIENT].append(patient)
        for series in studies.values():
            instances = [i for s in series.values() for i in s]
            modalities = sorted({m for i in instances for m in i.get("00080060", {}).get("Value", []) if m})
            classes = sorted({c for i in instances for c in i.get("00080016", {}).get("Value", []) if c})
            study = {**patient, **part(instances[0], Level.STUDY)}
            study |= {"00201206": num(len(series)), "00201208": num(len(instances))}
            study["00080061"] = {"vr": "CS", "Value": modalities} if modalities else {"vr": "CS"}
            study["00080062"] = {"vr": "UI", "Value": classes} if classes else {"vr": "UI"}
            out[Level.STUDY].append(study)
            for members in series.values():
                one = {**study, **part(members[0], Level.SERIES), "00201209": num(len(members))}
                out[Level.SERIES].append(one)
                for inst in members:
                    out[Level.INSTANCE].append({**one, **inst})
    return out


# ----------------------------------------------------------------------------- query generation

KEYS: dict[Level, list[str]] = {
    Level.PATIENT: ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientComments"],
    Level.STUDY: [
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "StudyDescription",
        "ReferringPhysicianName",
        "StudyID",
        "StudyInstanceUID",
        "ModalitiesInStudy",
        "SOPClassesInStudy",
        "NumberOfStudyRelatedInstances",
    ],
    Level.SERIES: [
        "Modality",
        "SeriesDescription",
        "SeriesNumber",
        "SeriesDate",
        "SeriesTime",
        "BodyPartExamined",
        "OperatorsName",
        "InstitutionName",
        "SeriesInstanceUID",
        "RequestAttributesSequence.ScheduledProcedureStepID",
    ],
    Level.INSTANCE: ["SOPClassUID", "InstanceNumber", "ContentDate", "ImageType", "SOPInstanceUID"],
}
VR_OF = {
    "PatientName": "PN",
    "ReferringPhysicianName": "PN",
    "OperatorsName": "PN",
    "PatientBirthDate": "DA",
    "StudyDate": "DA",
    "SeriesDate": "DA",
    "ContentDate": "DA",
    "StudyTime": "TM",
    "SeriesTime": "TM",
    "StudyInstanceUID": "UI",
    "SeriesInstanceUID": "UI",
    "SOPInstanceUID": "UI",
    "SOPClassUID": "UI",
    "SOPClassesInStudy": "UI",
    "SeriesNumber": "IS",
    "InstanceNumber": "IS",
    "NumberOfStudyRelatedInstances": "IS",
}


def _text_variants(rng: random.Random, value: str) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return value.upper()
    if choice == 1:
        return value.lower()
    if choice == 2 and value:
        return value[: rng.randint(0, len(value))] + "*"
    if choice == 3 and value:
        k = rng.randrange(len(value))
        return value[:k] + "?" + value[k + 1 :]
    if choice == 4 and len(value) > 2:
        return "*" + value[1:-1] + "*"
    if choice == 5:
        return '""'
    return value


def _values_of(records: list[dict[str, Any]], tag: str) -> list[str]:
    out = []
    for r in records:
        for v in r.get(tag, {}).get("Value", []) or []:
            if isinstance(v, dict):
                out.append(
                    "=".join(str(v.get(g, "")) for g in ("Alphabetic", "Ideographic", "Phonetic")).rstrip("=")
                )
                out.append(str(v.get("Alphabetic", "")))
            elif v is not None:
                out.append(str(v))
    return out or ["X"]


def random_param(rng: random.Random, key: str, pool: list[dict[str, Any]], tags: dict[str, str]) -> str:
    vr = VR_OF.get(key, "LO")
    if key.startswith("RequestAttributesSequence"):
        return rng.choice(["SPS1", "SPS*", "sps1", "*2"])
    values = _values_of(pool, tags[key])
    if vr == "DA":
        a, b = sorted(rng.sample(["20231231", "20240101", "20240110", "20240229", "20240302", "19991231"], 2))
        return rng.choice([rng.choice(values), f"{a}-{b}", f"{a}-", f"-{b}", '""'])
    if vr == "TM":
        a, b = sorted(rng.sample(["00", "09", "10", "1030", "103045", "1031", "11", "2359"], 2))
        return rng.choice([rng.choice(values), f"{a}-{b}", f"{a}-", f"-{b}", '""', "10", "103045.5"])
    if vr == "UI":
        picked = rng.sample(values, min(len(values), rng.randint(1, 3)))
        return ",".join(picked) if rng.random() < 0.7 else picked[0]
    if vr == "IS":
        return rng.choice(["1", "2", "3", "10", "4"])
    if key == "ModalitiesInStudy":
        return rng.choice(["CT", "MR", "C*", "?R", "US", "SR", "OT", "XA"])
    return _text_variants(rng, rng.choice(values))


def random_queries(rng: random.Random, records: dict[Level, list[dict[str, Any]]], n: int) -> Iterator[Query]:
    from dicomkit.dictionary import tag_for_keyword

    tags = {k: f"{tag_for_keyword(k.split('.')[0]):08X}" for keys in KEYS.values() for k in keys}
    made = 0
    tries = 0
    while made < n:
        tries += 1
        assert tries < n * 20, "the generator makes too few valid queries"
        level = rng.choice([Level.PATIENT, Level.STUDY, Level.STUDY, Level.SERIES, Level.INSTANCE])
        root = "PATIENT" if level is Level.PATIENT else rng.choice(["STUDY", "PATIENT"])
        allowed = [k for lv, keys in KEYS.items() if LEVEL_ORDER[lv] <= LEVEL_ORDER[level] for k in keys]
        if root == "STUDY":
            allowed = [k for k in allowed if k not in KEYS[Level.PATIENT] or level is not Level.PATIENT]
        chosen = rng.sample(allowed, rng.randint(0, 3))
        params = {k: random_param(rng, k, records[level], tags) for k in chosen}
        order = rng.choice(
            [[], [], [rng.choice(allowed[:6]) if rng.random() < 0.5 else "-" + rng.choice(allowed)]]
        )
        order = [o for o in order if "." not in o]
        try:
            q = Query.from_params(
                level,
                params,
                fuzzy=rng.random() < 0.3,
                limit=rng.choice([None, None, 1, 3, 10]),
                offset=rng.choice([0, 0, 1, 2]),
                order_by=order,
                root=root,
            )
        except QueryError:
            continue
        made += 1
        yield q


# ----------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[Level, list[dict[str, Any]]], list[Archive]]]:
    datasets = generate(random.Random(SEED))
    assert 200 <= len(datasets) <= 600, len(datasets)
    records = reference_records(datasets)
    archives = []
    drops = []
    root: Path = tmp_path_factory.mktemp("sqlquery")
    archives.append(dicomkit.archive.open(root / "sqlite"))
    problem = conftest._postgres_problem()
    if problem is None:
        url, drop = conftest.postgres_schema_url()
        drops.append(drop)
        archives.append(dicomkit.archive.open(root / "pg", url))
    for arc in archives:
        report = arc.store_many(datasets, workers=1, batch_size=64)
        assert report.counts["stored"] == len(datasets), report.results[:3]
    yield records, archives
    for arc in archives:
        arc.close()
    for drop in drops:
        drop()


@pytest.mark.parametrize("chunk", range(4))
def test_random_queries_agree(
    corpus: tuple[dict[Level, list[dict[str, Any]]], list[Archive]], chunk: int
) -> None:
    records, archives = corpus
    rng = random.Random(SEED + chunk)
    nonempty = 0
    for q in random_queries(rng, records, 500):
        expected = [q.response(r) for r in q.apply(records[q.level])]
        total = len(q.apply(records[q.level].copy())) if q.limit is None and not q.offset else None
        for arc in archives:
            got = arc.find(q)
            assert got == expected, (arc.database, q)
            if total is not None:
                assert arc.count(q) == total, (arc.database, q)
        nonempty += bool(expected)
    assert nonempty > 150  # the generator finds things, not just empty answers
    if len(archives) < 2:  # SQLite was compared; say loudly that PostgreSQL was not
        pytest.skip(conftest._postgres_problem() or "PostgreSQL not compared")


def test_stats_match_the_generated_corpus(
    corpus: tuple[dict[Level, list[dict[str, Any]]], list[Archive]],
) -> None:
    records, archives = corpus
    for arc in archives:
        s = arc.stats()
        assert (s.patients, s.studies, s.series, s.instances) == tuple(len(records[lv]) for lv in LEVEL_ORDER)


def test_clean_archive_pages_and_orders_in_sql(archive: Archive) -> None:
    """Without loose rows, conditions on typed columns are exact: LIMIT/OFFSET and ORDER BY run
    in the database, and the answer is still the in-memory matcher's."""
    from dicomkit.archive import sqlquery

    rng = random.Random(7)
    times = [rng.choice(["08", "0930", "101500", "235959.5"]) for _ in range(12)]
    descriptions = [rng.choice(["Chest", "chest", "Head"]) for _ in range(12)]
    modalities = [[rng.choice(["CT", "MR"]) for _ in range(2)] for _ in range(12)]
    datasets = [  # consistent per patient, study and series, as a real archive would hold
        data.dataset(
            s,
            k,
            i,
            PatientID=f"P{s % 3}",
            PatientName=["Doe^Jane", "Doe^John", "Roe^Rick"][s % 3],
            StudyDate=f"202401{1 + s:02d}",
            StudyTime=times[s],
            Modality=modalities[s][k],
            StudyDescription=descriptions[s],
        )
        for s in range(12)
        for k in range(2)
        for i in range(2)
    ]
    assert archive.store_many(datasets, workers=1).counts["stored"] == 48
    records = reference_records(datasets)
    cases = [
        ("study", {"StudyDate": "20240103-20240110", "PatientName": "Doe*"}, ["-StudyDate"], 3, 1),
        ("study", {"StudyTime": "09-2359", "ModalitiesInStudy": "CT"}, ["StudyTime"], 2, 0),
        ("series", {"Modality": "MR", "StudyDescription": "*est"}, ["-SeriesInstanceUID"], 4, 1),
        ("instance", {"SeriesInstanceUID": f"{data.uid(3, 0)},{data.uid(4, 1)}"}, [], 2, 1),
    ]
    for level, params, order, limit, offset in cases:
        q = Query.from_params(level, params, order_by=order, limit=limit, offset=offset)
        plan = sqlquery.plan(archive._index, q)
        assert plan.exact and not plan.python_order, q
        expected = [q.response(r) for r in q.apply(records[q.level])]
        assert expected and archive.find(q) == expected, q
        unpaged = Query.from_params(level, params)
        assert archive.count(q) == len(unpaged.apply(records[q.level]))
