"""Published baseline results for mCE: AlexNet on ImageNet-C (Hendrycks & Dietterich 2019).

Hendrycks D, Dietterich T (2019). Benchmarking neural network robustness to common corruptions and
perturbations. ICLR. arXiv:1903.12261. mCE normalises a model's corruption errors by AlexNet's.

Top-1 errors per corruption and severity of torchvision's AlexNet on the published ImageNet-C images
(50,000 per cell; every value is a whole number of errors over 50,000). How they were confirmed: the
per-severity table appears as `imagenetc_alexnet_error_rates_list` in a timm development branch
(imported by its `validate.py` from `timm.utils`); its severity means equal, to all six decimals, the
per-corruption averages google-research/augmix `imagenet.py` (commit 9b9824c, 2020) ships as "Raw AlexNet
errors taken from https://github.com/hendrycks/robustness", which the robustness repository's README
computes in its linked mCE spreadsheet; rounded, they are the per-corruption AlexNet errors of the paper
(88.6, 89.4, 92.3, ... %).

Clean error: 1 - 0.56522, torchvision's documented top-1 of the AlexNet weights (resize 256, centre crop
224) that the ImageNet-C evaluation script (hendrycks/robustness ImageNet-C/test.py) loads; the paper
reports it rounded as 43.5 %.
"""

from __future__ import annotations

from brainlike.errors import BrainlikeError

ALEXNET_IMAGENET_C = {
    "gaussian_noise": (0.69528, 0.82542, 0.93554, 0.98138, 0.99452),
    "shot_noise": (0.71224, 0.85108, 0.93574, 0.98182, 0.99146),
    "impulse_noise": (0.78374, 0.89808, 0.94870, 0.98720, 0.99548),
    "defocus_blur": (0.65624, 0.73202, 0.85036, 0.91364, 0.94714),
    "glass_blur": (0.64308, 0.75054, 0.88806, 0.91622, 0.93344),
    "motion_blur": (0.58430, 0.70048, 0.82108, 0.89750, 0.92638),
    "zoom_blur": (0.70008, 0.76992, 0.80784, 0.84198, 0.87198),
    "snow": (0.71726, 0.88392, 0.86468, 0.91870, 0.94952),
    "frost": (0.61390, 0.79734, 0.88790, 0.89942, 0.93430),
    "fog": (0.67474, 0.76050, 0.84378, 0.87260, 0.94500),
    "brightness": (0.45140, 0.48502, 0.54048, 0.62166, 0.72440),
    "contrast": (0.64548, 0.76150, 0.88874, 0.97760, 0.99270),
    "elastic_transform": (0.52596, 0.70116, 0.55686, 0.64076, 0.80554),
    "pixelate": (0.52218, 0.54620, 0.73728, 0.87092, 0.91262),
    "jpeg_compression": (0.51002, 0.54718, 0.57294, 0.65458, 0.74778),
}
ALEXNET_CLEAN_ERROR = 1 - 0.56522
ALEXNET_CLASSES = 1000

PUBLISHED = {"alexnet": (ALEXNET_IMAGENET_C, ALEXNET_CLEAN_ERROR)}
CITATION = (
    "AlexNet on ImageNet-C: Hendrycks D, Dietterich T (2019). Benchmarking neural network robustness to "
    "common corruptions and perturbations. ICLR. arXiv:1903.12261"
)


def is_published(name) -> bool:
    return isinstance(name, str) and name.lower() in PUBLISHED


def published_baseline(name: str) -> tuple[dict[str, dict[int, float]], float]:
    """(errors per corruption and severity, clean error) of a published baseline ("alexnet")."""
    if not is_published(name):
        raise BrainlikeError(f"no published baseline {name!r}; known: {', '.join(PUBLISHED)}")
    table, clean = PUBLISHED[name.lower()]
    return {c: dict(enumerate(errors, start=1)) for c, errors in table.items()}, clean
