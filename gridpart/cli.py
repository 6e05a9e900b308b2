"""The ``gridpart`` command line: ``demo``, ``partition``, ``score``, ``render`` (map and atlas), ``register``,
``repartition``, ``batch``, ``bench``, ``validate``, ``history``, ``diff`` and the hand edits ``move``, ``lock``,
``unlock`` and ``undo`` (each writes the plan back atomically, its history with it).

Errors gridpart raises on purpose (:class:`~gridpart.errors.GridpartError`)
print their message on stderr and exit with code 2, without a traceback;
anything else is a bug and keeps its traceback.  ``-v`` logs progress to
stderr (``-vv`` for debug detail).

Examples
--------
>>> from gridpart.cli import main
>>> main(["--version"])  # doctest: +SKIP
gridpart 0.2.0
0
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridpart.plan import GridPlan

__all__ = ["main", "build_parser"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INPUT = 2
#: ``gridpart validate``: the plan has errors.
EXIT_FINDINGS = 1
_OSM_SUFFIXES = (".osm", ".pbf")


# --------------------------------------------------------------------------- helpers


def _is_osm(path: str | None) -> bool:
    return path is not None and str(path).lower().endswith(_OSM_SUFFIXES)


def _same_file(a: str, b: str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _write_png(plan: GridPlan, path: str | os.PathLike, *, title: str | None = None,
               labels: bool = True, roads: bool = True, dpi: int = 150) -> Path:
    """Render ``plan`` to a PNG without pyplot (no backend, no global state)."""
    from matplotlib.figure import Figure

    from gridpart.outputs.io import atomic_path
    from gridpart.outputs.plot import plot_plan

    path = Path(path)
    fig = Figure(figsize=(10, 10))
    ax = fig.add_subplot()
    plot_plan(plan, ax=ax, title=title, labels=labels, roads=roads)
    with atomic_path(path) as tmp:  # an interrupted render leaves no half-written PNG
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".").lower() or "png")
    return path


def _time_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class _Logging:
    """Send gridpart's log records to stderr for the length of one command."""

    def __init__(self, verbose: int):
        self.verbose = verbose
        self.logger = logging.getLogger("gridpart")

    def __enter__(self) -> _Logging:
        self.level = self.logger.level
        self.handler = None
        if self.verbose:
            self.handler = logging.StreamHandler(sys.stderr)
            self.handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
            self.logger.addHandler(self.handler)
            self.logger.setLevel(logging.INFO if self.verbose == 1 else logging.DEBUG)
        return self

    def __exit__(self, *exc) -> None:
        if self.handler is not None:
            self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


# --------------------------------------------------------------------------- commands


def _cmd_demo(args: argparse.Namespace) -> int:
    import gridpart as gp
    from gridpart.outputs.plot import OSM_ATTRIBUTION, cjk_font

    outdir = Path(args.outdir)
    sample = gp.datasets.load_sample()
    print(f"partitioning the packaged sample (Xueyuan Road, Haidian, Beijing: "
          f"{int(sample.households['households'].sum())} households in {len(sample.households)} "
          f"buildings) ...", file=sys.stderr)
    t0 = time.perf_counter()
    plan = gp.partition(sample.roads, sample.households, study_area=sample.study_area,
                        parcels=sample.parcels, strategy=args.strategy, time_limit=args.time_limit,
                        seed=args.seed, progress=True)
    wall = time.perf_counter() - t0
    plan.record = dataclasses.replace(plan.record, attribution=OSM_ATTRIBUTION)
    gpkg = outdir / "demo_grids.gpkg"
    png = outdir / "demo_grids.png"
    outdir.mkdir(parents=True, exist_ok=True)
    plan.to_file(gpkg)
    title = "学院路 Xueyuan Road (Haidian, Beijing)" if cjk_font() else "Xueyuan Road (Haidian, Beijing)"
    _write_png(plan, png, title=f"{title}: {len(plan.grids)} grids")
    print(plan.summary())
    print(f"partitioned in {_time_text(wall)}")
    print(f"wrote {gpkg}")
    print(f"wrote {png}")
    return EXIT_OK


def _read_study_area(path: str | None):
    if path is None:
        return None
    from gridpart.inputs.schema import read_layer

    return read_layer(path, argument="study_area")


def _coords_option(text: str | None) -> str | dict | None:
    """``--coords``: ``gcj02`` for every layer, or ``households=gcj02,roads=bd09`` per layer."""
    if text is None or "=" not in text:
        return text
    out = {}
    for item in text.split(","):
        layer, _, system = item.partition("=")
        out[layer.strip()] = system.strip()
    return out


def _cmd_partition(args: argparse.Namespace) -> int:
    import geopandas as gpd

    import gridpart as gp
    from gridpart.errors import InputError, Problem
    from gridpart.inputs.schema import read_layer
    from gridpart.outputs.plot import OSM_ATTRIBUTION

    roads = args.roads
    households = args.households
    barriers, parcels, study_area = args.barriers, args.parcels, _read_study_area(args.study_area)
    from_osm = _is_osm(roads)
    osm = None
    if from_osm:
        osm = gp.read_osm(roads)
        roads = osm.roads
        if barriers is None:
            barriers = osm.barriers
        if parcels is None:
            parcels = osm.parcels
        if study_area is None and osm.study_area is not None:
            study_area = gpd.GeoDataFrame(geometry=[osm.study_area], crs="EPSG:4326")

    estimate_from = None  # buildings to estimate households from
    if households is None or (from_osm and _is_osm(households) and _same_file(households, args.roads)):
        if osm is None:
            raise InputError([Problem("households", "no household file was given and ROADS is not an OSM "
                                      "file to estimate them from",
                                      fix="pass a HOUSEHOLDS file (points with a 'households' column), "
                                          "or an .osm/.osm.pbf file as ROADS")])
        estimate_from = osm.buildings
    elif args.estimate:
        if _is_osm(households):
            estimate_from = gp.read_osm(households).buildings
        else:
            estimate_from = read_layer(households, argument="buildings")
    if estimate_from is not None:
        parcel_frame = read_layer(parcels, argument="parcels") if isinstance(parcels, (str, os.PathLike)) else parcels
        households = gp.estimate_households(estimate_from, parcels=parcel_frame)
        print(f"estimated {int(households['households'].sum())} households in {len(households)} buildings "
              "from building footprints", file=sys.stderr)

    if args.band is not None:
        target = (args.band[0], args.band[1])
    else:
        target = args.target
    t0 = time.perf_counter()
    plan = gp.partition(
        roads, households, communities=args.communities, parcels=parcels, barriers=barriers,
        study_area=study_area, target=target, tolerance=args.tolerance, strategy=args.strategy,
        time_limit=args.time_limit, seed=args.seed, n_jobs=args.n_jobs, progress=True, units=args.units,
        compounds=args.compounds,
        coords=_coords_option(args.coords),
    )
    wall = time.perf_counter() - t0
    if from_osm:
        plan.record = dataclasses.replace(plan.record, attribution=OSM_ATTRIBUTION)
    plan.to_file(args.output)
    print(plan.summary())
    print(f"partitioned in {_time_text(wall)}")
    print(f"wrote {args.output}")
    if args.png:
        print(f"wrote {_write_png(plan, args.png, title=args.title)}")
    return EXIT_OK


def _cmd_register(args: argparse.Namespace) -> int:
    import gridpart as gp
    from gridpart.errors import InputError, Problem

    plan = gp.read_plan(args.plan)
    if args.code is not None or args.width is not None:
        ids = sorted(plan.grids["community_id"].astype(str).unique())
        codes: dict[str, str] = {}
        for item in args.code or []:
            if "=" in item:
                cid, code = item.split("=", 1)
            elif len(ids) == 1:
                cid, code = ids[0], item
            else:
                raise InputError([Problem("--code", f"the plan has {len(ids)} communities; say which one "
                                          f"{item!r} is for", fix=f"--code {ids[0]}={item}")])
            codes[cid.strip()] = code.strip()
        plan = gp.recode(plan, codes=codes or None, width=args.width)
    path = gp.write_register(plan, args.output, language=args.language)
    print(f"wrote {path} ({len(plan.grids)} grids)")
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    import pandas as pd

    import gridpart as gp

    plan = gp.read_plan(args.plan)
    reference = gp.read_plan(args.reference) if args.reference else None
    pace = {k: v for k, v in (("walk_speed_kmh", args.walk_speed), ("minutes", args.minutes)) if v is not None}
    card = plan.score(reference=reference, stations=args.stations, **pace)
    print(plan.summary())
    print()
    asked = {"households_changed": reference is not None, "share_changed": reference is not None,
             "share_within_walk": args.stations is not None}
    summary = card.summary.drop([k for k, shown in asked.items() if not shown])
    per_grid = card.per_grid.drop(columns=[k for k, shown in asked.items() if not shown and k in card.per_grid])
    width = max(len(str(k)) for k in summary.index)
    for key, value in summary.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"{str(key):<{width}}  {text}")
    if args.per_grid:
        print()
        with pd.option_context("display.max_rows", None, "display.width", 160):
            print(per_grid.to_string(float_format=lambda v: f"{v:.3g}"))
    return EXIT_OK


def _cmd_render(args: argparse.Namespace) -> int:
    import gridpart as gp

    plan = gp.read_plan(args.plan)
    path = _write_png(plan, args.output, title=args.title, labels=not args.no_labels,
                      roads=not args.no_roads, dpi=args.dpi)
    print(f"wrote {path}")
    if args.atlas:
        atlas = plan.atlas(args.atlas, paper=args.paper, title=args.title)
        print(f"wrote {atlas} ({1 + len(plan.grids)} pages, {args.paper})")
    return EXIT_OK


def _cmd_repartition(args: argparse.Namespace) -> int:
    import gridpart as gp

    target = (args.band[0], args.band[1]) if args.band is not None else args.target
    t0 = time.perf_counter()
    plan = gp.repartition(
        args.old, args.roads, args.households, communities=args.communities, parcels=args.parcels,
        barriers=args.barriers, study_area=_read_study_area(args.study_area), target=target,
        tolerance=args.tolerance, locked=args.locked, rebalance=args.rebalance, scope=args.scope,
        time_limit=args.time_limit, seed=args.seed,
    )
    wall = time.perf_counter() - t0
    plan.to_file(args.output)
    s = plan.changes.summary
    print(plan.summary())
    print(f"households kept in their grid: {int(s['kept'])} of {int(s['kept'] + s['moved'])} "
          f"({s['share_kept']:.1%}); moved: {int(s['moved'])}; new: {int(s['new'])}; "
          f"unplaced: {int(s['unplaced'])}")
    fates = ", ".join(f"{k} {int(s[f'grids_{k.replace(chr(45), chr(95))}'])}" for k in
                      ("kept", "re-coded", "resized", "split", "merged", "dissolved"))
    print(f"old grids: {int(s['grids_old'])} ({fates}); new grids: {int(s['grids_new'])}")
    print(f"re-partitioned in {_time_text(wall)}")
    print(f"wrote {args.output} (plan, and the change table in layers changes_grids, changes_households)")
    if args.changes_csv:
        path = Path(args.changes_csv)
        path.parent.mkdir(parents=True, exist_ok=True)
        plan.changes.grids.to_csv(path, index=False)
        print(f"wrote {path}")
    return EXIT_OK


def _cmd_batch(args: argparse.Namespace) -> int:
    from gridpart.pipeline.batch import dask_executor, find_areas, run_batch

    areas = find_areas(*args.sources)
    options = {"tolerance": args.tolerance, "time_limit": args.time_limit, "seed": args.seed,
               "target": (args.band[0], args.band[1]) if args.band is not None else args.target}
    if args.strategy != "auto":
        options["strategy"] = args.strategy
    if args.rebalance:
        options["rebalance"] = True
    t0 = time.perf_counter()
    if args.dask:
        address = None if args.dask == "local" else args.dask
        kwargs = {} if address else {"n_workers": args.n_jobs or 1, "threads_per_worker": 1}
        with dask_executor(address, **kwargs) as ex:
            table = run_batch(areas, args.output, executor=ex, progress=not args.no_progress,
                              overwrite=args.overwrite, **options)
    else:
        table = run_batch(areas, args.output, n_jobs=args.n_jobs, progress=not args.no_progress,
                          overwrite=args.overwrite, **options)
    counts = table["status"].value_counts()
    print(f"{len(table)} areas: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" in {_time_text(time.perf_counter() - t0)}; wrote {args.output}")
    for _, row in table[table["status"] == "failed"].iterrows():
        print(f"  {row['name']}: {str(row['error']).splitlines()[0]}", file=sys.stderr)
    return EXIT_OK if not (table["status"] == "failed").any() else 1


# --------------------------------------------------------------------------- parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _cmd_validate(args: argparse.Namespace) -> int:
    import pandas as pd

    import gridpart as gp
    from gridpart.errors import InputError, Problem
    from gridpart.outputs.io import atomic_path

    plan = gp.read_plan(args.plan)
    findings = plan.validate()
    table = pd.DataFrame(findings.drop(columns="geometry"))
    table["atom_ids"] = table["atom_ids"].map(lambda ids: " ".join(map(str, ids)))
    n_err = int((table["severity"] == "error").sum())
    if len(table):
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 120):
            print(table[["severity", "check", "grid_id", "code", "message"]].to_string(index=False))
        print()
    n_warn = len(table) - n_err
    print(f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)} in {len(plan.grids)} grids")
    if args.xlsx:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise InputError([Problem("--xlsx", "writing .xlsx needs openpyxl",
                                      fix="pip install 'gridpart[excel]'")]) from None
        with atomic_path(args.xlsx) as tmp:
            table.to_excel(tmp, index=False, sheet_name="findings", engine="openpyxl")
        print(f"wrote {args.xlsx}")
    return EXIT_FINDINGS if n_err else EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    import pandas as pd

    import gridpart as gp
    from gridpart.outputs.io import history_table

    plan = gp.read_plan(args.plan)
    table = history_table(plan)
    if not len(table):
        print("no edits")
        return EXIT_OK
    table["undone"] = table["undone"].map({True: "undone", False: ""})
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(table.drop(columns=["came_along"]).to_string(index=False))
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    import pandas as pd

    import gridpart as gp
    from gridpart.outputs.diff import diff_plans

    table = diff_plans(gp.read_plan(args.a), gp.read_plan(args.b))
    shown = table if args.all else table[table["state"] != "same"]
    if len(shown):
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(shown.to_string(index=False))
        print()
    counts = table["state"].value_counts()
    print(", ".join(f"{int(counts.get(k, 0))} {k}" for k in ("changed", "new", "gone", "same")) + " grids; "
          f"{table['households_out'].sum():g} households changed grid")
    if args.csv:
        from gridpart.outputs.io import atomic_path

        with atomic_path(args.csv) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        print(f"wrote {args.csv}")
    return EXIT_OK


def _ids(values: list[str] | None) -> list:
    """Command-line ids: integers where they read as one, else the text (a code, an address)."""
    return [int(v) if v.strip().lstrip("-").isdigit() and not v.startswith("0") else v for v in values or []]


def _write_edit(plan: GridPlan, args: argparse.Namespace) -> int:
    out = args.output or args.plan
    plan.to_file(out)
    e = plan.history[-1] if plan.history else None
    print(f"wrote {out}" + (f" (step {len(plan.history)}: {e.action}{' undone' if e.undone else ''})" if e else ""))
    return EXIT_OK


def _cmd_move(args: argparse.Namespace) -> int:
    import gridpart as gp

    plan = gp.read_plan(args.plan)
    to = args.to if args.to == "new" else _ids([args.to])[0]
    moved = plan.move(atoms=_ids(args.atoms) if args.atoms else None, blocks=_ids(args.blocks) if args.blocks else None,
                      households=_ids(args.households) if args.households else None, to=to, author=args.author,
                      note=args.note or "")
    e = moved.history[-1] if len(moved.history) > len(plan.history) else None
    if e is not None:
        print(f"moved atoms {list(e.atoms)} ({e.households_moved:g} households) from grids {list(e.from_grids)} "
              f"to grid {e.to_grid}" + (f"; came along: {list(e.came_along)}" if e.came_along else ""))
    return _write_edit(moved, args)


def _cmd_lock(args: argparse.Namespace) -> int:
    import gridpart as gp

    plan = gp.read_plan(args.plan)
    edit = plan.lock if args.command == "lock" else plan.unlock
    return _write_edit(edit(_ids(args.grids), author=args.author, note=args.note or ""), args)


def _cmd_undo(args: argparse.Namespace) -> int:
    import gridpart as gp

    plan = gp.read_plan(args.plan)
    return _write_edit(plan.redo() if args.redo else plan.undo(), args)


def _add_edit_parsers(sub, common: argparse.ArgumentParser) -> None:
    def edit_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("plan", metavar="PLAN.gpkg")
        p.add_argument("-o", "--output", metavar="OUT.gpkg",
                       help="write here (default: PLAN.gpkg, replaced atomically)")

    def who(p: argparse.ArgumentParser) -> None:
        p.add_argument("--note", help="recorded in the history")
        p.add_argument("--author", help="recorded in the history (default: $USER)")

    mv = sub.add_parser("move", parents=[common], help="move atoms, street blocks or households to another grid",
                        description="Move atoms (or whole street blocks, or the atoms of households) into a grid "
                                    "(id or code) or a new one; writes the plan with the step in its history.")
    edit_options(mv)
    what = mv.add_mutually_exclusive_group(required=True)
    what.add_argument("--atoms", nargs="+", metavar="ID")
    what.add_argument("--blocks", nargs="+", metavar="ID")
    what.add_argument("--households", nargs="+", metavar="ID")
    mv.add_argument("--to", required=True, metavar="GRID", help="grid id, grid code, or 'new'")
    who(mv)
    mv.set_defaults(func=_cmd_move)
    for name, text in (("lock", "lock grids (ids or codes)"), ("unlock", "unlock grids (ids or codes)")):
        p = sub.add_parser(name, parents=[common], help=text, description=text.capitalize() + "; writes the plan.")
        edit_options(p)
        p.add_argument("grids", nargs="+", metavar="GRID")
        who(p)
        p.set_defaults(func=_cmd_lock)
    df = sub.add_parser("diff", parents=[common], help="the change table between two plans of one area",
                        description="Print, grid by grid (matched by code), what changed from plan A to plan B: "
                                    "households before and after, in and out, and where they came from and went.")
    df.add_argument("a", metavar="A.gpkg")
    df.add_argument("b", metavar="B.gpkg")
    df.add_argument("--all", action="store_true", help="also list the grids that did not change")
    df.add_argument("--csv", metavar="F.csv", help="also write the whole table (UTF-8 with BOM)")
    df.set_defaults(func=_cmd_diff)
    un = sub.add_parser("undo", parents=[common], help="undo the last edit (--redo: redo it)",
                        description="Undo the last step in effect of a plan's history (or redo the last undone one).")
    edit_options(un)
    un.add_argument("--redo", action="store_true", help="redo the last undone step instead")
    un.set_defaults(func=_cmd_undo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gridpart`` command.

    Examples
    --------
    >>> args = build_parser().parse_args(["score", "plan.gpkg"])
    >>> args.command, args.plan
    ('score', 'plan.gpkg')
    """
    from gridpart._version import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress to stderr (-vv: debug detail)")

    parser = argparse.ArgumentParser(
        prog="gridpart", parents=[common],
        description="Community management grids (网格化管理) from road networks and household points.",
        epilog="Run 'gridpart COMMAND -h' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"gridpart {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", parents=[common], help="partition the packaged Beijing sample",
                          description="Partition the packaged sample (Xueyuan Road, Haidian, Beijing; "
                                      "© OpenStreetMap contributors) and write a GeoPackage and a map.")
    demo.add_argument("-o", "--outdir", default="gridpart-demo",
                      help="output folder (default: ./gridpart-demo)")
    demo.add_argument("--time-limit", type=_positive_float, default=60.0, metavar="S",
                      help="wall-clock cap per sub-problem in seconds (default 60)")
    demo.add_argument("--strategy", default="auto", help="solver strategy (default auto)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_cmd_demo)

    part = sub.add_parser(
        "partition", parents=[common], help="draw grids from roads and households",
        description="Draw grids from a road network and household points. Inputs are any file GDAL "
                    "reads (a multi-layer GeoPackage is read by the layer named like the argument), "
                    "or an OSM .osm/.osm.pbf file as ROADS: then its barriers, parcels and bounds are "
                    "used unless given, and HOUSEHOLDS may be the same file (or omitted) to estimate "
                    "households from its buildings.")
    part.add_argument("roads", metavar="ROADS", help="road centrelines (or an .osm/.osm.pbf file)")
    part.add_argument("households", metavar="HOUSEHOLDS", nargs="?",
                      help="household points with a 'households' column (default: estimated from the "
                           "buildings of an OSM ROADS file)")
    part.add_argument("-o", "--output", required=True, metavar="OUT.gpkg", help="plan GeoPackage to write")
    part.add_argument("--png", metavar="MAP.png", help="also write a map")
    part.add_argument("--title", help="title of the map")
    part.add_argument("--communities", metavar="F", help="community polygons with 'community_id'")
    part.add_argument("--parcels", metavar="F", help="compounds and work units ('kind')")
    part.add_argument("--barriers", metavar="F", help="rivers, railways, walls")
    part.add_argument("--study-area", metavar="F", help="polygon limiting the area")
    size = part.add_mutually_exclusive_group()
    size.add_argument("--target", type=_positive_float, default=300.0, metavar="N",
                      help="households per grid (default 300)")
    size.add_argument("--band", type=_positive_float, nargs=2, metavar=("LO", "HI"),
                      help="explicit households band, e.g. --band 300 500")
    part.add_argument("--tolerance", type=float, default=0.2, metavar="T",
                      help="band = target × (1 ± T) (default 0.2)")
    part.add_argument("--time-limit", type=_positive_float, default=60.0, metavar="S",
                      help="wall-clock cap per sub-problem in seconds (default 60)")
    part.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    part.add_argument("--strategy", default="auto", metavar="S",
                      help="auto, exact, lns or seed (default auto)")
    part.add_argument("--n-jobs", type=int, default=1, metavar="N",
                      help="processes for independent sub-problems; -1: all cores (default 1)")
    part.add_argument("--coords", default=None, metavar="SYSTEM",
                      help="web-map coordinates to convert to WGS-84 first: gcj02 (Amap, Tencent) or "
                           "bd09 (Baidu) for every layer, or LAYER=SYSTEM[,LAYER=SYSTEM], e.g. "
                           "households=gcj02")
    part.add_argument("--estimate", action="store_true",
                      help="HOUSEHOLDS holds building footprints (or is an OSM file): estimate "
                           "households from them")
    part.add_argument("--units", choices=("own", "own-all", "merge"), default="own",
                      help="work units get dedicated grids (own, default: units that hold nobody fold into "
                           "a neighbour; own-all: every unit) or share grids (merge)")
    part.add_argument("--compounds", choices=("share", "own"), default="share",
                      help="residential compounds share grids where the band demands it (share, default) "
                           "or are always kept apart (own)")
    part.set_defaults(func=_cmd_partition)

    reg = sub.add_parser("register", parents=[common], help="write a plan's register (网格登记表)",
                         description="Write the register of a plan written by 'gridpart partition': one row "
                                     "per grid with code, kind, households, persons and four limits (四至).")
    reg.add_argument("plan", metavar="PLAN.gpkg")
    reg.add_argument("-o", "--output", required=True, metavar="OUT.xlsx|OUT.csv",
                     help=".xlsx (needs openpyxl) or .csv (UTF-8 with BOM)")
    reg.add_argument("--language", choices=("zh", "en"), default="zh")
    reg.add_argument("--code", action="append", metavar="[ID=]CODE",
                     help="12-digit community code (ID=CODE for each of several communities)")
    reg.add_argument("--width", type=int, metavar="W", help="digits of the grid sequence number: 2 or 3")
    reg.set_defaults(func=_cmd_register)

    score = sub.add_parser("score", parents=[common], help="print the scorecard of a plan",
                           description="Print the scorecard of a plan written by 'gridpart partition'.")
    score.add_argument("plan", metavar="PLAN.gpkg")
    score.add_argument("--per-grid", action="store_true", help="also print the per-grid table")
    score.add_argument("--reference", metavar="OLD.gpkg",
                       help="an earlier plan of the same households: households whose grid changed")
    score.add_argument("--stations", metavar="F",
                       help="service station points (grid_id optional): share of households within a walk")
    score.add_argument("--minutes", type=_positive_float, default=None, metavar="M",
                       help="walking time to the station (default 30)")
    score.add_argument("--walk-speed", type=_positive_float, default=None, metavar="KMH",
                       help="walking pace in km/h (default 4.5)")
    score.set_defaults(func=_cmd_score)

    render = sub.add_parser("render", parents=[common], help="draw a plan's map",
                            description="Draw the map of a plan written by 'gridpart partition'.")
    render.add_argument("plan", metavar="PLAN.gpkg")
    render.add_argument("-o", "--output", required=True, metavar="MAP.png")
    render.add_argument("--title")
    render.add_argument("--dpi", type=int, default=150)
    render.add_argument("--no-labels", action="store_true", help="leave out grid labels")
    render.add_argument("--no-roads", action="store_true", help="leave out roads")
    render.add_argument("--atlas", metavar="ATLAS.pdf", help="also write the PDF atlas: cover + one page per grid")
    render.add_argument("--paper", choices=["A4", "A3"], default="A4", help="atlas paper size (default A4)")
    render.set_defaults(func=_cmd_render)

    def size_options(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--target", type=_positive_float, default=300.0, metavar="N",
                           help="households per grid (default 300)")
        group.add_argument("--band", type=_positive_float, nargs=2, metavar=("LO", "HI"),
                           help="explicit households band, e.g. --band 300 500")
        p.add_argument("--tolerance", type=float, default=0.2, metavar="T",
                       help="band = target × (1 ± T) (default 0.2)")
        p.add_argument("--time-limit", type=_positive_float, default=60.0, metavar="S",
                       help="wall-clock cap per sub-problem in seconds (default 60)")
        p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")

    rep = sub.add_parser(
        "repartition", parents=[common], help="re-draw grids after communities merge or move",
        description="Re-draw an old plan's grids for new community boundaries, changing as few "
                    "households' grid as possible; writes the new plan with its change table "
                    "(layers changes_grids, changes_households, changes_summary).")
    rep.add_argument("old", metavar="OLD.gpkg", help="the old plan (or a file of its grids)")
    rep.add_argument("roads", metavar="ROADS")
    rep.add_argument("households", metavar="HOUSEHOLDS")
    rep.add_argument("--communities", required=True, metavar="NEW.gpkg", help="the new community polygons")
    rep.add_argument("-o", "--output", required=True, metavar="NEW_GRIDS.gpkg")
    rep.add_argument("--parcels", metavar="F")
    rep.add_argument("--barriers", metavar="F")
    rep.add_argument("--study-area", metavar="F")
    rep.add_argument("--locked", type=int, nargs="+", metavar="ID", help="old grid ids that must not change")
    rep.add_argument("--rebalance", action="store_true", help="also re-balance grids that are still valid")
    rep.add_argument("--scope", choices=("changed", "all"), default="changed",
                     help="repair grids out of the band only where the change reached (default), or everywhere")
    rep.add_argument("--changes-csv", metavar="F.csv", help="also write the per-grid change table as CSV")
    size_options(rep)
    rep.set_defaults(func=_cmd_repartition)

    bat = sub.add_parser(
        "batch", parents=[common], help="solve many areas, one plan file each (restartable)",
        description="Partition (or, where an area has an old plan, re-partition) many areas "
                    "independently: area GeoPackages (layers roads, households, communities, "
                    "old_grids) or area folders (roads.*, households.*, communities.*, old.gpkg), "
                    "or folders of them. Each plan is written to OUTDIR/NAME.gpkg atomically; run "
                    "the same command again after an interruption and finished areas are skipped.")
    bat.add_argument("sources", metavar="SOURCE", nargs="+", help="area files or folders")
    bat.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    bat.add_argument("--n-jobs", type=int, default=None, metavar="N", help="worker processes (default: all cores)")
    bat.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed scheduler; 'local' "
                                                       "starts a local cluster (needs gridpart[dask])")
    bat.add_argument("--strategy", default="auto", metavar="S", help="auto, exact, lns or seed (default auto)")
    bat.add_argument("--rebalance", action="store_true", help="re-partitions: re-balance valid grids too")
    bat.add_argument("--overwrite", action="store_true", help="solve every area again")
    bat.add_argument("--no-progress", action="store_true", help="no progress bar")
    size_options(bat)
    bat.set_defaults(func=_cmd_batch)

    val = sub.add_parser(
        "validate", parents=[common], help="check a plan: errors and warnings, one line each",
        description="Check a plan (plan.validate()): print one line per finding; exit 1 when there are errors.")
    val.add_argument("plan", metavar="PLAN.gpkg")
    val.add_argument("--xlsx", metavar="FINDINGS.xlsx", help="also write the findings (needs openpyxl)")
    val.set_defaults(func=_cmd_validate)

    his = sub.add_parser("history", parents=[common], help="print a plan's edit history",
                         description="Print the hand edits stored in a plan file, oldest first.")
    his.add_argument("plan", metavar="PLAN.gpkg")
    his.set_defaults(func=_cmd_history)

    _add_edit_parsers(sub, common)
    _add_bench_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gridpart`` command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success (1: `validate` found errors), 2 for a usage or input error (message on stderr), 130
        when interrupted.

    Examples
    --------
    >>> main(["score", "no-such-plan.gpkg"])  # doctest: +SKIP
    gridpart: error: path: no file at 'no-such-plan.gpkg' Fix: check the path
    2
    """
    from gridpart.errors import GridpartError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
    with _Logging(args.verbose):
        try:
            return args.func(args)
        except GridpartError as exc:
            print(f"gridpart: error: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except FileNotFoundError as exc:
            print(f"gridpart: error: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except KeyboardInterrupt:
            print("gridpart: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _add_bench_parser(sub, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command (:mod:`gridpart.bench`) to the ``gridpart`` parser."""
    p = sub.add_parser(
        "bench", parents=[common], help="compare strategies (gridpart's and peers') on the same instances",
        description="Run strategies on the same atoms and adjacency, each run in its own process with a "
                    "time limit, and write OUTDIR/results.csv, results.md and figures/. Instances: "
                    "--roads/--households files and/or built-in names (helsinki, beijing, synthetic-<N>). "
                    "Peers (metis, metis_contig, maxp, skater, azp, regionkmeans, gerrychain) need "
                    "pip install gridpart[bench].")
    p.add_argument("--roads", metavar="F", help="road centrelines of your own instance")
    p.add_argument("--households", metavar="F", help="household points of your own instance")
    p.add_argument("--communities", metavar="F", help="community polygons of your own instance")
    p.add_argument("--name", default=None, help="name of your own instance in the table (default: the roads file)")
    p.add_argument("--instances", default="", metavar="A,B",
                   help="built-in instances: helsinki, beijing, synthetic-<N> (e.g. synthetic-50k)")
    p.add_argument("--strategies", default="auto,metis,metis_contig,maxp,skater,regionkmeans,gerrychain",
                   metavar="A,B", help="comma-separated strategies (default: auto and the peers); "
                                       "NAME@blocks gives a strategy plain street blocks")
    p.add_argument("--target", type=_positive_float, default=300.0, metavar="N", help="households per grid")
    p.add_argument("--tolerance", type=float, default=0.2, metavar="T", help="band = target × (1 ± T)")
    p.add_argument("--time-limit", type=_positive_float, default=60.0, metavar="S",
                   help="time limit per sub-problem passed to every strategy (default 60)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S",
                   help="wall-clock limit per run; default 10 × time limit + 120")
    p.add_argument("--memory-mb", type=_positive_float, default=None, metavar="MB",
                   help="resident-memory cap per run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-figures", action="store_true", help="skip the maps and histograms")
    p.add_argument("--reference", action="append", metavar="[NAME=]PLAN.gpkg",
                   help="an earlier plan of an instance's households (NAME=PLAN for each of several "
                        "instances): columns households_changed, share_changed")
    p.add_argument("--stations", action="append", metavar="[NAME=]F",
                   help="service station points of an instance, without grid_id (NAME=F for each of several): "
                        "column share_within_walk (30 minutes at 4.5 km/h)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_cmd_bench)
    return p


def _per_instance_option(values: list[str] | None, names: list[str], option: str) -> str | dict[str, str] | None:
    """``[NAME=]PATH`` options: one plain path (for a single instance) or ``{name: path}``."""
    from gridpart.errors import InputError, Problem

    if not values:
        return None
    out: dict[str, str] = {}
    for item in values:
        name, sep, path = item.partition("=")
        if sep and name.strip() in names:
            out[name.strip()] = path.strip()
        elif len(values) == 1:
            return item
        else:
            raise InputError([Problem(option, f"{item!r}: with several {option} options, say which instance "
                                              f"each is for (instances: {names})",
                                      fix=f"{option} {names[0] if names else 'NAME'}={item}")])
    return out


def _cmd_bench(args: argparse.Namespace) -> int:
    """The ``gridpart bench`` command."""
    from gridpart.bench import Instance, instance, markdown_table, run_bench
    from gridpart.errors import InputError, Problem

    insts: list[Instance | str] = [s.strip() for s in args.instances.split(",") if s.strip()]
    if args.roads or args.households or args.communities:
        if not (args.roads and args.households):
            raise InputError([Problem("roads" if not args.roads else "households",
                                      "an instance of your own needs both --roads and --households",
                                      fix="pass --roads F --households F")])
        insts.insert(0, instance(args.name or Path(args.roads).stem, roads=args.roads,
                                 households=args.households, communities=args.communities))
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    names = []
    for item in insts:
        try:
            names.append(instance(item).name)
        except InputError:  # run_bench reports every bad name
            pass
    table = run_bench(insts, strategies, target=args.target, tolerance=args.tolerance,
                      time_limit=args.time_limit, timeout=args.timeout, memory_mb=args.memory_mb,
                      seed=args.seed, out=args.out, figures=not args.no_figures,
                      reference=_per_instance_option(args.reference, names, "--reference"),
                      stations=_per_instance_option(args.stations, names, "--stations"))
    print(markdown_table(table))
    print(f"wrote {Path(args.out) / 'results.csv'}")
    return 0
