"""Slice geometry of a series: ordering along the slice normal, spacing, extent and the
problems found on the way (missing slice, duplicate position, uneven spacing, mixed
orientations), and Instance Number gaps and repeats.

The normal of an image is the cross product of the row and column direction cosines of
Image Orientation (Patient) (0020,0037); an image's position along it is the dot product
with Image Position (Patient) (0020,0032) (PS3.3 C.7.6.2.1.1). Localizer images (Image Type
value 3 ``LOCALIZER``) and multi-frame images are left out of the geometry checks: a
localizer series is a set of projections, not a volume.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dicomkit.model.findings import Kind

if TYPE_CHECKING:
    from dicomkit.model.hierarchy import Instance

__all__ = ["Geometry", "analyse", "instance_number_problems"]

Vector = tuple[float, float, float]

#: positions closer than this (mm) along the normal are the same position
POSITION_TOLERANCE = 0.01
#: direction cosines closer than this are the same orientation
ORIENTATION_TOLERANCE = 1e-3


@dataclass(frozen=True, slots=True)
class Geometry:
    """The geometry of a series whose images form one or more stacks of parallel slices."""

    orientation: tuple[float, ...]  # the six direction cosines
    normal: Vector
    positions: int  # distinct positions along the normal
    per_position: int  # images at each position (> 1: several volumes, e.g. time points or echoes)
    spacing: float | None  # median distance between adjacent positions (mm); None for one position
    first: Vector  # Image Position (Patient) of the first and last slice in order
    last: Vector
    extent: tuple[float | None, float | None, float]  # width, height (None without Pixel Spacing), depth

    def to_json(self) -> dict[str, object]:
        return {
            "orientation": list(self.orientation),
            "normal": list(self.normal),
            "positions": self.positions,
            "per_position": self.per_position,
            "spacing": self.spacing,
            "first": list(self.first),
            "last": list(self.last),
            "extent": list(self.extent),
        }


Problem = tuple[Kind, str, tuple[str, ...]]  # kind, message, SOP Instance UIDs involved


def _cross(a: Sequence[float], b: Sequence[float]) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _by_number(i: Instance) -> tuple[bool, int, str]:
    return (i.number is None, i.number or 0, i.uid)


def analyse(instances: Sequence[Instance]) -> tuple[list[Instance], Geometry | None, list[Problem]]:
    """Order a series' instances and check its slice geometry.

    Returns the instances in order (by position along the normal when every image that is
    not a localizer has a position and they share one orientation, else by Instance
    Number), the geometry (or None) and the problems found.
    """
    by_number = sorted(instances, key=_by_number)
    stack = [i for i in by_number if not i.localizer and (i.frames or 1) <= 1]
    if len(stack) < 2:
        return by_number, None, []
    placed = [i for i in stack if i.position is not None and i.orientation is not None]
    if len(placed) < len(stack):
        return by_number, None, []
    problems: list[Problem] = []
    orientations: list[tuple[float, ...]] = []
    members: list[list[Instance]] = []
    for i in placed:
        assert i.orientation is not None
        for k, o in enumerate(orientations):
            if all(abs(a - b) <= ORIENTATION_TOLERANCE for a, b in zip(o, i.orientation, strict=True)):
                members[k].append(i)
                break
        else:
            orientations.append(i.orientation)
            members.append([i])
    if len(orientations) > 1:
        described = ", ".join(
            f"[{' '.join(_fmt(c) for c in o)}] ({len(m)} image{'s' if len(m) != 1 else ''})"
            for o, m in zip(orientations, members, strict=True)
        )
        problems.append(
            (Kind.MIXED_ORIENTATION, f"images with {len(orientations)} orientations: {described}", ())
        )
        return by_number, None, problems
    orientation = orientations[0]
    normal = _cross(orientation[:3], orientation[3:])
    keyed = []
    for i in placed:
        p = i.position
        assert p is not None
        keyed.append((p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2], i))
    keyed.sort(key=lambda t: (t[0], _by_number(t[1])))
    groups: list[list[tuple[float, Instance]]] = []
    for d, i in keyed:
        if groups and d - groups[-1][0][0] <= POSITION_TOLERANCE:
            groups[-1].append((d, i))
        else:
            groups.append([(d, i)])
    ordered = [i for _, i in keyed]
    ordered += [i for i in by_number if i.localizer or (i.frames or 1) > 1]
    sizes = Counter(len(g) for g in groups)
    per_position = len(groups[0])
    if len(sizes) > 1:
        per_position = sizes.most_common(1)[0][0]
        for g in groups:
            if len(g) > per_position:
                uids = tuple(i.uid for _, i in g)
                problems.append(
                    (
                        Kind.DUPLICATE_POSITION,
                        f"{len(g)} images at position {_fmt(g[0][0])} along the normal "
                        f"(the series has {per_position} per position)",
                        uids,
                    )
                )
    centres = [g[0][0] for g in groups]
    gaps = [b - a for a, b in itertools.pairwise(centres)]
    spacing: float | None = None
    if gaps:
        # the smallest gap when every gap is a whole multiple of it (slices missing), else the median
        smallest = min(gaps)
        tolerance = max(0.02, 0.02 * smallest)
        if smallest > POSITION_TOLERANCE and all(
            abs(g - round(g / smallest) * smallest) <= tolerance * round(g / smallest) for g in gaps
        ):
            spacing = smallest
        else:
            spacing = sorted(gaps)[len(gaps) // 2]
        tolerance = max(0.02, 0.02 * spacing)
        uneven = []
        for k, gap in enumerate(gaps):
            if abs(gap - spacing) <= tolerance:
                continue
            m = round(gap / spacing)
            if m >= 2 and abs(gap - m * spacing) <= tolerance * m:
                a, b = groups[k][0][1], groups[k + 1][0][1]
                problems.append(
                    (
                        Kind.MISSING_SLICE,
                        f"{m - 1} slice{'s' if m > 2 else ''} missing between positions {_fmt(centres[k])} "
                        f"and {_fmt(centres[k + 1])} (spacing {_fmt(spacing)} mm)",
                        (a.uid, b.uid),
                    )
                )
            else:
                uneven.append(gap)
        if uneven:
            problems.append(
                (
                    Kind.UNEVEN_SPACING,
                    f"slice spacing varies: {len(uneven)} gap{'s' if len(uneven) != 1 else ''} of "
                    f"{', '.join(_fmt(g) for g in uneven[:5])}{', …' if len(uneven) > 5 else ''} mm "
                    f"(spacing {_fmt(spacing)} mm)",
                    (),
                )
            )
    first, last = ordered[0], keyed[-1][1]
    assert first.position is not None and last.position is not None
    depth = centres[-1] - centres[0] + (spacing or 0.0)
    width = height = None
    px = first.pixel_spacing
    if px is not None and first.columns and first.rows:
        width, height = first.columns * px[1], first.rows * px[0]
    geometry = Geometry(
        orientation=orientation,
        normal=normal,
        positions=len(groups),
        per_position=per_position,
        spacing=spacing,
        first=first.position,
        last=last.position,
        extent=(width, height, depth),
    )
    return ordered, geometry, problems


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    if len(parts) > 8:
        parts = [*parts[:8], "…"]
    return ", ".join(parts)


def instance_number_problems(instances: Sequence[Instance]) -> list[Problem]:
    """Instance Numbers (0020,0013) missing between the lowest and highest, or used twice."""
    counts = Counter(i.number for i in instances if i.number is not None)
    if not counts:
        return []
    problems: list[Problem] = []
    repeated = sorted(n for n, c in counts.items() if c > 1)
    if repeated:
        uids = tuple(sorted(i.uid for i in instances if i.number in set(repeated)))
        problems.append(
            (Kind.INSTANCE_NUMBER_REPEAT, f"Instance Numbers used twice: {_ranges(repeated)}", uids)
        )
    low, high = min(counts), max(counts)
    if high - low + 1 > len(counts):
        if high - low > 1_000_000:
            missing_text = f"{high - low + 1 - len(counts)} numbers"
        else:
            missing_text = _ranges([n for n in range(low, high + 1) if n not in counts])
        problems.append(
            (
                Kind.INSTANCE_NUMBER_GAP,
                f"Instance Numbers missing between {low} and {high}: {missing_text}",
                (),
            )
        )
    return problems
