"""City scale: the whole pipeline on synthetic cities of 10k to 1M households.

Each size runs in a fresh process (so its peak memory, the largest max RSS
of that process and its worker processes, is its own): synthetic city ->
``gp.partition`` (blocks, building cells, adjacency, seed, LNS) -> score.
Reported beside the achieved band shares is a lower bound on the grids that
must fall outside the band: one per atom above the band (indivisible) plus
one per connected component whose total is below it (DESIGN §3, forced).

Run::

    python benchmarks/bench_scale.py                       # 10k, 100k, 1M; n_jobs=2
    python benchmarks/bench_scale.py --sizes 10000 100000 --communities 0
    python benchmarks/bench_scale.py --out benchmarks/results/scale.md
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _report import write_table


def run_one(n: int, communities: int, n_jobs: int, seed: int, time_limit: float, strategy: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np

    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    t0 = time.perf_counter()
    roads, hh, comm = synthetic_city(n, seed=seed, communities=communities)
    t1 = time.perf_counter()
    plan = gp.partition(roads, hh, communities=comm, strategy=strategy, seed=seed, time_limit=time_limit,
                        n_jobs=n_jobs)
    t2 = time.perf_counter()
    card = plan.score().summary
    placed = int(plan.households["grid_id"].notna().sum())
    lost = len(hh) - placed - len(plan.unplaced)
    band = plan.params["band"]
    over = int((plan.blocks["households"] > band[1]).sum())  # atoms that cannot fit
    st = plan.status
    # components below the band need a grid of their own too
    small = int(((st["households"] < band[0]) & (st["households"] > 0)).sum())
    # the largest resident set of this process and of its workers (forked
    # workers' own peaks include what they shared with this process at fork)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    t = plan.params["timings"]
    return {
        "households": int(hh["households"].sum()),
        "points": len(hh),
        "atoms": len(plan.blocks),
        "grids": int(card["grids"]),
        "bound_out": over + small,
        "forced_out": int(card["forced_out"]),
        "in_band": round(float(card["share_in_band"]), 3),
        "in_band_raw": round(float(card["share_in_band_raw"]), 3),
        "within_10pct": round(float(card["share_within_10pct"]), 3),
        "within_20pct": round(float(card["share_within_20pct"]), 3),
        "contiguous": round(float(card["contiguous_share"]), 3),
        "road_share": round(float(card["road_share"]), 3),
        "unplaced": len(plan.unplaced),
        "lost": int(lost),
        "generate_s": round(t1 - t0, 1),
        "blocks_s": round(t["blocks_s"], 1),
        "graph_s": round(t["graph_s"], 1),
        "solve_s": round(t["solve_s"], 1),
        "pipeline_s": round(t2 - t1, 1),
        "peak_mb": round(peak),
        "sizes_cv": round(float(np.std(plan.grids["households"]) / np.mean(plan.grids["households"])), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--communities", type=int, default=0,
                    help="communities per city (0: one open district, the hardest case)")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0, help="safety cap per sub-problem (s)")
    ap.add_argument("--strategy", default="auto")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.communities, args.n_jobs, args.seed, args.time_limit, args.strategy)))
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--communities", str(args.communities),
             "--n-jobs", str(args.n_jobs), "--seed", str(args.seed), "--time-limit", str(args.time_limit),
             "--strategy", args.strategy],
            check=True, capture_output=True, text=True,
        )
        row = {"size": n, **json.loads(out.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    settings = f"strategy={args.strategy}, n_jobs={args.n_jobs}, communities={args.communities}, seed={args.seed}"
    write_table(rows, settings, args.out)


if __name__ == "__main__":
    main()
