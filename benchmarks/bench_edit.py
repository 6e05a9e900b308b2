"""Speed of hand edits (issue 14): ``move`` then ``validate``, and ``undo``.

For each instance a plan is drawn once; then, for ``--moves`` atoms spread
over the plan, one atom is moved into a neighbouring grid, the plan is
validated and the move undone.  The table gives the median and the worst
wall time of each (targets of issue 14: move + validate under 0.2 s, undo
under 50 ms).

Instances: ``sample`` (the packaged sample, 55 grids) and ``synthetic-N``
(:func:`gridpart.datasets.synthetic.synthetic_city` of N households).

Run::

    python benchmarks/bench_edit.py                                  # the sample
    python benchmarks/bench_edit.py --instances sample synthetic-20000
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _report import write_table


def _plan(name: str):
    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "sample":
            s = gp.datasets.load_sample()
            return gp.partition(s.roads, s.households, study_area=s.study_area)
        n = int(name.split("-", 1)[1])
        roads, hh, comm = synthetic_city(n, seed=0, communities=max(1, n // 5000))
        return gp.partition(roads, hh, communities=comm, time_limit=60)


def _neighbour_moves(plan, k: int) -> list[tuple[int, int]]:
    """``k`` (atom, grid) pairs: an atom and a grid of its community it touches, spread over the plan."""
    g = plan.blocks.set_index("atom_id")["grid_id"]
    c = plan.blocks.set_index("atom_id")["community_id"].astype(str)
    e = plan.edges
    ga, gb = g.reindex(e["a"]).to_numpy(), g.reindex(e["b"]).to_numpy()
    cross = np.flatnonzero((ga != gb) & (c.reindex(e["a"]).to_numpy() == c.reindex(e["b"]).to_numpy()))
    pick = cross[np.linspace(0, len(cross) - 1, min(k, len(cross))).astype(int)]
    return [(int(e["a"].iloc[i]), int(gb[i])) for i in pick]


def run(name: str, moves: int) -> dict:
    plan = _plan(name)
    t_move, t_val, t_undo = [], [], []
    for atom, to in _neighbour_moves(plan, moves):
        t0 = time.perf_counter()
        moved = plan.move(atoms=[atom], to=to)
        t1 = time.perf_counter()
        moved.validate()
        t2 = time.perf_counter()
        moved.undo()
        t3 = time.perf_counter()
        t_move.append(t1 - t0)
        t_val.append(t2 - t1)
        t_undo.append(t3 - t2)
    both = np.add(t_move, t_val)
    return {"instance": name, "grids": len(plan.grids), "atoms": len(plan.blocks), "moves": len(t_move),
            "move_s (median)": f"{np.median(t_move):.3f}", "validate_s (median)": f"{np.median(t_val):.3f}",
            "move+validate_s (median / max)": f"{np.median(both):.3f} / {np.max(both):.3f}",
            "undo_ms (median / max)": f"{1000 * np.median(t_undo):.1f} / {1000 * np.max(t_undo):.1f}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", nargs="+", default=["sample"])
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    args = ap.parse_args()
    rows = [run(name, args.moves) for name in args.instances]
    write_table(rows, f"{args.moves} single-atom moves per instance", args.out)


if __name__ == "__main__":
    main()
