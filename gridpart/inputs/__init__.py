"""Inputs: what the user hands in, checked and brought to one metric CRS.

``schema`` (column rules, validators, the household ``Target``), ``crs`` (the
metric CRS of a plan and Chinese coordinate systems), ``coords`` (GCJ-02 /
BD-09 ↔ WGS-84), ``osm`` (OpenStreetMap files → roads, buildings, households).
Nothing here knows of blocks, solvers or plans.
"""
