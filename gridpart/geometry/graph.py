"""Connected parts and contiguity of labelled atoms: the one graph helper.

Atoms are numbered ``0..n-1``; ``edges`` is an ``(m, 2)`` integer array of
atom pairs that touch; ``labels`` gives each atom's grid.  Every layer above
(model, solvers, pipeline, outputs, testing) asks these functions, so
"contiguous" means the same thing everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["labels_contiguous"]


def labels_contiguous(n: int, edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each label, whether its atoms form one connected piece of the graph.

    Returns a boolean array indexed by label (0..labels.max()).
    """
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    e = edges[same]
    g = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    pieces = pd.DataFrame({"label": labels, "comp": comp}).groupby("label")["comp"].nunique()
    out = np.zeros(int(labels.max()) + 1 if len(labels) else 0, dtype=bool)
    out[pieces.index.to_numpy()] = pieces.to_numpy() == 1
    return out
