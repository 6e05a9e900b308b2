"""Pipelines: the stages composed into the public entry points.

``partition`` (roads + households → plan), ``repartition`` (old plan + new
communities → minimal-change plan), ``batch`` (many areas, any executor).
"""
