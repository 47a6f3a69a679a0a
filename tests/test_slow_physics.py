"""Long physics validations (pytest -m slow, `make test-slow`): minutes, not seconds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from thermosim.physics import K_B
from thermosim.runs.experiment import prepare, simulate
from thermosim.runs.spec import spec_from_table

pytestmark = [pytest.mark.slow, pytest.mark.ngspice]


def rc_spec(noise_step_s, t_stop_s, seed=1):
    return spec_from_table(
        {
            "name": "rc",
            "family": "rc",
            "circuit": {"c_f": 1e-12, "r_ohm": 1e6, "noise": "thermal", "temperature_k": 300.0},
            "sim": {"t_stop_s": t_stop_s, "noise_step_s": noise_step_s, "seed": seed},
        }
    )


@pytest.mark.parametrize("steps_per_tau", [2, 5, 20])
def test_ktc_is_exact_at_any_noise_step(tmp_path, steps_per_tau):
    # Trapezoid + exact Brownian charge: Var = kT/C at the step points for any step (README, Noise
    # mechanism). 2e5 τ of data: relative SE ≈ 0.32 %; require 3 SE.
    out = simulate(prepare(rc_spec(1e-6 / steps_per_tau, 0.2)), 3, tmp_path).metrics
    ratio = out["cov"][0][0] / (K_B * 300 / 1e-12)
    se = out["cov_se"][0][0] / (K_B * 300 / 1e-12)
    assert abs(ratio - 1) <= 3 * se, (ratio, se)


def test_standard_errors_are_calibrated(tmp_path):
    # 40 independent seeds: z = (var − kT/C)/SE must look standard normal. The sample std of 40
    # N(0,1) values lies in [0.70, 1.30] with probability > 99.5 % (chi distribution, 39 dof); the
    # mean of z in ±3/sqrt(40).
    prep = prepare(rc_spec("auto", 0.01))
    theory = K_B * 300 / 1e-12
    z = []
    for seed in range(40):
        m = simulate(prep, 100 + seed, tmp_path / str(seed)).metrics
        z.append((m["cov"][0][0] - theory) / m["cov_se"][0][0])
    z = np.array(z)
    lo, hi = np.sqrt(stats.chi2.ppf([0.0025, 0.9975], 39) / 39)
    assert lo <= z.std(ddof=1) <= hi, (z.std(ddof=1), lo, hi)
    assert abs(z.mean()) <= 3 / np.sqrt(40)
