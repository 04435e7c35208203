"""The choices the parsers offer, as plain values: building the parser (and `--help`) imports no torch.

Each tuple equals the one of the module that uses it (tests/cli/test_help.py checks that).
"""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "fp16", "mixed", "tf32")  # brainlike.precision.PRECISIONS
EXTRACT_PRECISIONS = ("fp32", "bf16")  # brainlike.analysis.features.extract.PRECISIONS
POOLS = ("none", "avg", "max")  # brainlike.recording.POOLS
CORRUPTIONS = (  # brainlike.analysis.corruptions.CORRUPTIONS
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
SEVERITIES = (1, 2, 3, 4, 5)  # brainlike.analysis.corruptions.SEVERITIES
