"""Figures for ``gp.repartition`` and ``gridpart.pipeline.batch`` on seeded synthetic cities.

Scenarios (each from an old plan drawn by ``gp.partition``):

* ``merge``: two neighbouring communities merge (the first pair whose
  smaller side is the smallest community, as mergers usually go);
* ``moved``: the blocks of community C1 along C2 change to C2.

For each: the share of households keeping their grid-mates
(:func:`gridpart.pipeline.repartition.grid_mates_kept`) in the communities the change
did not reach and in those it did, the same share for a fresh partition of
the new communities, old grids touched, households moved, the share of grids
in the band, and wall times.  ``--batch`` also times 20 small areas on the
process pool and on a dask LocalCluster.

Run::

    python benchmarks/bench_repartition.py                      # Markdown table
    python benchmarks/bench_repartition.py --sizes 3000 50000 --batch
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely


def _scenarios(n: int, seed: int, communities: int):
    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, comm = synthetic_city(n, seed=seed, communities=communities)
    t0 = time.perf_counter()
    old = gp.partition(roads, hh, communities=comm, seed=0, time_limit=60)
    t_old = time.perf_counter() - t0
    totals = old.grids.groupby("community_id")["households"].sum()
    ids = list(comm["community_id"])
    # neighbours in strip order: merge the smallest community with its smaller neighbour
    small = totals.idxmin()
    i = ids.index(small)
    nb = [ids[j] for j in (i - 1, i + 1) if 0 <= j < len(ids)]
    other = min(nb, key=lambda c: totals[c])
    pair = sorted([small, other])
    merged = comm[comm["community_id"].isin(pair)].dissolve().assign(
        community_id="+".join(pair), code="110108001099")
    new_merge = pd.concat([comm[~comm["community_id"].isin(pair)], merged], ignore_index=True)
    c2 = comm.set_index("community_id").geometry[ids[1]]
    b = old.blocks
    strip = shapely.union_all(b[(b["community_id"] == ids[0]) & b.intersects(c2.buffer(1.0))].geometry.values)
    new_moved = comm.set_index("community_id")
    new_moved.loc[ids[0], "geometry"] = shapely.difference(new_moved.geometry[ids[0]], strip)
    new_moved.loc[ids[1], "geometry"] = shapely.union(new_moved.geometry[ids[1]], strip)
    return roads, hh, old, t_old, {"merge": (new_merge.reset_index(drop=True), set(pair)),
                                   "moved": (new_moved.reset_index(), {ids[0], ids[1]})}


def run(n: int, seed: int, communities: int) -> list[dict]:
    import gridpart as gp
    from gridpart.pipeline.repartition import grid_mates_kept

    roads, hh, old, t_old, scen = _scenarios(n, seed, communities)
    rows = []
    for name, (new, reached) in scen.items():
        t0 = time.perf_counter()
        plan = gp.repartition(old, roads, hh, communities=new, seed=0, time_limit=60)
        t_rep = time.perf_counter() - t0
        t0 = time.perf_counter()
        fresh = gp.partition(roads, hh, communities=new, seed=0, time_limit=60)
        t_fresh = time.perf_counter() - t0
        ch = plan.changes
        w = hh["households"].to_numpy(dtype=float)
        old_comm = old.households["grid_id"].map(old.grids.set_index("grid_id")["community_id"]).to_numpy()
        hit = np.isin(old_comm.astype(str), [str(c) for c in reached])
        mates = ch.households["keeps_mates"].to_numpy()
        fresh_mates = grid_mates_kept(ch.households["old_grid_id"], fresh.households["grid_id"], w)
        card, fcard = plan.score().summary, fresh.score().summary
        rows.append({
            "households": n, "communities": communities, "scenario": name,
            "old grids": int(ch.summary["grids_old"]), "new grids": int(ch.summary["grids_new"]),
            "mates kept, untouched": w[~hit & mates].sum() / w[~hit].sum(),
            "mates kept, changed": w[hit & mates].sum() / w[hit].sum(),
            "mates kept, fresh partition (changed)": w[hit & fresh_mates].sum() / w[hit].sum(),
            "moved": int(ch.summary["moved"]), "grids touched": int(ch.summary["grids_touched"]),
            "in band": card["share_in_band"], "in band, fresh": fcard["share_in_band"],
            "repartition s": t_rep, "fresh partition s": t_fresh, "old partition s": t_old,
        })
    return rows


def batch_times(n_areas: int = 20) -> dict:
    from gridpart.datasets.synthetic import synthetic_city
    from gridpart.pipeline.batch import dask_executor, run_batch

    out = {}
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "areas"
        root.mkdir()
        for i in range(n_areas):
            roads, hh, comm = synthetic_city(1000 + 100 * i, seed=i, communities=2)
            p = root / f"area{i:02d}.gpkg"
            roads.to_file(p, layer="roads")
            hh.to_file(p, layer="households")
            comm.to_file(p, layer="communities")
        t0 = time.perf_counter()
        run_batch(root, Path(d) / "pool", n_jobs=2, progress=False, seed=0)
        out["process pool (2 workers) s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_batch(root, Path(d) / "pool", n_jobs=2, progress=False, seed=0)
        out["restart, all done s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with dask_executor(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as ex:
            run_batch(root, Path(d) / "dask", executor=ex, progress=False, seed=0)
        out["dask LocalCluster (threads) s"] = time.perf_counter() - t0
    return out


def _markdown(df: pd.DataFrame) -> str:
    def cell(v) -> str:
        return f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[3000, 20000])
    ap.add_argument("--communities", type=int, default=4)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--batch", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = [r for n in args.sizes for r in run(n, args.seed, args.communities)]
    text = _markdown(pd.DataFrame(rows).T.reset_index().rename(columns={"index": "figure"}))
    if args.batch:
        text += "\n\n" + _markdown(pd.Series(batch_times()).rename_axis("batch, 20 areas").reset_index(name="value"))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
