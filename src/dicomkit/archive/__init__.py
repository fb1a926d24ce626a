"""dicomkit.archive: a DICOM archive — a file store plus a SQLite or PostgreSQL index.

``dicomkit.archive.open(root)`` opens (creates) an archive: files under ``<root>/files``
(paths from validated UIDs, PS3.5 9.1), the index in ``<root>/index.sqlite`` or, with
``database="postgresql://…"``, in PostgreSQL. Queries are :class:`dicomkit.model.query.Query`
objects (PS3.4 C.2.2.2 matching, compiled to SQL). See docs/archive.md.
"""

from __future__ import annotations

import os

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


def open(
    root: str | os.PathLike[str],
    database: str | None = None,
    *,
    duplicates: str = "ignore",
    link: bool = False,
    create: bool = True,
    sync: str = "batch",
) -> Archive:
    """Open the archive at ``root`` (created when missing, unless ``create=False``).

    ``database``: None for SQLite at ``<root>/index.sqlite``, ``"sqlite:///PATH"`` for
    another SQLite file, or a ``postgresql://`` URL (psycopg 3). ``duplicates``: what
    storing a SOP Instance UID that is already indexed with different content does —
    "ignore" (keep the stored one), "overwrite" (replace it) or "reject". ``link``: index
    files in place instead of copying them into the store. ``sync``: how stored files are made
    durable before their index rows commit — "batch" (one ``syncfs(2)`` per committed batch on
    Linux; elsewhere as "each") or "each" (an fsync per file and per touched directory).
    """
    return open_archive(root, database, duplicates=duplicates, link=link, create=create, sync=sync)
