"""Column names, road classes and input validators."""

from __future__ import annotations

#: Road classes used throughout gridpart (DESIGN §4):
#: ``road`` 路 (arterials), ``street`` 街, ``lane`` 巷.
ROAD_KINDS = ("road", "street", "lane")

#: OSM ``highway`` value -> road class.  Values not listed (platform, elevator,
#: proposed, construction, abandoned, raceway, bus_stop, ...) are not roads that
#: bound blocks and are dropped.
HIGHWAY_KIND: dict[str, str] = {
    **{v: "road" for v in ("motorway", "trunk", "primary", "secondary")},
    **{f"{v}_link": "road" for v in ("motorway", "trunk", "primary", "secondary")},
    **{v: "street" for v in ("tertiary", "tertiary_link", "residential", "unclassified",
                             "living_street", "road")},
    **{v: "lane" for v in ("service", "pedestrian", "footway", "path", "alley", "track",
                           "cycleway", "steps", "bridleway", "trail")},
}
