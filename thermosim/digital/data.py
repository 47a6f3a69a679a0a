"""The shared data set: scikit-learn's 8×8 handwritten digits, split once into train and held-out parts.

``load_digits()`` holds 1797 grey-scale images of 8×8 pixels, pixel values 0..16 (integers), labels 0..9.
:func:`load_digits_split` divides them with a stratified split (every digit keeps its share in both
parts) seeded by :data:`DIGITS_SPLIT_SEED`: 1437 training images (``TRAIN_FRACTION`` = 0.8) and 360
held-out images. Every generator (the digital DDPM and the circuits alike) trains on ``x_train`` only;
``x_test`` is kept for judging (:mod:`thermosim.digital.quality`).

Units. The split stores PIXEL units (float, 0..16). Generative models see the scaled form
``x = pixels/8 − 1``, every pixel in [−1, 1]: the thermodynamic units hold O(1) node values (a quartic
unit's wells sit near ±1 in model units) and the DDPM's noise schedule assumes data of unit scale, so both
work on the same O(1) numbers. :func:`unscale` maps back and clips to 0..16.

Cost: the first call reads the bundled CSV and splits it (tens of milliseconds); later calls return the
cached :class:`Split`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

DIGITS_SPLIT_SEED = 0
TRAIN_FRACTION = 0.8
PIXEL_MAX = 16.0
N_PIXELS = 64


@dataclass(frozen=True)
class Split:
    """Train and held-out digits in pixel units: ``x_*`` of shape (K, 64), float 0..16; ``y_*`` ints 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def scale(pixels) -> np.ndarray:
    """Pixel units (0..16) → model units: ``x = pixels/8 − 1`` (0 → −1, 8 → 0, 16 → +1)."""
    return np.asarray(pixels, dtype=float) / 8.0 - 1.0


def unscale(x) -> np.ndarray:
    """Model units → pixel units: ``clip((x + 1)·8, 0, 16)``; the inverse of :func:`scale` on [−1, 1]."""
    return np.clip((np.asarray(x, dtype=float) + 1.0) * 8.0, 0.0, PIXEL_MAX)


@functools.cache
def load_digits_split() -> Split:
    """The fixed stratified split of the 1797 digits: 1437 train, 360 held-out, pixel units (cached).

    The arrays are made read-only so that no caller can alter the shared, cached copy.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = np.asarray(digits.data, dtype=float)
    labels = np.asarray(digits.target, dtype=int)
    x_train, x_test, y_train, y_test = train_test_split(
        pixels, labels, train_size=TRAIN_FRACTION, stratify=labels, random_state=DIGITS_SPLIT_SEED
    )
    arrays = [np.ascontiguousarray(a) for a in (x_train, y_train, x_test, y_test)]
    for a in arrays:
        a.flags.writeable = False
    return Split(*arrays)
