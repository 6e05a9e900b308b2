"""Model: the optimisation problem, independent of any algorithm.

``problem`` (the band, sub-problems per community, objective weights and
edge costs), ``result`` (what every strategy returns: labels, status, bounds).
"""
