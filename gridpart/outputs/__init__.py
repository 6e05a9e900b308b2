"""Outputs: what a plan is turned into, and how it is measured.

``style`` (fonts, colours, halo, scale bar, north arrow: the drawing rules shared
by every map), ``plot``, ``atlas``, ``explore`` (maps), ``io`` (GeoPackage /
GeoParquet), ``scoring`` and ``review`` (measures of a plan).
"""
