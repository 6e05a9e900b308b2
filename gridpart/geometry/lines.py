"""Measures on road lines that more than one rule needs.

:func:`parallel_at_nearest` is how the 四至 (:mod:`gridpart.rules.four_limits`)
and the publishability review (:mod:`gridpart.outputs.review`) both decide
that a road runs along a side: one home, so the rule and its check agree.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["parallel_at_nearest"]


def parallel_at_nearest(lines: np.ndarray, points: np.ndarray, direction: np.ndarray, max_angle_deg: float, *,
                        slack: float = 0.0) -> np.ndarray:
    """Whether each line runs within ``max_angle_deg`` of ``direction`` where it passes nearest the point.

    The line's direction there is its chord over the 2 m around the nearest
    place (``line_locate_point`` ± 1 m), so a bent or multi-part line is read
    where it matters.  ``slack`` widens the cosine test (``cos ≥ cos(max) − slack``)
    for callers that must accept an angle of exactly ``max_angle_deg``.

    Parameters
    ----------
    lines, points : ndarray of shapely geometries
        One line and one point per row.
    direction : ndarray, shape (n, 2)
        Unit directions to compare with.
    max_angle_deg : float

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import numpy as np, shapely
    >>> lines = np.array([shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 0), (0, 10)])])
    >>> pts = np.array([shapely.Point(5, 1), shapely.Point(1, 5)])
    >>> parallel_at_nearest(lines, pts, np.array([[1.0, 0.0], [1.0, 0.0]]), 30.0).tolist()
    [True, False]
    """
    if not len(lines):
        return np.zeros(0, dtype=bool)
    at = shapely.line_locate_point(lines, points)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(at - 1.0, 0.0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, at + 1.0))
    d = b - a
    norm = np.hypot(d[:, 0], d[:, 1])
    cos = np.abs(d[:, 0] * direction[:, 0] + d[:, 1] * direction[:, 1]) / np.maximum(norm, 1e-9)
    return (norm > 1e-9) & (cos >= np.cos(np.radians(max_angle_deg)) - slack)
