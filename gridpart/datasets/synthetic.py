"""A seeded synthetic city: irregular streets, road classes, names, households.

:func:`synthetic_city` draws a street network shaped like a Chinese urban
district, fast enough for a million households, for tests and benchmarks:

* a grid of streets with irregular spacing (60–190 m) whose crossings are
  jittered, so blocks are irregular quadrilaterals;
* about one street line in four is an arterial (``kind="road"``, 路), the
  others are streets (街); some lines have no name;
* some street links are missing (two blocks merge; the crossings at their
  ends become T-junctions), some lanes (巷) cut through a block and others
  end inside it (dead ends);
* households sit at building points with lognormal sizes (a few buildings
  hold more than 360 households on their own) in blocks of lognormal
  density (15 % of the blocks, parks and plazas, hold nobody): about 2 % of
  the blocks hold more than 360 households and together about a quarter of
  all households, so they must be cut into building cells;
* a few buildings are recorded twice at the same point (two address rows);
* optional communities split the area along street lines.

Everything is vectorised with NumPy and shapely; the same arguments give the
same layers on any machine.

Examples
--------
>>> from gridpart.datasets.synthetic import synthetic_city
>>> roads, households, communities = synthetic_city(2_000, seed=1, communities=2)
>>> int(households["households"].sum())
2000
>>> sorted(communities["community_id"])
['C1', 'C2']
>>> roads.crs.to_epsg()
32650
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

__all__ = ["synthetic_city", "ORIGIN"]

#: South-west corner of the synthetic city in EPSG:32650 (UTM 50N), in Haidian, Beijing.
ORIGIN = (441_000.0, 4_427_000.0)

#: Households per block on average (DESIGN §7: 1,000,000 households ≈ 20,000 blocks).
_HOUSEHOLDS_PER_BLOCK = 50.0
#: Median households per building (or entrance) and the lognormal spread of building sizes.
_BUILDING_MEDIAN = 12.0
_BUILDING_SIGMA = 1.2
#: Lognormal spread of block densities, and the share of blocks without households.
_DENSITY_SIGMA = 1.6
_EMPTY_SHARE = 0.15

_EW = [("学院", "Xueyuan"), ("知春", "Zhichun"), ("成府", "Chengfu"), ("花园", "Huayuan"),
       ("志新", "Zhixin"), ("北土城", "Beitucheng"), ("牡丹园", "Mudanyuan"), ("塔院", "Tayuan"),
       ("清华东", "Qinghuadong"), ("健德", "Jiande"), ("德胜", "Desheng"), ("安华", "Anhua"),
       ("小关", "Xiaoguan"), ("惠新", "Huixin"), ("大屯", "Datun"), ("科荟", "Kehui")]
_NS = [("四道口", "Sidaokou"), ("五道口", "Wudaokou"), ("双清", "Shuangqing"), ("林业", "Linye"),
       ("展春", "Zhanchun"), ("蓟门", "Jimen"), ("西土城", "Xitucheng"), ("北太平庄", "Beitaipingzhuang"),
       ("新街口", "Xinjiekou"), ("马甸", "Madian"), ("裕民", "Yumin"), ("安定门", "Andingmen"),
       ("和平里", "Hepingli"), ("育慧", "Yuhui"), ("北辰", "Beichen"), ("慧忠", "Huizhong")]
_NUMERALS = ["", "二", "三", "四", "五", "六", "七", "八", "九"]


def _line_names(n: int, bases: list[tuple[str, str]], arterial: np.ndarray, unnamed: np.ndarray):
    """A Chinese and an English name per street line (None where unnamed)."""
    zh = np.full(n, None, dtype=object)
    en = np.full(n, None, dtype=object)
    for i in range(n):
        if unnamed[i]:
            continue
        base, pinyin = bases[i % len(bases)]
        rank = (i // len(bases)) % len(_NUMERALS)
        num = _NUMERALS[rank]
        if arterial[i]:
            zh[i], en[i] = f"{base}{num}路", f"{pinyin} Road{' ' + str(rank + 1) if rank else ''}"
        else:
            zh[i], en[i] = f"{base}{num}街", f"{pinyin} Street{' ' + str(rank + 1) if rank else ''}"
    return zh, en


def _spacing(rng: np.random.Generator, n: int) -> np.ndarray:
    """Cumulative positions of ``n + 1`` street lines with irregular gaps."""
    gaps = rng.uniform(60.0, 190.0, size=n)
    return np.r_[0.0, np.cumsum(gaps)]


def synthetic_city(
    n_households: int,
    *,
    seed: int = 0,
    communities: int = 0,
    crs="EPSG:32650",
    block_households: float = _HOUSEHOLDS_PER_BLOCK,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Roads, households and (optionally) communities of a synthetic city.

    Parameters
    ----------
    n_households : int
        Total households (exact); about one street block per 50 households.
    seed : int
        Seeds every random draw; the same arguments give the same layers.
    communities : int
        Number of communities to split the area into (0: no community layer).
        Communities are contiguous strips of blocks bounded by street lines.
    crs : str or pyproj.CRS
        CRS of the layers.  The city is drawn in EPSG:32650 (UTM 50N, near
        Beijing) and reprojected when another CRS is asked for.
    block_households : float
        Households per street block on average (50, DESIGN §7); smaller
        values draw a finer street net (more atoms per grid).

    Returns
    -------
    roads : GeoDataFrame
        One LineString per street link: ``kind`` (road/street/lane), ``name``,
        ``name_en``.
    households : GeoDataFrame
        One Point per building (a few buildings twice, at the same point):
        ``households`` (int ≥ 1), ``persons`` (int), ``building_id``.
    communities : GeoDataFrame or None
        ``community_id`` (``"C1"``…), ``name``, ``code`` (12 digits), geometry;
        ``None`` when ``communities=0``.

    Examples
    --------
    >>> roads, hh, comm = synthetic_city(500, seed=3)
    >>> comm is None, set(roads["kind"]) <= {"road", "street", "lane"}
    (True, True)
    >>> bool((hh["households"] >= 1).all())
    True
    """
    n_households = int(n_households)
    if n_households < 1:
        raise ValueError(f"n_households: must be at least 1, got {n_households}")
    communities = int(communities)
    if communities < 0:
        raise ValueError(f"communities: must be 0 or more, got {communities}")
    rng = np.random.default_rng(seed)

    # ---- street lines: irregular spacing, jittered crossings
    if not block_households > 0:
        raise ValueError(f"block_households must be positive, got {block_households!r}")
    n_blocks = max(4.0, n_households / block_households, 2.0 * communities)
    nx = max(2, int(math.ceil(math.sqrt(n_blocks * 1.25))))
    ny = max(2, int(math.ceil(n_blocks / nx)))
    if communities > nx:
        nx = communities
    xs, ys = _spacing(rng, nx), _spacing(rng, ny)
    gx, gy = np.meshgrid(xs, ys)  # (ny + 1, nx + 1): node (j, i)
    jitter = rng.uniform(-12.0, 12.0, size=(2, ny + 1, nx + 1))
    # the outer ring stays straight along its own side
    jitter[0][:, [0, -1]] = 0.0
    jitter[1][[0, -1], :] = 0.0
    node_x = ORIGIN[0] + gx + jitter[0]
    node_y = ORIGIN[1] + gy + jitter[1]
    node_id = np.arange((ny + 1) * (nx + 1)).reshape(ny + 1, nx + 1)
    nxy = np.column_stack([node_x.ravel(), node_y.ravel()])

    # links: east-west along each row line j, north-south along each column line i
    ew_a, ew_b = node_id[:, :-1].ravel(), node_id[:, 1:].ravel()
    ew_line = np.repeat(np.arange(ny + 1), nx)
    ns_a, ns_b = node_id[:-1, :].ravel(), node_id[1:, :].ravel()
    ns_line = np.tile(np.arange(nx + 1), ny)
    ew_art = (np.arange(ny + 1) % 4 == 2) | (rng.random(ny + 1) < 0.08)
    ns_art = (np.arange(nx + 1) % 4 == 1) | (rng.random(nx + 1) < 0.08)
    ew_unnamed = ~ew_art & (rng.random(ny + 1) < 0.12)
    ns_unnamed = ~ns_art & (rng.random(nx + 1) < 0.12)
    ew_zh, ew_en = _line_names(ny + 1, _EW, ew_art, ew_unnamed)
    ns_zh, ns_en = _line_names(nx + 1, _NS, ns_art, ns_unnamed)
    a = np.r_[ew_a, ns_a]
    b = np.r_[ew_b, ns_b]
    kind = np.r_[np.where(ew_art[ew_line], "road", "street"),
                 np.where(ns_art[ns_line], "road", "street")].astype(object)
    name = np.r_[ew_zh[ew_line], ns_zh[ns_line]]
    name_en = np.r_[ew_en[ew_line], ns_en[ns_line]]
    # communities: strips of block columns; each boundary steps sideways by one
    # column half-way up when the strips are wide enough (≥ 4 columns) for the
    # two halves of a strip to share a column.  A generator of its own keeps the
    # streets and households the same whatever the number of communities.
    cj, ci = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    cj, ci = cj.ravel(), ci.ravel()
    n_cells = len(cj)
    owner = np.zeros(n_cells, dtype=np.int64)
    if communities:
        crng = np.random.default_rng([seed, 1])
        cuts = np.linspace(0, nx, communities + 1)[1:-1].round().astype(np.int64)
        shift = np.where(crng.random(len(cuts)) < 0.5, -1, 1) * int(nx >= 4 * communities)
        upper = cj >= ny // 2
        for c in range(len(cuts)):
            owner[ci >= cuts[c] + upper * shift[c]] = c + 1
    owner_at = owner.reshape(ny, nx)
    # missing links: interior street links only (arterials, the outer ring and
    # community boundaries stay)
    j_a, i_a = np.divmod(a, nx + 1)
    j_b, i_b = np.divmod(b, nx + 1)
    on_ring = ((j_a == j_b) & ((j_a == 0) | (j_a == ny))) | ((i_a == i_b) & ((i_a == 0) | (i_a == nx)))
    # cells on either side of a link: EW link (j, i)-(j, i+1) between cells
    # (j-1, i) and (j, i); NS link (j, i)-(j+1, i) between cells (j, i-1) and (j, i)
    ew = j_a == j_b
    c1j = np.where(ew, np.clip(j_a - 1, 0, ny - 1), np.clip(j_a, 0, ny - 1))
    c1i = np.where(ew, np.clip(i_a, 0, nx - 1), np.clip(i_a - 1, 0, nx - 1))
    c2j = np.clip(j_a, 0, ny - 1)
    c2i = np.clip(i_a, 0, nx - 1)
    on_boundary = owner_at[c1j, c1i] != owner_at[c2j, c2i]
    missing = (kind == "street") & ~on_ring & ~on_boundary & (rng.random(len(a)) < 0.07)
    keep = ~missing
    link_coords = np.stack([nxy[a[keep]], nxy[b[keep]]], axis=1)
    links = shapely.linestrings(link_coords)
    link_kind, link_name, link_en = kind[keep], name[keep], name_en[keep]

    # ---- blocks as cells (j, i): corners (sw, se, ne, nw) from the jittered nodes
    sw = nxy[node_id[cj, ci]]
    se = nxy[node_id[cj, ci + 1]]
    ne = nxy[node_id[cj + 1, ci + 1]]
    nw = nxy[node_id[cj + 1, ci]]

    # ---- lanes: through-lanes across a block, and dead ends into it
    lane_geoms, lane_names = [], []
    through = rng.random(n_cells) < 0.12
    if through.any():
        t = rng.uniform(0.35, 0.65, size=(int(through.sum()), 1))
        vertical = rng.random(int(through.sum())) < 0.5
        p0 = np.where(vertical[:, None], sw[through] + t * (se[through] - sw[through]),
                      sw[through] + t * (nw[through] - sw[through]))
        p1 = np.where(vertical[:, None], nw[through] + t * (ne[through] - nw[through]),
                      se[through] + t * (ne[through] - se[through]))
        lane_geoms.append(shapely.linestrings(np.stack([p0, p1], axis=1)))
        named = rng.random(len(p0)) < 0.4
        lane_names.append(np.where(named, [f"{k + 1}号巷" for k in range(len(p0))], None))
    dead = rng.random(n_cells) < 0.15
    if dead.any():
        m = int(dead.sum())
        t = rng.uniform(0.3, 0.7, size=(m, 1))
        depth = rng.uniform(0.25, 0.45, size=(m, 1))
        # from the middle of the south edge northwards, part-way into the block
        start = sw[dead] + t * (se[dead] - sw[dead])
        far = nw[dead] + t * (ne[dead] - nw[dead])
        end = start + depth * (far - start)
        lane_geoms.append(shapely.linestrings(np.stack([start, end], axis=1)))
        lane_names.append(np.full(m, None, dtype=object))
    if lane_geoms:
        lanes = np.concatenate(lane_geoms)
        lanes_name = np.concatenate(lane_names).astype(object)
    else:
        lanes = np.empty(0, dtype=object)
        lanes_name = np.empty(0, dtype=object)
    roads = gpd.GeoDataFrame(
        {
            "kind": np.r_[link_kind, np.full(len(lanes), "lane", dtype=object)],
            # names stay str-or-None (object), not pandas' str dtype with NaN
            "name": pd.Series(np.r_[link_name, lanes_name], dtype=object),
            "name_en": pd.Series(np.r_[link_en, np.full(len(lanes), None, dtype=object)], dtype=object),
        },
        geometry=np.r_[links, lanes],
        crs="EPSG:32650",
    )

    # ---- buildings: lognormal sizes, cut so the total is exact
    draw = int(n_households / _BUILDING_MEDIAN * 1.2) + 16
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < n_households:
        more = np.maximum(1, np.round(rng.lognormal(math.log(_BUILDING_MEDIAN), _BUILDING_SIGMA, draw)))
        sizes = np.r_[sizes, more.astype(np.int64)]
    csum = np.cumsum(sizes)
    nb = int(np.searchsorted(csum, n_households) + 1)
    sizes = sizes[:nb].copy()
    sizes[-1] -= int(csum[nb - 1] - n_households)
    # blocks of lognormal density; some hold nobody (parks, plazas, offices).
    # Every other block gets one building first, the rest go by density, so a
    # few dense blocks hold a large share of the households.
    density = rng.lognormal(0.0, _DENSITY_SIGMA, n_cells) * (rng.random(n_cells) >= _EMPTY_SHARE)
    if density.sum() == 0:
        density[:] = 1.0
    live = rng.permutation(np.flatnonzero(density > 0))[:nb]
    cell = np.r_[live, rng.choice(n_cells, size=nb - len(live), p=density / density.sum())]
    # a point inside the cell, away from its edges (bilinear in the quadrilateral)
    u = rng.uniform(0.12, 0.88, size=(nb, 1))
    v = rng.uniform(0.12, 0.88, size=(nb, 1))
    xy = ((1 - u) * (1 - v) * sw[cell] + u * (1 - v) * se[cell] + u * v * ne[cell] + (1 - u) * v * nw[cell])
    building = np.arange(nb)
    # a few buildings are recorded twice at the same point (two address rows)
    twice = np.flatnonzero((sizes >= 2) & (rng.random(nb) < 0.05))
    if len(twice):
        part = np.maximum(1, sizes[twice] // 2)
        sizes[twice] -= part
        sizes = np.r_[sizes, part]
        xy = np.r_[xy, xy[twice]]
        building = np.r_[building, building[twice]]
    order = np.lexsort((np.arange(len(building)), building))
    sizes, xy, building = sizes[order], xy[order], building[order]
    persons = np.round(sizes * rng.uniform(2.2, 3.0, size=len(sizes))).astype(np.int64)
    households = gpd.GeoDataFrame(
        {"households": sizes.astype(np.int64), "persons": persons, "building_id": building},
        geometry=shapely.points(xy),
        crs="EPSG:32650",
    )

    # ---- communities: strips of block columns, dissolved
    comm = None
    if communities:
        quads = shapely.polygons(np.stack([sw, se, ne, nw, sw], axis=1))
        polys = [shapely.coverage_union_all(quads[owner == c]) for c in range(communities)]
        comm = gpd.GeoDataFrame(
            {
                "community_id": [f"C{c + 1}" for c in range(communities)],
                "name": [f"第{c + 1}社区" for c in range(communities)],
                "code": [f"110108001{c + 1:03d}" for c in range(communities)],
            },
            geometry=polys,
            crs="EPSG:32650",
        )

    target_crs = pyproj.CRS.from_user_input(crs)
    if not target_crs.equals(pyproj.CRS.from_epsg(32650)):
        roads = roads.to_crs(target_crs)
        households = households.to_crs(target_crs)
        comm = None if comm is None else comm.to_crs(target_crs)
    return roads, households, comm
