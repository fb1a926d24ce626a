"""The information model: Patient → Study → Series → Instance, and findings about a pile of files.

``Hierarchy.from_paths(paths)`` reads headers only and groups files by Patient ID, Study
Instance UID, Series Instance UID and SOP Instance UID; ``Hierarchy.from_datasets`` does the
same for data sets in memory. What is wrong is reported as :class:`Finding` values.
"""

from __future__ import annotations

from dicomkit.model.findings import MODALITIES, RETIRED_MODALITIES, Finding, Kind, Level
from dicomkit.model.geometry import Geometry
from dicomkit.model.hierarchy import Counts, Hierarchy, Instance, Patient, Series, Skipped, Study
from dicomkit.model.query import Condition, MatchKind, Query

__all__ = [
    "MODALITIES",
    "RETIRED_MODALITIES",
    "Condition",
    "Counts",
    "Finding",
    "Geometry",
    "Hierarchy",
    "Instance",
    "Kind",
    "Level",
    "MatchKind",
    "Patient",
    "Query",
    "Series",
    "Skipped",
    "Study",
]
