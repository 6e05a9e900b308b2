"""Geometry: street blocks and building cells (the atoms) and the graph between them.

``blocks`` (faces of the noded road network, street space shared into blocks,
building cells of big blocks), ``adjacency`` (the atom graph with shared
lengths per road class), ``graph`` (connected parts and contiguity, the one
helper every layer above uses).
"""
