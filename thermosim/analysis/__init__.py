"""Analysis layer: statistics on sampled numpy arrays (no SPICE imports).

Modules: ``stats`` (autocorrelation, error bars, verdicts), ``sampling`` (waveforms to samples),
``gaussian`` (samples vs an exact Gaussian reference).
"""
