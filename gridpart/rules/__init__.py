"""Rules of the domain applied to a solved plan.

``kinds`` (单位型 / 小区型 / 街巷型), ``four_limits`` (四至 text), ``codes``
(standard grid codes), ``naming`` (assembles kinds, codes and 四至 on the
grids table), ``ledger`` (the street office's register, 台账).
"""
