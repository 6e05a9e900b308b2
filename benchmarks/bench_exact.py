"""Exact strategy: time to proof and gap as atoms and grids grow.

Each instance is a synthetic district (``gridpart.datasets.synthetic_city``)
of ``300 × grids`` households whose street net is drawn fine enough for about
the given number of atoms, partitioned with ``strategy="exact"`` (one
free-centre CP-SAT model per component: households' moment of inertia, band
hard where feasible) under a wall-clock cap.  The table gives CP-SAT's status
for that model, the wall time, the objective, the bound and the gap.

Run::

    python benchmarks/bench_exact.py                         # grids 4 8 12 x atoms 50 100 150 250
    python benchmarks/bench_exact.py --grids 8 --atoms 100 --time-limit 30
    python benchmarks/bench_exact.py --out benchmarks/results/exact.md
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from _report import write_table


def run_one(grids: int, atoms: int, seed: int, time_limit: float) -> dict:
    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    n = 300 * grids
    roads, hh, _ = synthetic_city(n, seed=seed, block_households=n / atoms)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, strategy="exact", seed=0, time_limit=time_limit)
    wall = time.perf_counter() - t0
    st = plan.status.sort_values("n_atoms", ascending=False).iloc[0]  # the main component
    card = plan.score().summary
    return {
        "grids_asked": grids, "atoms_asked": atoms, "seed": seed,
        "atoms": int(st["n_atoms"]), "grids": int(st["n_grids"]), "status": st["status"],
        "solve_s": round(float(st["wall_s"]), 1), "total_s": round(wall, 1),
        "objective": float(st["objective"]), "bound": float(st["model_bound"]),
        "gap": round(float(st["model_gap"]), 4) if st["model_gap"] == st["model_gap"] else "",
        "effort": float(st["effort"]),
        "in_band": round(float(card["share_in_band"]), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", type=int, nargs="+", default=[4, 8, 12])
    ap.add_argument("--atoms", type=int, nargs="+", default=[50, 100, 150, 250])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    for k in args.grids:
        for a in args.atoms:
            for s in args.seeds:
                rows.append(run_one(k, a, s, args.time_limit))
                print(rows[-1], flush=True)
    write_table(rows, f"time limit {args.time_limit:g} s per instance, CP-SAT 1 worker (deterministic)", args.out)


if __name__ == "__main__":
    main()
