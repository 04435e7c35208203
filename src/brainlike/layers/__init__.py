"""Biological building blocks of visual cortex models, as `nn.Module`s and the functions behind them.

A Gabor filter bank in pixel units and the VOne block built on it (simple and complex cells with
switchable, seedable noise; Gabor parameters sampled from the empirical macaque V1 distributions),
difference-of-Gaussians centre-surround convolutions, a memory-lean `LocallyConnected2d`, tuned and
untuned divisive normalization, cortical magnification (polar pooling and log-polar resampling) and
the recurrent cells of the BLT models. The arithmetic shortcuts they run on live in
`brainlike.kernels`; nothing here imports models, the registry or any other higher room.
"""

from brainlike.layers.center_surround import ConvThenDoG, DoGConv2d, PartialDoG
from brainlike.layers.gabor import GaborFilterBank, gabor_kernels
from brainlike.layers.gabor_sampling import sample_gabor_params, v1_histograms
from brainlike.layers.local import LocallyConnected2d
from brainlike.layers.magnification import LogPolarSampler, PolarPooling, polar_masks
from brainlike.layers.normalization import TunedNormalization, UntunedNormalization, channel_distances
from brainlike.layers.recurrent import AreaOutput, GatedTwoStreamArea, RecurrentConvLayer
from brainlike.layers.vone import VOneBlock

__all__ = [
    "AreaOutput",
    "ConvThenDoG",
    "DoGConv2d",
    "GaborFilterBank",
    "GatedTwoStreamArea",
    "LocallyConnected2d",
    "LogPolarSampler",
    "PartialDoG",
    "PolarPooling",
    "RecurrentConvLayer",
    "TunedNormalization",
    "UntunedNormalization",
    "VOneBlock",
    "channel_distances",
    "gabor_kernels",
    "polar_masks",
    "sample_gabor_params",
    "v1_histograms",
]
