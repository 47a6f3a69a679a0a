"""Transistor-level families (``cmos_pbit``, ``cmos_ring``, ``cmos_quartic``): what they share.

Every cmos circuit uses a MOSFET model card committed under ``circuits/models/`` (named by the spec's
``model_card``; the default is the 0.5 µm level-1 card with Sedra & Smith's published parameters). The
card's text is inlined into the netlist, so a committed netlist runs on its own in ``ngspice -b``.
Supplies are ideal DC voltage sources that the builders declare as :class:`~thermosim.circuits.Supply`;
the experiment integrates −V·I of exactly those (never of a noise source, docs/architecture.md).

Noise: each noisy node gets a white current of two-sided PSD 2·k·T·g_n — the Johnson current of the
conductance ``noise_conductance_s`` at ``noise_temperature_k``. A MOSFET channel's thermal noise is
bias-dependent (cyclostationary in a switching circuit); a fixed white level at the channel's full-drive
conductance is the stationary stand-in thermosim places, and an elevated ``noise_temperature_k`` is how a
design with injected noise (a p-bit) is described.
"""

from . import cubic, network, pbit, ring  # noqa: F401  (register the families)
