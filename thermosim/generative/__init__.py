"""A generative thermodynamic computer for the 8×8 digits (Whitelam, PRL 2026; docs/architecture.md).

Visible units are the 64 pixels, ``hidden`` units carry a code; all are quartic units
(V = Σ J₂x² + J₄x⁴ + b x + Σ_(i<j) J_ij x_i x_j, overdamped Langevin at kT, mobility 1).

* :mod:`.model`    the parameters, the noising protocol's drive, pixel ↔ unit maps, save / load
* :mod:`.train`    noising trajectories and the reverse-path likelihood gradient (no backprop through time)
* :mod:`.generate` the same parameters run three ways: Euler–Maruyama twin, ngspice behavioural
                   circuit, transistor-level units
* :mod:`.judge`    the digits judged (recognisable, coverage, Fréchet, copies), SPICE vs twin (MMD), energy
"""
