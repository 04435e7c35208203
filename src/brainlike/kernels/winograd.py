"""Wide 3x3 convolutions with stride 1 by Winograd's minimal filtering F(2x2, 3x3), for CPU inference.

Each 2x2 block of outputs comes from a 4x4 input tile d and the 3x3 kernel g as A^T [(G g G^T) * (B^T d
B)] A (Lavin & Gray 2016, "Fast algorithms for convolutional neural networks"): 16 multiplications per
pair of input and output channels instead of direct convolution's 36, so the channel mixing, which is
almost all of the work for wide layers, becomes 16 matrix products 2.25x smaller. The transforms are
exact in real arithmetic; in float32 the outputs differ from direct convolution by a few 1e-6 of their
largest value. cuDNN chooses Winograd kernels by itself, and oneDNN does not on AVX2 CPUs, hence this
path: CPU, float32, no autograd, no autocast, at least MIN_CHANNELS channels, and only where it is faster
than oneDNN's convolution on the running machine (`kernels.calibration`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from brainlike.kernels.calibration import batch_class, choose

_B_T = ((1.0, 0.0, -1.0, 0.0), (0.0, 1.0, 1.0, 0.0), (0.0, -1.0, 1.0, 0.0), (0.0, 1.0, 0.0, -1.0))
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))
_A_T = ((1.0, 1.0, 1.0, 0.0), (0.0, 1.0, -1.0, -1.0))

MIN_CHANNELS = 256
# Below this many 2x2 output tiles per kernel transform, transforming the kernel costs more than it saves.
MIN_TILES = 256


def _kron(matrix, dtype: torch.dtype) -> torch.Tensor:
    m = torch.tensor(matrix, dtype=dtype)
    return torch.kron(m, m)


def transform_kernel(weight: torch.Tensor) -> torch.Tensor:
    """G g G^T of every (output, input) kernel of a (K, C, 3, 3) weight, as (16, K, C)."""
    out_channels, in_channels = weight.shape[:2]
    flat = weight.reshape(out_channels * in_channels, 9)
    return (_kron(_G, weight.dtype) @ flat.T).view(16, out_channels, in_channels)


def _b_t(parts, out=None):
    """B^T applied across four slices (rows or columns of the tiles)."""
    d0, d1, d2, d3 = parts
    if out is None:
        return d0 - d2, d1 + d2, d2 - d1, d1 - d3
    torch.sub(d0, d2, out=out[0])
    torch.add(d1, d2, out=out[1])
    torch.sub(d2, d1, out=out[2])
    torch.sub(d1, d3, out=out[3])


def tile_count(x: torch.Tensor) -> int:
    """How many 2x2 output tiles a stride-1, padding-1 convolution of x (N, C, H, W) has."""
    n, _, h, w = x.shape
    return n * ((h + 1) // 2) * ((w + 1) // 2)


def conv3x3(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The 3x3 convolution (stride 1, padding 1, no bias) of x (N, C, H, W) with a `transform_kernel` result."""
    n, c, h, w = x.shape
    rows, cols = (h + 1) // 2, (w + 1) // 2
    # Channels last and padded so that tiles of 4 taken every 2 pixels cover every output.
    padded = F.pad(x, (1, 2 * cols + 1 - w, 1, 2 * rows + 1 - h)).permute(0, 2, 3, 1).contiguous()
    tiles = padded.unfold(1, 4, 2).unfold(2, 4, 2)  # (n, rows, cols, c, 4, 4), a view
    transformed = x.new_empty(4, 4, n, rows, cols, c)
    for i, across in enumerate(_b_t([tiles[..., k, :] for k in range(4)])):
        _b_t([across[..., k] for k in range(4)], out=transformed[i])
    count = n * rows * cols
    products = torch.bmm(transformed.view(16, count, c), kernel.transpose(1, 2))  # (16, tiles, K)
    out_channels = kernel.shape[1]
    blocks = (_kron(_A_T, x.dtype) @ products.view(16, -1)).view(2, 2, n, rows, cols, out_channels)
    y = blocks.permute(2, 5, 3, 0, 4, 1).reshape(n, out_channels, 2 * rows, 2 * cols)
    return y if (h, w) == (2 * rows, 2 * cols) else y[:, :, :h, :w].contiguous()


def applies(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether x and a (K, C, 3, 3) weight suit this path: CPU float32 inference on wide layers."""
    return (
        x.device.type == "cpu"
        and x.dtype == weight.dtype == torch.float32
        and x.ndim == 4
        and weight.shape[1] == x.shape[1]
        and tuple(weight.shape[2:]) == (3, 3)
        and min(weight.shape[:2]) >= MIN_CHANNELS
        and not torch.is_autocast_enabled("cpu")
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    )


class SharedKernel3x3:
    """A 3x3 kernel (padding 1, no bias) applied `calls` times with stride 1 in one forward pass, as in a
    recurrent block's later steps: those calls go through Winograd when it pays, the kernel transformed
    once on first use; other calls, and strided ones, are direct convolutions. Make one per forward pass,
    so a changed weight is never served from an old transform."""

    def __init__(self, weight: torch.Tensor, calls: int):
        self.weight, self.calls = weight, calls
        self.kernel: torch.Tensor | None = None

    def transformed(self) -> torch.Tensor:
        """The kernel in the Winograd domain, transformed on first use in this forward pass."""
        if self.kernel is None:
            self.kernel = transform_kernel(self.weight)
        return self.kernel

    def __call__(self, x: torch.Tensor, stride: int = 1) -> torch.Tensor:
        def direct() -> torch.Tensor:
            return F.conv2d(x, self.weight, stride=stride, padding=1)

        if stride != 1 or tile_count(x) * self.calls < MIN_TILES or not applies(x, self.weight):
            return direct()
        routes = {"direct": direct, "winograd": lambda: conv3x3(x, self.transformed())}
        shape_class = (batch_class(len(x)), *x.shape[1:], self.weight.shape[0])
        return routes[choose("winograd", shape_class, routes, rule="winograd")]()
