"""The shared digits split and the image-quality judge: split invariants, calibration, failure modes.

The judge trains once per process (about 1 s); everything else here is milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermosim.digital.data import (
    DIGITS_SPLIT_SEED,
    TRAIN_FRACTION,
    load_digits_split,
    scale,
    unscale,
)
from thermosim.digital.quality import (
    MAX_COVERAGE_ENTROPY,
    calibration,
    frechet_distance,
    gaussian_frechet,
    get_judge,
    quality,
)

KEYS = {
    "label",
    "n",
    "recognisable",
    "class_shares",
    "coverage_entropy",
    "min_class_share",
    "frechet",
    "nn_train_dist",
    "nn_train_dist_ref",
    "copies",
}


@pytest.fixture(scope="module")
def split():
    return load_digits_split()


@pytest.fixture(scope="module")
def rows():
    return {row["label"]: row for row in calibration()}


# ---- the split ---------------------------------------------------------------------------------------


def test_split_sizes_units_and_constants(split):
    assert (DIGITS_SPLIT_SEED, TRAIN_FRACTION) == (0, 0.8)
    assert split.x_train.shape == (1437, 64) and split.x_test.shape == (360, 64)
    assert split.y_train.shape == (1437,) and split.y_test.shape == (360,)
    for x in (split.x_train, split.x_test):
        assert x.dtype == float and x.min() == 0.0 and x.max() == 16.0


def test_split_is_stratified(split):
    train_counts = np.bincount(split.y_train, minlength=10)
    test_counts = np.bincount(split.y_test, minlength=10)
    assert len(train_counts) == len(test_counts) == 10
    assert train_counts.min() > 0 and test_counts.min() > 0
    share = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(share - 0.2) < 0.01), share


def test_split_is_a_disjoint_partition_of_all_digits(split):
    from sklearn.datasets import load_digits

    digits = load_digits()

    def rows(x, y):
        return sorted(map(tuple, np.column_stack([x, y]).tolist()))

    both = rows(np.vstack([split.x_train, split.x_test]), np.concatenate([split.y_train, split.y_test]))
    assert both == rows(digits.data, digits.target)
    train_rows = set(map(tuple, split.x_train.tolist()))
    assert not any(tuple(r) in train_rows for r in split.x_test.tolist())


def test_split_is_deterministic_cached_and_read_only(split):
    assert load_digits_split() is split
    fresh = load_digits_split.__wrapped__()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(fresh, name), getattr(split, name))
    with pytest.raises(ValueError):
        split.x_train[0, 0] = 3.0


def test_scale_and_unscale():
    pixels = np.array([0.0, 4.0, 8.0, 16.0])
    np.testing.assert_allclose(scale(pixels), [-1.0, -0.5, 0.0, 1.0])
    np.testing.assert_allclose(unscale(scale(pixels)), pixels)
    np.testing.assert_allclose(unscale([-3.0, 2.0]), [0.0, 16.0])


# ---- the judge and its calibration -------------------------------------------------------------------


def test_judge_is_accurate_on_held_out_digits():
    judge = get_judge()
    assert judge.heldout_accuracy >= 0.95
    assert judge is get_judge()


def test_quality_row_shape(rows):
    assert list(rows) == ["real_heldout", "real_train", "noise"]
    for row in rows.values():
        assert set(row) == KEYS and row["n"] == 360
        assert len(row["class_shares"]) == 10 and math.isclose(sum(row["class_shares"]), 1.0)
        assert 0.0 <= row["coverage_entropy"] <= MAX_COVERAGE_ENTROPY + 1e-9


def test_calibration_real_heldout_scores_good(rows):
    real = rows["real_heldout"]
    assert real["recognisable"] >= 0.9
    assert real["coverage_entropy"] >= 3.2 and real["min_class_share"] >= 0.05
    assert real["frechet"] == pytest.approx(0.0, abs=1e-6)  # the held-out set is the reference itself
    assert real["nn_train_dist"] == pytest.approx(real["nn_train_dist_ref"])
    assert real["copies"] <= 0.02


def test_calibration_real_train_is_good_but_flagged_as_copies(rows):
    train = rows["real_train"]
    assert train["recognisable"] >= 0.9 and train["coverage_entropy"] >= 3.2
    assert train["frechet"] < 2.0  # the sampling floor of 360 real digits
    assert train["nn_train_dist"] == 0.0 and train["copies"] == 1.0


def test_calibration_noise_scores_bad(rows):
    noise, floor = rows["noise"], rows["real_train"]["frechet"]
    assert noise["recognisable"] <= 0.2
    assert noise["frechet"] > 20 * floor and noise["frechet"] > 10.0
    assert noise["nn_train_dist"] > 2 * noise["nn_train_dist_ref"]
    assert noise["copies"] == 0.0


def test_all_training_images_are_copies(split):
    row = quality(split.x_train, "train")
    assert row["n"] == 1437 and row["nn_train_dist"] == 0.0 and row["copies"] == 1.0


def test_one_class_generator_is_recognisable_but_not_covering(split):
    threes = split.x_test[split.y_test == 3]
    row = quality(threes, "threes")
    assert row["recognisable"] >= 0.9
    assert row["coverage_entropy"] == pytest.approx(0.0, abs=0.3)
    assert row["min_class_share"] == 0.0 and max(row["class_shares"]) >= 0.95
    assert row["frechet"] > 10 * quality(split.x_train[:360], "x")["frechet"]


def test_out_of_range_pixels_are_clipped(split):
    images = split.x_test[:50].copy()
    pushed = np.where(images == 0.0, -7.0, np.where(images == 16.0, 30.0, images))
    a, b = quality(images, "a"), quality(pushed, "a")
    assert a == b


# ---- the Fréchet distance ----------------------------------------------------------------------------


def test_frechet_of_a_set_with_itself_is_zero_and_symmetric(split):
    judge = get_judge()
    fa = judge.features(split.x_test)
    fb = judge.features(split.x_train)
    assert frechet_distance(fa, fa) == pytest.approx(0.0, abs=1e-6)
    ab, ba = frechet_distance(fa, fb), frechet_distance(fb, fa)
    assert ab > 0.0 and ab == pytest.approx(ba, rel=1e-6)


def test_gaussian_frechet_matches_the_closed_form_for_diagonal_covariances():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)  # ‖Δμ‖² + Σ (σ₁ − σ₂)²
    got = gaussian_frechet(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert got == pytest.approx(expected, rel=1e-9)


# ---- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda x: x.reshape(-1, 8, 8), "must have shape (K, 64)"),
        (lambda x: x[:, :63], "got shape (20, 63)"),
        (lambda x: x[:5], "at least 10 images"),
        (lambda x: np.where(np.arange(64) == 3, np.nan, x), "non-finite"),
        (lambda x: np.where(np.arange(64) == 3, np.inf, x), "non-finite"),
        (lambda x: [["a"] * 64] * 20, "numeric"),
    ],
    ids=["3d", "63_pixels", "too_few", "nan", "inf", "strings"],
)
def test_bad_images_raise_one_line_value_errors(split, make, message):
    with pytest.raises(ValueError) as err:
        quality(make(split.x_test[:20].copy()), "bad")
    assert message in str(err.value) and "\n" not in str(err.value)
