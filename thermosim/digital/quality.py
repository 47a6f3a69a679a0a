"""Image quality of generated 8×8 digits, judged the same way for every generator (DDPM and circuits).

The judge (:func:`get_judge`) is a small scikit-learn ``MLPClassifier`` (64 inputs → 64 ReLU units →
10 classes) trained on the scaled TRAIN split only (:mod:`thermosim.digital.data`); it reaches about 98 %
accuracy on the held-out split. :func:`quality` scores a batch of K generated images (pixel units,
shape (K, 64)) on three axes:

* Is it a digit? ``recognisable`` = share of images whose top class probability is ≥ 0.8.
* All digits? ``class_shares`` = shares of the judge's predicted classes (argmax, 10 numbers summing to 1),
  ``coverage_entropy`` = their Shannon entropy in bits (0 for one class, log2 10 ≈ 3.32 for all ten
  equally often), ``min_class_share`` = the smallest share.
* Like the real ones, and not copied? ``frechet`` = Fréchet distance between Gaussian fits of the
  judge's hidden-layer features (64 ReLU activations per image) of the generated and the HELD-OUT images:
  ``‖μ₁−μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)`` (feature units squared; 0 for identical statistics).
  ``nn_train_dist`` = mean Euclidean distance (scaled units, x = pixels/8 − 1) from each generated
  image to its nearest TRAIN image; ``nn_train_dist_ref`` = the same for the held-out images, so a
  generator that copies training images shows ``nn_train_dist`` ≪ ``nn_train_dist_ref``; ``copies`` =
  share of generated images closer to a training image than half the median held-out distance.

The Fréchet distance of a finite sample is biased upwards, the more so the smaller K: compare generators
at the same K (360, the size of the held-out set, is the natural choice). :func:`calibration` shows what
"good" (real held-out and real training digits) and "bad" (uniform noise) score.

Cost: the judge trains once per process (about 1 s on one core, cached); each :func:`quality` call is
O(K · 1437 · 64) for the nearest neighbours plus a 64×64 matrix square root: milliseconds for K ≈ 10³.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from thermosim.digital.data import N_PIXELS, PIXEL_MAX, load_digits_split, scale

JUDGE_SEED = 0
RECOGNISED_PROBABILITY = 0.8
COPY_FRACTION = 0.5
MIN_IMAGES = 10
N_CLASSES = 10
CALIBRATION_SEED = 0
CALIBRATION_K = 360
MAX_COVERAGE_ENTROPY = math.log2(N_CLASSES)


def check_images(images) -> np.ndarray:
    """Validate a batch of images in pixel units and return it as float (K, 64), clipped to 0..16.

    Raises ValueError (one line) for a shape other than (K, 64), K < 10, or NaN/inf values.
    """
    try:
        arr = np.asarray(images, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"images must be a numeric (K, {N_PIXELS}) array of pixel values: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != N_PIXELS:
        raise ValueError(
            f"images must have shape (K, {N_PIXELS}) (K flattened 8x8 images), got shape {arr.shape}"
        )
    if arr.shape[0] < MIN_IMAGES:
        raise ValueError(f"need at least {MIN_IMAGES} images to judge quality, got K = {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"images contain {int(np.sum(~np.isfinite(arr)))} non-finite values (NaN or inf)")
    return np.clip(arr, 0.0, PIXEL_MAX)


def gaussian_frechet(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein²) distance between N(μ₁, Σ₁) and N(μ₂, Σ₂).

    ``‖μ₁−μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)`` with ``scipy.linalg.sqrtm``; the real part of the root is kept
    (round-off leaves tiny imaginary parts), a non-finite root is retried with a ridge of 1e-6 × the mean
    variance on both covariances (singular Σ from dead ReLU units), and tiny negative results from
    round-off are returned as 0. Cost O(d³) for d features.
    """
    diff = np.asarray(mu1, float) - np.asarray(mu2, float)
    cov1 = np.asarray(cov1, float)
    cov2 = np.asarray(cov2, float)
    root = _sqrtm_real(cov1 @ cov2)
    if root is None:
        d = cov1.shape[0]
        ridge = 1e-6 * max((np.trace(cov1) + np.trace(cov2)) / (2 * d), 1e-12) * np.eye(d)
        root = _sqrtm_real((cov1 + ridge) @ (cov2 + ridge))
        if root is None:
            raise ValueError("Fréchet distance: the covariance product has no finite square root")
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(root))
    return max(value, 0.0)


def _sqrtm_real(m: np.ndarray) -> np.ndarray | None:
    """Real part of the principal square root of m, or None if it is not finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "matrix is singular" notices: the result is checked below
        root = scipy.linalg.sqrtm(m)
    root = np.real(root)
    return root if np.all(np.isfinite(root)) else None


def _gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample covariance (ddof = 1) of features of shape (K, d)."""
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets of shape (K_a, d) and (K_b, d)."""
    return gaussian_frechet(*_gaussian_fit(np.asarray(features_a, float)), *_gaussian_fit(features_b))


@dataclass(frozen=True)
class Judge:
    """The trained classifier and the reference statistics every :func:`quality` call compares against.

    ``classifier``: scikit-learn MLPClassifier on scaled pixels; ``heldout_accuracy``: its accuracy on
    the 360 held-out images; ``train_scaled``: the 1437 training images in scaled units (the nearest-
    neighbour reference); ``heldout_mu``, ``heldout_cov``: Gaussian fit of the held-out hidden features;
    ``nn_ref_mean``, ``nn_ref_median``: mean and median nearest-train distance of the held-out images
    (scaled units).
    """

    classifier: object
    heldout_accuracy: float
    train_scaled: np.ndarray
    neighbours: object
    heldout_mu: np.ndarray
    heldout_cov: np.ndarray
    nn_ref_mean: float
    nn_ref_median: float

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """Hidden-layer activations relu(x W₀ + b₀) of shape (K, 64) for images in pixel units (K, 64)."""
        return _hidden_features(self.classifier, pixels)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """Class probabilities (K, 10), columns in digit order 0..9, for images in pixel units."""
        return self.classifier.predict_proba(scale(pixels))

    def nn_train_distances(self, pixels: np.ndarray) -> np.ndarray:
        """Euclidean distance (scaled units) from each image to its nearest training image, shape (K,)."""
        dist, _ = self.neighbours.kneighbors(scale(pixels), n_neighbors=1)
        return dist[:, 0]


def _hidden_features(clf, pixels: np.ndarray) -> np.ndarray:
    """First-layer ReLU activations of a fitted MLPClassifier for images in pixel units."""
    return np.maximum(scale(pixels) @ clf.coefs_[0] + clf.intercepts_[0], 0.0)


@functools.cache
def get_judge() -> Judge:
    """Train the judge on the TRAIN split (once per process) and compute the held-out references.

    MLPClassifier(hidden_layer_sizes=(64,), relu, adam, alpha = 0.3, random_state = 0, max_iter = 2000),
    trained on one BLAS thread (tiny matrices: more threads only add overhead on 2 busy cores). The L2
    penalty alpha = 0.3 keeps it from being confident on noise (about 8 % of uniform-noise images get a top
    probability ≥ 0.8, against about 25 % with the default 1e-4) at no cost in held-out accuracy.
    """
    from sklearn.neighbors import NearestNeighbors
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    split = load_digits_split()
    train_scaled = scale(split.x_train)
    clf = MLPClassifier(
        hidden_layer_sizes=(64,),
        activation="relu",
        solver="adam",
        alpha=0.3,
        max_iter=2000,
        random_state=JUDGE_SEED,
    )
    with threadpool_limits(1):
        clf.fit(train_scaled, split.y_train)
    if list(clf.classes_) != list(range(N_CLASSES)):
        raise RuntimeError(f"judge classes are {list(clf.classes_)}, expected digits 0..9")
    neighbours = NearestNeighbors(n_neighbors=1).fit(train_scaled)
    mu, cov = _gaussian_fit(_hidden_features(clf, split.x_test))
    ref = neighbours.kneighbors(scale(split.x_test), n_neighbors=1)[0][:, 0]
    return Judge(
        classifier=clf,
        heldout_accuracy=float(clf.score(scale(split.x_test), split.y_test)),
        train_scaled=train_scaled,
        neighbours=neighbours,
        heldout_mu=mu,
        heldout_cov=cov,
        nn_ref_mean=float(ref.mean()),
        nn_ref_median=float(np.median(ref)),
    )


def quality(images_pixels: np.ndarray, label: str) -> dict:
    """Score K generated images (pixel units, shape (K, 64)) against the judge; see the module docstring.

    Pixel values outside 0..16 are clipped to 0..16 before judging. Raises ValueError for a shape other
    than (K, 64), K < 10, or non-finite values. Returns a JSON-ready dict with keys ``label``, ``n``,
    ``recognisable``, ``class_shares`` (10 floats), ``coverage_entropy`` (bits), ``min_class_share``,
    ``frechet``, ``nn_train_dist``, ``nn_train_dist_ref``, ``copies``.
    """
    pixels = check_images(images_pixels)
    judge = get_judge()
    proba = judge.probabilities(pixels)
    shares = np.bincount(proba.argmax(axis=1), minlength=N_CLASSES) / len(pixels)
    nonzero = shares[shares > 0]
    nn = judge.nn_train_distances(pixels)
    mu, cov = _gaussian_fit(judge.features(pixels))
    return {
        "label": str(label),
        "n": int(len(pixels)),
        "recognisable": float(np.mean(proba.max(axis=1) >= RECOGNISED_PROBABILITY)),
        "class_shares": [float(s) for s in shares],
        "coverage_entropy": float(0.0 - np.sum(nonzero * np.log2(nonzero))),  # 0.0 − …: never −0.0
        "min_class_share": float(shares.min()),
        "frechet": gaussian_frechet(mu, cov, judge.heldout_mu, judge.heldout_cov),
        "nn_train_dist": float(nn.mean()),
        "nn_train_dist_ref": judge.nn_ref_mean,
        "copies": float(np.mean(nn < COPY_FRACTION * judge.nn_ref_median)),
    }


def calibration() -> list[dict]:
    """Reference rows from :func:`quality`, so a reader sees what "good" and "bad" score.

    * ``real_heldout``: the 360 held-out images. Its ``frechet`` is 0 by construction (the same images
      are the Fréchet reference); its nn distances and ``copies`` are those of genuinely new real digits.
    * ``real_train``: 360 training images drawn without replacement (seed ``CALIBRATION_SEED``): a
      perfect memoriser. Its ``frechet`` is the sampling floor of real digits at K = 360, while
      ``nn_train_dist`` = 0 and ``copies`` = 1 flag the copying.
    * ``noise``: 360 images of uniform random integer pixels 0..16 (seed ``CALIBRATION_SEED``).
    """
    split = load_digits_split()
    rng = np.random.default_rng(CALIBRATION_SEED)
    train_pick = split.x_train[rng.choice(len(split.x_train), CALIBRATION_K, replace=False)]
    noise = rng.integers(0, int(PIXEL_MAX) + 1, size=(CALIBRATION_K, N_PIXELS)).astype(float)
    return [
        quality(split.x_test, "real_heldout"),
        quality(train_pick, "real_train"),
        quality(noise, "noise"),
    ]
