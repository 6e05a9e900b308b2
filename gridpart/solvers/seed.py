"""A fast seed plan: recursive spanning-tree bisection.

Each step draws a few random spanning trees of the current region (seeded),
and cuts the tree edge whose subtree holds closest to a whole number of grids'
worth of households; both sides recurse with their number of grids.  Every
region is a subtree, hence contiguous.  Time is close to linear in the atoms
per level, ``O(n log k)`` overall.  Atoms above the band count as one grid's
worth, so each ends up heading a grid of its own.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from gridpart.problem import SubProblem

__all__ = ["seed_plan"]


def _subtree_sums(order: np.ndarray, pred: np.ndarray, w: np.ndarray) -> np.ndarray:
    s = w.astype(float).copy()
    # children before parents: walk the BFS order backwards, level by level
    depth = np.zeros(len(w), dtype=np.int64)
    for v in order[1:]:
        depth[v] = depth[pred[v]] + 1
    for d in range(depth.max(), 0, -1):
        nodes = order[depth[order] == d]
        np.add.at(s, pred[nodes], s[nodes])
    return s


def _best_cut(adj: sp.csr_matrix, w: np.ndarray, k: int, rng: np.random.Generator, tries: int):
    n = adj.shape[0]
    unit = w.sum() / k
    best = (np.inf, None, None)
    upper = sp.triu(adj, k=1).tocoo()
    for _ in range(tries):
        rand = sp.coo_matrix((rng.random(upper.nnz) + 1e-6, (upper.row, upper.col)), shape=(n, n))
        tree = minimum_spanning_tree(rand.tocsr())
        order, pred = breadth_first_order(tree, 0, directed=False, return_predecessors=True)
        if len(order) < n:  # not connected: cut off what the tree cannot reach
            inside = np.zeros(n, bool)
            inside[order] = True
            return (0.0, ~inside, max(1, min(k - 1, round(w[~inside].sum() / unit))))
        s = _subtree_sums(order, pred, w)
        cand = order[1:]
        k1 = np.clip(np.round(s[cand] / unit), 1, k - 1)
        err = np.abs(s[cand] - k1 * unit)
        j = int(np.argmin(err))
        if err[j] < best[0]:
            v = cand[j]
            # the subtree under v
            inside = np.zeros(n, bool)
            inside[v] = True
            for u in order:
                if pred[u] >= 0 and inside[pred[u]]:
                    inside[u] = True
            best = (float(err[j]), inside, int(k1[j]))
    return best


def seed_plan(sub: SubProblem, *, seed: int = 0, tries: int = 6) -> np.ndarray:
    """Labels 0..k-1 for the atoms of ``sub`` from recursive tree bisection.

    Parameters
    ----------
    sub : SubProblem
    seed : int
        Seeds the random spanning trees.
    tries : int
        Random trees drawn per cut; the most balanced cut is kept.

    Returns
    -------
    ndarray of int
        A contiguous label per atom.

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> labels = seed_plan(grid_subproblem(6, 6, k=4), seed=1)
    >>> sorted(set(labels.tolist()))
    [0, 1, 2, 3]
    """
    rng = np.random.default_rng(seed)
    n = sub.n
    labels = np.zeros(n, dtype=np.int64)
    if sub.k <= 1 or n <= 1:
        return labels
    w_eff = sub.weight.astype(float)
    w_eff[sub.forced] = sub.band.centre
    e = sub.edges
    adj = sp.coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)).tocsr()
    adj.data[:] = 1.0
    stack = [(np.arange(n), sub.k)]
    next_label = 0
    while stack:
        nodes, k = stack.pop()
        if k <= 1 or len(nodes) <= 1:
            labels[nodes] = next_label
            next_label += 1
            continue
        sub_adj = adj[nodes][:, nodes]
        err, inside, k1 = _best_cut(sub_adj, w_eff[nodes], k, rng, tries)
        if inside is None or inside.all() or not inside.any():
            labels[nodes] = next_label
            next_label += 1
            continue
        k1 = min(k1, int(inside.sum()))
        k2 = min(k - k1, int((~inside).sum()))
        # push the second part first so labels follow the first part depth-first
        stack.append((nodes[~inside], k2))
        stack.append((nodes[inside], k1))
    return labels
