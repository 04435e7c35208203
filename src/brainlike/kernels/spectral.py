"""Strided 2-D cross-correlation with large single-channel kernels, computed by FFT.

Directly, a k x k kernel costs k^2 multiply-adds per output value (625 for the VOne block's Gabors).
In the frequency domain the correlation is a product per frequency bin, and sampling the output at
every s-th pixel folds the s x s aliases of each bin onto one (Y_sub[q] = sum_a Y[q + a M] / s^2,
with M = N / s): per output value this is s^2 complex multiply-adds plus a small inverse FFT,
whatever the kernel size. The kernels' spectra are computed once per input size and reused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Bins x batch x kernels of complex64 per chunk of the product: bounds the working memory.
CHUNK_BYTES = 64 << 20


def _smooth_length(n: int) -> int:
    """The smallest integer >= n whose only prime factors are 2, 3 and 5 (fast FFT lengths)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


class SpectralCorrelation:
    """F.conv2d(x[:, None], kernels[:, None], stride, padding) for x (B, H, W), by FFT, in batch chunks.

    kernels: (O, kh, kw) real. The spectra are built for one input size (height, width), on the
    kernels' device and in complex64; the result matches direct convolution to float32 rounding and
    is differentiable in x.
    """

    def __init__(self, kernels: torch.Tensor, *, height: int, width: int, stride: int, padding: int):
        count, kh, kw = kernels.shape
        self.stride, self.padding = stride, padding
        self.out_height = (height + 2 * padding - kh) // stride + 1
        self.out_width = (width + 2 * padding - kw) // stride + 1
        if self.out_height < 1 or self.out_width < 1:
            raise ValueError(f"a {kh}x{kw} kernel does not fit a {height}x{width} input with padding {padding}")
        # Circular correlation equals the linear one on every needed output when N >= H + 2 padding.
        self.m_h = _smooth_length(-(-(height + 2 * padding) // stride))
        self.m_w = _smooth_length(-(-(width + 2 * padding) // stride))
        self.n_h, self.n_w = stride * self.m_h, stride * self.m_w
        self.half = self.m_w // 2 + 1  # the columns an inverse rfft needs
        self.height, self.width, self.count = height, width, count
        spectra = []
        for part in kernels.detach().float().split(max(1, CHUNK_BYTES // (8 * self.n_h * self.n_w))):
            spectrum = torch.fft.fft2(F.pad(part, (0, self.n_w - kw, 0, self.n_h - kh))).conj()
            spectra.append(self._aliases(spectrum))  # (bins, s*s, part)
        # The aliases add up to s^2 times the subsampled output's spectrum: divide once, here.
        self.spectrum = torch.cat(spectra, dim=2).div_(stride * stride).contiguous()  # (bins, s*s, O)

    def _aliases(self, spectrum: torch.Tensor) -> torch.Tensor:
        """(..., N_h, N_w) spectrum -> (bins, s*s, ...): the s x s aliases of each kept bin of the
        subsampled output, for the rows q < M_h and the columns r <= M_w / 2 an inverse rfft needs."""
        s, lead = self.stride, spectrum.shape[:-2]
        folded = spectrum.reshape(-1, s, self.m_h, s, self.m_w)[..., : self.half]  # (L, a, q, b, r)
        return folded.permute(2, 4, 1, 3, 0).reshape(self.m_h * self.half, s * s, *lead)

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, O, out_height, out_width) results, as views in consecutive chunks of the batch."""
        if x.shape[-2:] != (self.height, self.width):
            raise ValueError(f"built for {self.height}x{self.width} inputs, got {tuple(x.shape[-2:])}")
        bins = self.spectrum.shape[0]
        chunk = max(1, CHUNK_BYTES // (8 * bins * self.count))
        return [self._correlate(part) for part in x.split(chunk)]

    def _correlate(self, x: torch.Tensor) -> torch.Tensor:
        p, batch = self.padding, x.shape[0]
        padded = F.pad(x, (p, self.n_w - self.width - p, p, self.n_h - self.height - p))
        aliases = self._aliases(torch.fft.fft2(padded))  # (bins, s*s, B)
        product = torch.bmm(aliases.transpose(1, 2), self.spectrum)  # (bins, B, O)
        product = product.view(self.m_h, self.half, batch, self.count).permute(2, 3, 0, 1)
        out = torch.fft.irfft2(product, s=(self.m_h, self.m_w))
        return out[..., : self.out_height, : self.out_width]
