"""Tests for gridpart.rules.codes: community codes, grid codes, reading order."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gridpart.errors import InputError
from gridpart.rules.codes import CODE_DIGITS, DEFAULT_PREFIX, community_codes, grid_codes, reading_order

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0


def lattice(rows: int, cols: int, *, size: float = 100.0, community: str = "1") -> gpd.GeoDataFrame:
    """rows × cols square grids, row 0 the northernmost; ``r``/``c`` record the position."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    geoms = shapely.box(X0 + c * size, Y0 - (r + 1) * size, X0 + (c + 1) * size, Y0 - r * size)
    return gpd.GeoDataFrame({"community_id": community, "r": r, "c": c}, geometry=geoms, crs=CRS)


def test_lattice_is_numbered_north_to_south_then_west_to_east():
    g = lattice(3, 4)
    out = grid_codes(g, {"1": "110108001001"})
    expected = g["r"] * 4 + g["c"] + 1  # reading order, independent of the code module
    assert out["sequence"].tolist() == expected.tolist()
    assert out["code"].tolist() == [f"110108001001{s:02d}" for s in expected]


def test_rows_are_bands_of_northing():
    # a grid a little higher than its row neighbour (less than one row height) shares its row
    geoms = [shapely.box(X0 + 100, Y0 - 70, X0 + 200, Y0 + 30),   # east, 30 m higher
             shapely.box(X0, Y0 - 100, X0 + 100, Y0),              # west
             shapely.box(X0, Y0 - 300, X0 + 100, Y0 - 200)]        # next row
    g = gpd.GeoDataFrame({"community_id": ["1"] * 3}, geometry=geoms, crs=CRS)
    assert grid_codes(g, {"1": "1" * 12}, row_height_m=100)["sequence"].tolist() == [2, 1, 3]
    # a band height below the offset puts the higher grid in a row of its own, first
    assert grid_codes(g, {"1": "1" * 12}, row_height_m=20)["sequence"].tolist() == [1, 2, 3]
    # one tall band: all in one row, west to east
    assert grid_codes(g, {"1": "1" * 12}, row_height_m=1000)["sequence"].tolist() == [3, 1, 2]


@given(st.integers(1, 4), st.integers(1, 5), st.randoms(use_true_random=False), st.sampled_from([2, 3]))
def test_codes_depend_on_geometry_only(rows, cols, rnd, width):
    g = lattice(rows, cols)
    perm = list(range(len(g)))
    rnd.shuffle(perm)
    shuffled = g.iloc[perm].copy()
    shuffled.index = [f"row{i}" for i in range(len(g))]  # new labels too
    a = grid_codes(g, {"1": "110108001001"}, width=width)
    b = grid_codes(shuffled, {"1": "110108001001"}, width=width)
    assert dict(zip(g["r"] * 100 + g["c"], a["code"])) == dict(zip(shuffled["r"] * 100 + shuffled["c"], b["code"]))
    assert a["code"].is_unique
    assert (a["code"].str.len() == CODE_DIGITS + width).all()


def test_codes_are_per_community_and_fixed_width():
    g = pd.concat([lattice(2, 2, community="a"), lattice(1, 3, community="b")], ignore_index=True)
    out = grid_codes(g, {"a": "110108001001", "b": "110108001002"}, width=3)
    assert out.loc[g["community_id"] == "a", "sequence"].tolist() == [1, 2, 3, 4]
    assert out.loc[g["community_id"] == "b", "sequence"].tolist() == [1, 2, 3]
    assert out["code"].str.len().eq(15).all()
    assert out["code"].str[:12].tolist() == ["110108001001"] * 4 + ["110108001002"] * 3


def test_width_defaults_to_three_above_99_grids():
    g = lattice(10, 10)
    assert grid_codes(g, {"1": "1" * 12})["code"].str.len().eq(15).all()
    assert grid_codes(lattice(9, 11), {"1": "1" * 12})["code"].str.len().eq(14).all()


def test_too_many_grids_for_the_width_names_the_width_to_use():
    with pytest.raises(InputError, match=r"width.*use width=3"):
        grid_codes(lattice(10, 10), {"1": "1" * 12}, width=2)


@pytest.mark.parametrize("width", [1, 4, "2"])
def test_bad_width(width):
    with pytest.raises(InputError, match="width"):
        grid_codes(lattice(1, 2), {"1": "1" * 12}, width=width)


def test_missing_community_code_and_bad_row_height():
    with pytest.raises(InputError) as err:
        grid_codes(lattice(1, 2), {"other": "1" * 12}, row_height_m=-5)
    assert "codes" in str(err.value) and "row_height_m" in str(err.value)


def test_geographic_grids_are_measured_in_metres():
    g = lattice(2, 3)
    a = grid_codes(g, {"1": "1" * 12}, row_height_m=100)
    b = grid_codes(g.to_crs(4326), {"1": "1" * 12}, row_height_m=100)
    assert a["code"].tolist() == b["code"].tolist()


def communities(codes) -> gpd.GeoDataFrame:
    geoms = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(len(codes))]
    return gpd.GeoDataFrame({"community_id": [f"c{i}" for i in range(len(codes))], "code": codes},
                            geometry=geoms, crs=CRS)


def test_given_codes_are_kept_and_missing_ones_generated_and_flagged():
    out = community_codes(communities(["110108001001", None, np.nan, 110108001004.0]))
    assert out.loc["c0", "code"] == "110108001001" and out.loc["c0", "code_source"] == "given"
    assert out.loc["c3", "code"] == "110108001004"
    # generated in reading order (west to east here), flagged
    assert out.loc["c1", "code"] == DEFAULT_PREFIX + "001"
    assert out.loc["c2", "code"] == DEFAULT_PREFIX + "002"
    assert set(out.loc[["c1", "c2"], "code_source"]) == {"generated"}


@given(st.randoms(use_true_random=False))
def test_generated_codes_do_not_depend_on_row_order(rnd):
    c = communities([None] * 5)
    perm = list(range(5))
    rnd.shuffle(perm)
    a = community_codes(c, prefix="110108")
    b = community_codes(c.iloc[perm], prefix="110108")
    assert a["code"].to_dict() == b["code"].to_dict()
    assert all(len(v) == CODE_DIGITS for v in a["code"])


def test_bad_codes_are_named_with_rows():
    with pytest.raises(InputError) as err:
        community_codes(communities(["1101080010", "110108001001", "110108001001", "abcdefghijkl"]))
    text = str(err.value)
    assert "communities['code']" in text and "12 digits" in text and "more than one" in text


@pytest.mark.parametrize("prefix", ["", "abc", "1" * 12, 110108])
def test_bad_prefix(prefix):
    with pytest.raises(InputError, match="prefix"):
        community_codes(communities([None]), prefix=prefix)


def test_prefix_too_long_for_the_number_of_communities():
    with pytest.raises(InputError, match="shorter prefix"):
        community_codes(communities([None] * 10), prefix="1" * 11)


def test_reading_order_empty_and_groups():
    assert reading_order([]).tolist() == []
    boxes = [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(0, 5, 1, 6)]
    # group "b" comes after group "a" whatever the geometry
    assert reading_order(boxes, groups=["b", "a", "a"], row_height_m=1).tolist() == [2, 1, 0]


def test_a_community_of_more_than_999_grids_gets_wider_codes_with_a_warning():
    import geopandas as gpd
    import shapely

    from gridpart.rules.codes import grid_codes

    cells = [shapely.box(441000 + 10 * i, 4427000 + 10 * j, 441010 + 10 * i, 4427010 + 10 * j)
             for j in range(20) for i in range(55)]
    grids = gpd.GeoDataFrame({"community_id": ["1"] * len(cells)}, geometry=cells, crs=32650)
    with pytest.warns(UserWarning, match="1100 grids"):
        out = grid_codes(grids, pd.Series({"1": "110108015001"}))
    assert out["code"].str.len().eq(16).all() and out["code"].is_unique


# --------------------------------------------------------------------------- stable codes (DESIGN §4)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=30),
       st.lists(st.integers(0, 3), min_size=0, max_size=6), st.sampled_from([2, 3]), st.randoms(use_true_random=False))
def test_carried_grid_codes_are_kept_and_new_ones_never_reuse_a_number(moves, retired_seq, width, rnd):
    from gridpart.rules.codes import carry_grid_codes

    # old grids: numbered 1.. in each of four communities; each then stays, moves to
    # another community (merge, moved boundary) or is new (a split-off grid)
    comm_code = {c: f"1101080010{c:02d}" for c in range(5)}
    seq = {c: 0 for c in range(5)}
    rows = []
    for old_c, new_c in moves:
        seq[old_c] += 1
        rows.append((f"{comm_code[old_c]}{seq[old_c]:0{width}d}", str(new_c)))
    rnd.shuffle(rows)
    previous = [p if rnd.random() < 0.8 else None for p, _ in rows]  # some grids are new
    retired = [f"{comm_code[c]}{seq[c] + 1 + k:0{width}d}" for k, c in enumerate(retired_seq)]
    g = pd.DataFrame({"community_id": [c for _, c in rows], "previous": previous})
    codes = {str(c): comm_code[c] for c in range(5)}
    out = carry_grid_codes(g, codes, width=width, used=retired)
    assert out.is_unique
    assert (out.str.len() == CODE_DIGITS + width).all()
    assert all(o.startswith(codes[c]) for o, c in zip(out, g["community_id"]))
    for prev, now, c in zip(previous, out, g["community_id"]):
        if prev is not None and prev.startswith(codes[c]):
            assert now == prev  # stayed in its community: keeps its code
        else:  # new here: a number after every one this community used
            used = [p for p in [*previous, *retired] if p and p.startswith(codes[c])]
            assert now not in used and int(now[CODE_DIGITS:]) > max((int(u[CODE_DIGITS:]) for u in used), default=0)


def test_carried_community_codes_given_generated_and_new():
    from gridpart.rules.codes import carry_community_codes

    boxes = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + 90, Y0 + 90) for i in range(4)]
    now = gpd.GeoDataFrame({"community_id": ["A", "C", "N1", "N2"], "code": [None, None, None, "110108001077"]},
                           geometry=boxes, crs=CRS)
    old = {"A": "110108001001", "B": "000000000002", "C": "000000000003"}
    out = carry_community_codes(now, old, old_sources={"A": "given", "B": "generated", "C": "generated"},
                                used=["000000000009"])
    assert out.loc["A"].tolist() == ["110108001001", "given", True]
    assert out.loc["C"].tolist() == ["000000000003", "generated", True]
    assert out.loc["N1"].tolist() == ["000000000010", "generated", False]  # after the retired 9
    assert out.loc["N2"].tolist() == ["110108001077", "given", False]
    with pytest.raises(InputError, match="keeps from the old plan"):
        carry_community_codes(now.assign(code=[None, None, "110108001001", None]), old)
