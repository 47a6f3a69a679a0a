"""Thermodynamic linear algebra in SPICE: compile A into an rc/rlc circuit, sample, read out A⁻¹ (from the
covariance) or A⁻¹b (from the mean with bias currents), judge against exact numpy and the statistical law,
and measure the error floor that component mismatch and other non-idealities leave."""
