"""The VOne block (Dapello, Marques et al. 2020): a fixed model of V1 in front of a CNN.

A bank of Gabor quadrature pairs whose parameters are drawn from empirical macaque V1 distributions
(`layers.gabor_sampling`), read out as simple cells (rectified linear) and complex cells
(phase-invariant energy), scaled by an excitation gain and passed through optional noise.

Each output channel's Gabor sits on a single input colour channel, drawn independently for the two
members of a quadrature pair by default (only about a third of the pairs share a channel). The
colour draw uses its own torch generator instead of the original's global RNG, so fresh kernels are
reproducible from `gabor_seed` alone.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.kernels.noise import standard_normal_like
from brainlike.layers.gabor import GaborFilterBank, gabor_kernels
from brainlike.layers.gabor_sampling import sample_gabor_params

NOISE_MODES = (None, "gaussian", "neuronal")
_POISSON_FLOOR = 1e-4


class VOneBlock(nn.Module):
    """Gabor quadrature pairs -> simple (ReLU) and complex (energy) cells -> gain k_exc -> noise -> ReLU.

    Taps (identities): `simple`, `complex`, `gabors` (before noise), `noise` and `output`.
    Noise modes: None (deterministic), "gaussian" (additive, std `noise_scale`) and "neuronal"
    (Poisson-like, variance growing with the rate: u = s g + l, u += eps sqrt(relu(u) + 1e-4),
    y = (u - l) / s). Noise is on ("neuronal") by default, as published; `set_noise(None)` turns it
    off and `fix_noise(seed)` makes it reproducible.
    """

    def __init__(
        self,
        *,
        simple_channels: int = 256,
        complex_channels: int = 256,
        kernel_size: int = 25,
        stride: int = 4,
        image_size: int = 224,
        visual_degrees: float = 8.0,
        k_exc: float = 25.0,
        noise_mode: str | None = "neuronal",
        noise_scale: float = 0.35,
        noise_level: float = 0.07,
        gabor_seed: int = 0,
        sf_corr: float = 0.75,
        sf_max: float = 9.0,
        sf_min: float = 0.0,
        uniform_params: bool = False,
        colour_assignment: str = "independent",
    ):
        super().__init__()
        if colour_assignment not in ("independent", "shared"):
            raise BrainlikeError(f"colour_assignment must be 'independent' or 'shared', not {colour_assignment!r}")
        if simple_channels < 0 or complex_channels < 0 or simple_channels + complex_channels == 0:
            raise BrainlikeError("the VOne block needs a positive number of simple plus complex channels")
        channels = simple_channels + complex_channels
        self.simple_channels, self.complex_channels = simple_channels, complex_channels
        self.k_exc = k_exc
        self.image_size, self.visual_degrees = image_size, visual_degrees
        self.set_noise(noise_mode, scale=noise_scale, level=noise_level)
        self.noise_seed: int | None = None

        self.simple_conv_q0 = GaborFilterBank(out_channels=channels, kernel_size=kernel_size, stride=stride)
        self.simple_conv_q1 = GaborFilterBank(out_channels=channels, kernel_size=kernel_size, stride=stride)
        self.simple, self.complex, self.gabors = nn.Identity(), nn.Identity(), nn.Identity()
        self.noise, self.output = nn.Identity(), nn.Identity()

        params = sample_gabor_params(
            channels, seed=gabor_seed, sf_corr=sf_corr, sf_max=sf_max, sf_min=sf_min, uniform=uniform_params
        )
        pixels_per_degree = image_size / visual_degrees
        frequency = torch.from_numpy(params["sf"] / pixels_per_degree)
        geometry = dict(
            frequency=frequency,
            theta=torch.from_numpy(np.deg2rad(params["theta"])),
            sigma_x=torch.from_numpy(params["nx"]) / frequency,
            sigma_y=torch.from_numpy(params["ny"]) / frequency,
            size=kernel_size,
        )
        phase = torch.from_numpy(np.deg2rad(params["phase"]))
        colours = torch.Generator().manual_seed(gabor_seed)
        colour_q0 = torch.randint(0, 3, (channels,), generator=colours)
        colour_q1 = colour_q0 if colour_assignment == "shared" else torch.randint(0, 3, (channels,), generator=colours)
        self.simple_conv_q0.set_kernels(gabor_kernels(phase=phase, **geometry), colour_q0)
        self.simple_conv_q1.set_kernels(gabor_kernels(phase=phase + math.pi / 2, **geometry), colour_q1)
        self.gabor_params: dict | None = {
            **params,
            "simple_channels": simple_channels,
            "complex_channels": complex_channels,
            "uniform_params": uniform_params,
            "gabor_seed": gabor_seed,
            "sf_max": sf_max,
            "sf_min": sf_min,
            "sf_corr": sf_corr,
            "colour_q0": colour_q0.numpy(),
            "colour_q1": colour_q1.numpy(),
        }
        # Loaded kernels are authoritative; the sampled parameters no longer describe them.
        self.register_load_state_dict_post_hook(lambda module, _: setattr(module, "gabor_params", None))

    @property
    def stride(self) -> int:
        return self.simple_conv_q0.stride

    @stride.setter
    def stride(self, value: int) -> None:
        self.simple_conv_q0.stride = self.simple_conv_q1.stride = value

    def set_noise(self, mode: str | None, *, scale: float | None = None, level: float | None = None) -> None:
        """Switch the noise mode (None, "gaussian", "neuronal"), optionally with new constants."""
        if mode not in NOISE_MODES:
            raise BrainlikeError(f"noise_mode must be one of {NOISE_MODES}, not {mode!r}")
        self.noise_mode = mode
        if scale is not None:
            self.noise_scale = scale
        if level is not None:
            self.noise_level = level

    def fix_noise(self, seed: int = 0) -> None:
        """Draw the same noise on every call for inputs of the same shape (any batch size, any device)."""
        self.noise_seed = int(seed)

    def unfix_noise(self) -> None:
        self.noise_seed = None

    # The activations are large (512 x 56 x 56 per image), so the arithmetic below writes in place
    # into tensors it has just made, wherever autograd does not need them and no tap has seen them.

    def add_noise(self, g: torch.Tensor) -> torch.Tensor:
        if self.noise_mode is None:
            return g
        eps = standard_normal_like(g, seed=self.noise_seed)
        if self.noise_mode == "gaussian":
            return eps.mul_(self.noise_scale).add_(g)
        u = g.mul(self.noise_scale).add_(self.noise_level)
        spread = u.clamp(min=0).add_(_POISSON_FLOOR).sqrt_()
        return torch.addcmul(u, eps, spread).sub_(self.noise_level).div_(self.noise_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.simple_channels
        q0 = self.simple_conv_q0(x)
        simple = self.simple(F.relu(q0[:, :s]))
        # Only the complex cells use the quadrature (q1) filters.
        q1 = self.simple_conv_q1(x, slice(s, None))
        complex_ = self.complex(torch.hypot(q0[:, s:], q1).div(math.sqrt(2)))
        g = self.gabors(torch.cat([simple, complex_], dim=1).mul_(self.k_exc))
        return self.output(self.noise(F.relu(self.add_noise(g))))
