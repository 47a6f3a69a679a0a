"""Digital references: the same stochastic dynamics integrated in numpy (no SPICE)."""
