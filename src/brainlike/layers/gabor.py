"""Gabor filter banks in visual-angle units and the VOne block (Dapello, Marques et al. 2020).

The VOne block is a fixed model of V1: a bank of Gabor quadrature pairs whose parameters are drawn
from empirical macaque V1 distributions, read out as simple cells (rectified linear) and complex
cells (phase-invariant energy), scaled by an excitation gain and passed through optional noise.

Conventions (kept from the original so that kernels can be regenerated identically):
- the kernel grid is indexed (row, column) = (x, y): x runs down the rows, so theta = 0 modulates
  along the rows and gives horizontal stripes (Brain-Score's gratings call vertical stripes 0 deg);
- each output channel's Gabor sits on a single input colour channel, drawn independently for the
  two members of a quadrature pair by default (only about a third of the pairs share a channel).
Parameters are sampled with the same numpy calls as the original, so `gabor_seed` gives the same
orientations, frequencies, phases and envelopes; the colour draw uses its own torch generator
instead of the global RNG, so fresh kernels are reproducible from the seed alone.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.stats import norm

from brainlike.errors import BrainlikeError
from brainlike.layers.spectral import SpectralCorrelation, worth_it

NOISE_MODES = (None, "gaussian", "neuronal")
_POISSON_FLOOR = 1e-4
NOISE_BLOCK = 1 << 20
NOISE_SEED_STRIDE = 1_000_003


@lru_cache(maxsize=1)
def v1_histograms() -> dict:
    """The empirical V1 histograms the Gabor parameters are sampled from (see data/SOURCES.md)."""
    return json.loads(resources.files("brainlike.layers").joinpath("data/vonenet_params.json").read_text())


def _inverse_cdf(u: np.ndarray, counts, edges) -> np.ndarray:
    """Piecewise-linear inverse CDF of a histogram: uniform within each bin of `edges`."""
    p = np.asarray(counts, dtype=float)
    cdf = np.concatenate([[0.0], np.cumsum(p / p.sum())])
    return np.interp(u, cdf, np.asarray(edges, dtype=float))


def _sf_histogram(sf_min: float, sf_max: float, *, uniform: bool) -> tuple[np.ndarray, np.ndarray]:
    data = v1_histograms()["spatial_frequency"]
    edges = np.asarray(data["bins_cpd"], dtype=float)
    counts = np.ones(len(edges) - 1) if uniform else np.asarray(data["counts"], dtype=float)
    # The original keeps edges <= sf_max for the empirical histogram but < sf_max for the uniform one.
    upper = edges < sf_max if uniform else edges <= sf_max
    keep = np.flatnonzero(upper & (edges >= sf_min))
    if len(keep) < 2:
        raise BrainlikeError(f"no spatial-frequency bin lies within [{sf_min}, {sf_max}] cpd")
    return edges[keep[0] : keep[-1] + 1], counts[keep[0] : keep[-1]]


def sample_gabor_params(
    n: int,
    *,
    seed: int = 0,
    sf_corr: float = 0.75,
    sf_max: float = 9.0,
    sf_min: float = 0.0,
    uniform: bool = False,
) -> dict[str, np.ndarray]:
    """Draw `n` Gabor parameter sets: sf (cycles/deg), theta and phase (deg), nx, ny (periods).

    Empirical mode follows the V1 histograms, with nx and SF coupled by a Gaussian copula of
    correlation `sf_corr` and ny drawn from the nx-conditional row of the joint (nx, ny) table.
    `uniform` draws uniform orientation, log-uniform nx and ny, and equal mass per SF bin instead.
    """
    if n < 1:
        raise BrainlikeError(f"need at least one Gabor, not {n}")
    if not -1 <= sf_corr <= 1:
        raise BrainlikeError(f"sf_corr must lie in [-1, 1], not {sf_corr}")
    h = v1_histograms()
    rng = np.random.RandomState(seed)
    sf_edges, sf_counts = _sf_histogram(sf_min, sf_max, uniform=uniform)
    if uniform:
        phase = rng.uniform(0, 360, n)
        theta = rng.uniform(0, 180, n)
        low, high = h["uniform_alternative_rand_param_true"]["nx_range"]
        nx = 10 ** rng.uniform(np.log10(low), np.log10(high), n)
        ny = 10 ** rng.uniform(np.log10(low), np.log10(high), n)
        sf = 2 ** _inverse_cdf(rng.uniform(size=n), sf_counts, np.log2(sf_edges))
        return {"sf": sf, "theta": theta, "phase": phase, "nx": nx, "ny": ny}

    # Same draws, same order as the original, so a seed gives the original's parameters.
    phase = rng.uniform(0, 360, n)
    u_theta = rng.uniform(size=n)
    z = rng.multivariate_normal([0, 0], [[1, sf_corr], [sf_corr, 1]], n)
    v_ny = rng.uniform(size=n)

    orientation = h["orientation"]
    theta = _inverse_cdf(u_theta, orientation["counts"], orientation["bins_deg"])
    theta = np.where(theta < 0, theta + 180, theta)

    joint = np.asarray(h["nx_ny_joint"]["counts_rows_nx_cols_ny"], dtype=float)
    envelope_edges = np.asarray(h["nx_ny_joint"]["bins"], dtype=float)
    log_edges = np.log10(envelope_edges)
    nx = 10 ** _inverse_cdf(norm.cdf(z[:, 0]), joint.sum(axis=1), log_edges)
    rows = np.searchsorted(envelope_edges, nx, side="left") - 1
    ny = np.empty(n)
    for row in np.unique(rows):
        chosen = rows == row
        ny[chosen] = 10 ** _inverse_cdf(v_ny[chosen], joint[row], log_edges)
    sf = 2 ** _inverse_cdf(norm.cdf(z[:, 1]), sf_counts, np.log2(sf_edges))
    return {"sf": sf, "theta": theta, "phase": phase, "nx": nx, "ny": ny}


def gabor_kernels(
    *,
    frequency: torch.Tensor,
    theta: torch.Tensor,
    sigma_x: torch.Tensor,
    sigma_y: torch.Tensor,
    phase: torch.Tensor,
    size: int,
) -> torch.Tensor:
    """(N, size, size) Gabors in pixel units: frequency in cycles/px, angles in radians, sigmas in px.

    g(x, y) = exp(-(x'^2/sx^2 + y'^2/sy^2)/2) / (2 pi sx sy) * cos(2 pi f x' + phase), with
    x' = x cos(theta) + y sin(theta), y' = -x sin(theta) + y cos(theta), x the row offset.
    """
    half = size // 2
    offsets = torch.arange(-half, size - half, dtype=torch.float64)
    x, y = torch.meshgrid(offsets, offsets, indexing="ij")
    cast = [
        torch.as_tensor(v, dtype=torch.float64).reshape(-1, 1, 1) for v in (frequency, theta, sigma_x, sigma_y, phase)
    ]
    f, th, sx, sy, ph = cast
    x_rot = x * torch.cos(th) + y * torch.sin(th)
    y_rot = -x * torch.sin(th) + y * torch.cos(th)
    envelope = torch.exp(-0.5 * (x_rot**2 / sx**2 + y_rot**2 / sy**2)) / (2 * math.pi * sx * sy)
    return (envelope * torch.cos(2 * math.pi * f * x_rot + ph)).float()


def standard_normal_cpu(
    shape: torch.Size, *, dtype: torch.dtype = torch.float32, seed: int | None = None
) -> torch.Tensor:
    """Standard normal samples, filled on all CPU threads.

    One CPU generator yields about 10^8 numbers a second, a cost comparable to a whole VOne block
    forward pass, so the flat tensor is cut into fixed blocks, each drawn from its own generator
    (block i seeded with seed + i * NOISE_SEED_STRIDE; without a seed, the base seed is drawn from the
    global generator, so torch.manual_seed still makes runs repeat). The values depend on the seed
    and the shape only, never on the number of threads; block 0 equals torch.randn with that seed.
    """
    out = torch.empty(shape, dtype=dtype)
    base = int(torch.randint(0, 2**62, ())) if seed is None else seed
    blocks = out.view(-1).split(NOISE_BLOCK)
    generators = [torch.Generator().manual_seed(base + i * NOISE_SEED_STRIDE) for i in range(len(blocks))]
    fill = lambda i: blocks[i].normal_(generator=generators[i])  # noqa: E731
    if len(blocks) == 1 or torch.get_num_threads() == 1:
        for i in range(len(blocks)):
            fill(i)
    else:
        list(_noise_pool().map(fill, range(len(blocks))))
    return out


@lru_cache(maxsize=1)
def _noise_pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=torch.get_num_threads(), thread_name_prefix="brainlike-noise")


class GaborFilterBank(nn.Module):
    """A strided convolution with fixed Gabor kernels, each on one input colour channel.

    The kernels are a frozen `weight` Parameter (out, in, k, k) so that checkpoints keep the
    original `....weight` key; they are never trained. On CPUs, when every kernel reads a single input
    channel (always so for sampled kernels and for the published checkpoints), the convolution runs
    once per input channel with only the kernels that read it, instead of also multiplying the zero
    kernels of the other channels: a third of the work on RGB images, the same sums in another order.
    Float32 inputs with kernels much larger than the stride (the VOne block's 25 px at stride 4) then
    go through the frequency domain (`layers.spectral`), several times less work again.
    `algorithm = "direct"` turns the FFT off; `"fft"` forces it, on any device. Elsewhere (GPUs) the
    default is the one full convolution, which cuDNN already runs fast.
    """

    ALGORITHMS = ("auto", "direct", "fft")

    def __init__(self, *, in_channels: int = 3, out_channels: int, kernel_size: int = 25, stride: int = 4):
        super().__init__()
        self.stride = stride
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(
            torch.zeros(out_channels, in_channels, kernel_size, kernel_size), requires_grad=False
        )
        self.algorithm = "auto"
        self._split_cache: dict = {}

    def set_kernels(self, kernels: torch.Tensor, colour_channels: torch.Tensor) -> None:
        """Write kernel c on input channel colour_channels[c]; the other input channels stay zero."""
        with torch.no_grad():
            self.weight.zero_()
            rows = torch.arange(self.weight.shape[0])
            self.weight[rows, colour_channels] = kernels.to(self.weight.dtype)

    def _split(self, channels: slice) -> _ColourSplit | None:
        """The kernels of `channels` grouped by the input channel they read (None if one reads several),
        rebuilt whenever the weight differs from the one they were made from (however it was changed)."""
        weight = self.weight.detach()[channels]
        key = (channels.start, channels.stop, channels.step)
        cached = self._split_cache.get(key)
        if cached is None or not _same(cached[0], weight):
            cached = (weight.clone(), _ColourSplit.of(weight))
            self._split_cache[key] = cached
        return cached[1]

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value: str) -> None:
        if value not in self.ALGORITHMS:
            raise BrainlikeError(f"algorithm must be one of {self.ALGORITHMS}, not {value!r}")
        self._algorithm = value

    def _use_fft(self, x: torch.Tensor) -> bool:
        if self.algorithm != "auto":
            return self.algorithm == "fft"
        return (
            x.device.type == "cpu"
            and x.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
            and worth_it(self.weight.shape[-1], self.stride)
        )

    def forward(self, x: torch.Tensor, channels: slice = slice(None)) -> torch.Tensor:
        split = self._split(channels) if x.device.type == "cpu" or self.algorithm == "fft" else None
        if split is None:
            return F.conv2d(x, self.weight[channels], stride=self.stride, padding=self.padding)
        height, width = x.shape[-2:]
        k, s, p = self.weight.shape[-1], self.stride, self.padding
        out = x.new_empty(x.shape[0], split.channels, (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1)
        fft = self._use_fft(x)
        for c, rows, kernels in split.groups:
            if fft:
                first = 0
                for chunk in split.spectral(c, kernels, height=height, width=width, stride=s, padding=p)(x[:, c]):
                    out.narrow(0, first, len(chunk)).index_copy_(1, rows, chunk)
                    first += len(chunk)
            else:
                out.index_copy_(1, rows, F.conv2d(x[:, c : c + 1], kernels, stride=s, padding=p))
        return out


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.device == b.device and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


class _ColourSplit:
    """Per input channel c: the output rows whose kernels read c and those kernels (rows, 1, k, k);
    and their spectra per input size once the FFT route has asked for them."""

    def __init__(self, groups: list[tuple[int, torch.Tensor, torch.Tensor]], channels: int):
        self.groups, self.channels = groups, channels
        self._spectra: dict[tuple, SpectralCorrelation] = {}

    def spectral(self, channel: int, kernels: torch.Tensor, **geometry: int) -> SpectralCorrelation:
        """The FFT correlation of `channel`'s kernels (from `groups`) for one input geometry."""
        key = (channel, *sorted(geometry.items()))
        if key not in self._spectra:
            self._spectra[key] = SpectralCorrelation(kernels[:, 0], **geometry)
        return self._spectra[key]

    @classmethod
    def of(cls, weight: torch.Tensor) -> "_ColourSplit | None":
        reads = weight.flatten(2).ne(0).any(dim=2)  # (out, in): which inputs each kernel reads
        if weight.shape[1] == 1 or bool((reads.sum(dim=1) > 1).any()):
            return None
        source = reads.to(torch.uint8).argmax(dim=1)  # an all-zero kernel counts as reading channel 0
        groups = []
        for c in range(weight.shape[1]):
            rows = torch.nonzero(source == c).flatten()
            if rows.numel():
                groups.append((c, rows, weight[rows, c : c + 1].contiguous()))
        return cls(groups, weight.shape[0])


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

    def _standard_normal(self, like: torch.Tensor) -> torch.Tensor:
        if like.device.type == "cpu":
            return standard_normal_cpu(like.shape, dtype=like.dtype, seed=self.noise_seed)
        if self.noise_seed is None:
            return torch.randn_like(like)
        generator = torch.Generator(device=like.device).manual_seed(self.noise_seed)
        return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)

    # The activations are large (512 x 56 x 56 per image), so the arithmetic below writes in place
    # into tensors it has just made, wherever autograd does not need them and no tap has seen them.

    def add_noise(self, g: torch.Tensor) -> torch.Tensor:
        if self.noise_mode is None:
            return g
        eps = self._standard_normal(g)
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
