"""dicomkit.archive: a DICOM archive — a file store plus a SQLite or PostgreSQL index.

``dicomkit.archive.open(root)`` opens (creates) an archive: files under ``<root>/files``
(paths from validated UIDs, PS3.5 9.1), the index in ``<root>/index.sqlite`` or, with
``database="postgresql://…"``, in PostgreSQL. Queries are :class:`dicomkit.model.query.Query`
objects (PS3.4 C.2.2.2 matching, compiled to SQL). See docs/archive.md.
"""

from __future__ import annotations

from dicomkit.archive.archive import (
    DUPLICATE_POLICIES,
    Archive,
    ArchiveStats,
    ImportReport,
    InstanceRecord,
    StoreResult,
    VerifyReport,
    open_archive,
)

__all__ = [
    "DUPLICATE_POLICIES",
    "Archive",
    "ArchiveStats",
    "ImportReport",
    "InstanceRecord",
    "StoreResult",
    "VerifyReport",
    "open",
]


#: ``dicomkit.archive.open(root, database=None, *, duplicates, link, create, sync)``
open = open_archive
