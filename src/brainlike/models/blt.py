"""BLT-VS (Thorat, Aldegheri & Kietzmann 2024): a recurrent two-stream model of the ventral stream.

Seven areas (Retina, LGN, V1, V2, V3, V4, LOC) and a conv Readout; every area keeps a bottom-up (BU)
and a top-down (TD) map that gate each other (see `layers.recurrent.GatedTwoStreamArea`). Module tree
and state_dict keys (`connections.<Area>.…`) are those of `KietzmannLab/BLT-VS`, so the published
checkpoints load unchanged, and the outputs are the original's for every readout step, in both
unrolling schemes:

- sweep (bio_unroll=False): each step runs a BU sweep LGN…LOC, the Readout, then a TD sweep LOC…LGN;
  the TD sweep's V4->V1 skip is never used (the original's indexing, kept for its weights;
  `fix_td_skip_bug=True` uses it in both sweeps, for new training).
- biological (bio_unroll=True): every area updates from the previous step's maps, so the image
  reaches LGN at step 1, V1 at 2, V2 and V4 (through the V1->V4 skip) at 3, V3 and LOC at 4, and
  the Readout reads LOC from step 4 on.

Differences from the original, none of which changes an output: `forward` returns the last readout's
logits and `readouts` the list (the original's `forward` returns the list); Brain-Score's `hook_type`
taps are replaced by one tap per area and stream, called at the end of every step (zeros for an area
not reached yet); and, with `reuse=True` (the default), convolutions whose input is the same as in an
earlier call are not run again: the TD sweep's gate reuses the BU sweep's `bu_conv` result, each
`td_conv` (and TD skip) result of one step's TD sweep is the next BU sweep's, and LGN's bottom-up
conv of the never-changing Retina map runs once. `reuse=False` runs the original's schedule call by
call.

The published variants' cards and registration are in `models.blt_cards`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.recurrent import AreaOutput, GatedTwoStreamArea, Maybe
from brainlike.precision import PRECISIONS, autocast

AREAS = ("Retina", "LGN", "V1", "V2", "V3", "V4", "LOC")
CHANNELS = (32, 32, 576, 480, 352, 256, 352)
STRIDES = (2, 2, 2, 1, 1, 1, 2, 2)  # the last is the Readout's
KERNELS = {224: (7, 7, 5, 1, 5, 3, 3, 5), 128: (5, 3, 3, 1, 3, 3, 3, 3)}
LATERAL_KERNEL = {224: 5, 128: 3}
SKIP_BU_KERNEL = {224: 7, 128: 5}
SKIP_TD_KERNEL = 3
RETINA, LGN, V1, V4, LOC = 0, 1, 2, 5, 6


def output_sizes(image_size: int) -> tuple[int, ...]:
    """Side length of each area's maps, and the Readout's, for a square input."""
    sizes, side = [], image_size
    for k, s in zip(KERNELS[image_size], STRIDES):
        side = (side + 2 * ((k - 1) // 2) - k) // s + 1
        sizes.append(side)
    return tuple(sizes)


def arrival_steps(*, bio_unroll: bool, skip_connections: bool = True) -> tuple[int, ...]:
    """First step at which each area (and, last, the Readout) has a BU map."""
    if not bio_unroll:
        return (0,) * (len(AREAS) + 1)
    steps = [0]
    for n in range(1, len(AREAS)):
        first = steps[n - 1] + 1
        if n == V4 and skip_connections:
            first = min(first, steps[V1] + 1)
        steps.append(first)
    steps.append(steps[LOC])
    return tuple(steps)


class Readout(nn.Module):
    """Conv -> global average pool gives the logits (no nonlinearity); ReLU -> GroupNorm gives the
    TD map sent back to LOC."""

    def __init__(self, *, in_channels: int, channels: int, kernel_size: int, stride: int, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.readout_conv = nn.Conv2d(in_channels, channels, kernel_size, stride, (kernel_size - 1) // 2)
        self.layer_norm_td = nn.GroupNorm(1, channels)

    def forward(self, x: torch.Tensor, *, top_down: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.readout_conv(x)
        logits = F.adaptive_avg_pool2d(out, 1).flatten(1)[:, : self.num_classes]
        return logits, (self.layer_norm_td(F.relu(out)) if top_down else None)


class Connections(nn.ModuleDict):
    """The areas and the Readout by name; calling it runs one of them (so that per-module tools such
    as FlopCounterMode see every area under its full path)."""

    def forward(self, name: str, *args, **kwargs):
        return self[name](*args, **kwargs)


class BLTVS(nn.Module):
    """BLT-VS with every constructor option of the original (Brain-Score's `hook_type` aside).

    timesteps: unrolled steps T. bio_unroll: biological unrolling (readouts from step 4, T-4 of
    them) or sweeps (T readouts). readout_type: "multi" (one logit tensor per readout step) or
    "single" (one, a softmax(readout_weights)-weighted sum). image_size: 224 or 128 (the kernel
    sizes depend on it). add_feats: Readout channels beyond the classes, which only feed back.
    fix_td_skip_bug: use the V4->V1 TD skip in sweep mode too (not checkpoint-equivalent).
    reuse: skip recomputing convolutions of unchanged inputs (same outputs, fewer FLOPs).
    precision: "fp32", or "bf16" / "fp16" / "tf32" as in `brainlike.precision` (logits come back as
    float32).
    """

    def __init__(
        self,
        *,
        timesteps: int = 12,
        num_classes: int = 565,
        add_feats: int = 100,
        lateral_connections: bool = True,
        topdown_connections: bool = True,
        skip_connections: bool = True,
        bio_unroll: bool = True,
        image_size: int = 224,
        readout_type: str = "multi",
        fix_td_skip_bug: bool = False,
        reuse: bool = True,
        precision: str = "fp32",
    ):
        super().__init__()
        if image_size not in KERNELS:
            raise BrainlikeError(f"BLT-VS: image_size must be 224 or 128, not {image_size!r}")
        if readout_type not in ("multi", "single"):
            raise BrainlikeError(f"BLT-VS: readout_type must be 'multi' or 'single', not {readout_type!r}")
        if precision not in PRECISIONS:
            raise BrainlikeError(f"BLT-VS: precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.timesteps = timesteps
        self.num_classes = num_classes
        self.bio_unroll = bool(bio_unroll)
        self.image_size = image_size
        self.readout_type = readout_type
        self.skip_connections = bool(skip_connections)
        self.fix_td_skip_bug = fix_td_skip_bug
        self.reuse = reuse
        self.precision = precision
        self.arrival = arrival_steps(bio_unroll=self.bio_unroll, skip_connections=self.skip_connections)
        self.readout_steps = tuple(range(self.arrival[-1], timesteps))
        if not self.readout_steps:
            raise BrainlikeError(
                f"BLT-VS: with bio_unroll the Readout is first reached at step {self.arrival[-1]}, so "
                f"timesteps must be at least {self.arrival[-1] + 1}, not {timesteps}"
            )
        self.sizes = output_sizes(image_size)

        kernels = KERNELS[image_size]
        lateral = LATERAL_KERNEL[image_size] if lateral_connections else 0
        channels = CHANNELS + (num_classes + add_feats,)
        areas = {}
        for n, name in enumerate(AREAS):
            above = n >= LGN and topdown_connections
            areas[name] = GatedTwoStreamArea(
                in_channels=3 if n == RETINA else channels[n - 1],
                channels=channels[n],
                kernel_size=kernels[n],
                stride=STRIDES[n],
                lateral_kernel=lateral if n >= V1 else 0,
                top_down_channels=channels[n + 1] if above else None,
                top_down_kernel=kernels[n + 1],
                top_down_stride=STRIDES[n + 1],
                skip_bu_channels=channels[V1] if n == V4 and skip_connections else None,
                skip_bu_kernel=SKIP_BU_KERNEL[image_size],
                skip_td_channels=channels[V4] if n == V1 and skip_connections else None,
                skip_td_kernel=SKIP_TD_KERNEL,
            )
        areas["Readout"] = Readout(
            in_channels=channels[LOC],
            channels=channels[-1],
            kernel_size=kernels[-1],
            stride=STRIDES[-1],
            num_classes=num_classes,
        )
        self.connections = Connections(areas)
        if readout_type == "single":
            self.readout_weights = nn.Parameter(torch.ones(len(self.readout_steps)))

    # ------------------------------------------------------------------------------ public API

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readouts(x)[-1]

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits per readout step ("multi"), or the one weighted combination ("single")."""
        self._check_input(x)
        with autocast(self.precision, x.device.type):
            unroll = self._bio if self.bio_unroll else self._sweeps
            logits = [out.float() for out in unroll(x)]
        if self.readout_type == "single":
            weights = torch.softmax(self.readout_weights, dim=0)
            return [sum(w * out for w, out in zip(weights, logits))]
        return logits

    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != 3:
            raise BrainlikeError(f"BLT-VS expects images of shape (B, 3, H, W), got {tuple(x.shape)}")
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise BrainlikeError(
                f"BLT-VS ({self.image_size} px) expects {self.image_size}x{self.image_size} inputs, "
                f"got {x.shape[-2]}x{x.shape[-1]}"
            )

    # ------------------------------------------------------------------------------ unrolling

    def _tap(self, x: torch.Tensor, bu: list, td: list, *, retina_td_resting: bool) -> None:
        """Pass every area's maps through its taps; an area not reached yet shows zeros."""
        batch = x.shape[0]
        for n, name in enumerate(AREAS):
            area = self.connections[name]
            zeros = None
            if bu[n] is None or td[n] is None:
                zeros = x.new_zeros(1, CHANNELS[n], self.sizes[n], self.sizes[n]).expand(batch, -1, -1, -1)
            area.output_bu(bu[n] if bu[n] is not None else zeros)
            if n == RETINA and retina_td_resting:
                area.output_td(area.resting_td(bu[n]))
            else:
                area.output_td(td[n] if td[n] is not None else zeros)

    def _area(self, n: int, **inputs) -> AreaOutput:
        return self.connections(AREAS[n], **inputs)

    def _sweeps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """bio_unroll=False: a BU sweep, the Readout and a TD sweep per step (original §5.1)."""
        count = len(AREAS)
        bu: list = [None] * count
        td: list = [None] * (count + 1)  # td[count] is the Readout's TD map
        top_down: list = [None] * count  # td_conv (and TD skip) results of the last TD sweep
        skip_top_down = None
        lgn_drive = None
        logits = []
        bu[RETINA] = self._area(RETINA, bu=x, streams=("bu",)).bu
        for t in range(self.timesteps):
            bottom_up = self._bu_sweep(t, bu, td, top_down, skip_top_down, lgn_drive)
            lgn_drive = bottom_up[LGN]
            out, td[count] = self.connections["Readout"](bu[LOC])
            logits.append(out)
            skip_top_down = self._td_sweep(t, bu, td, bottom_up, top_down)
            if self.reuse:
                self._tap(x, bu, td, retina_td_resting=True)
            else:
                td[RETINA] = self._area(RETINA, bu=x, td=td[LGN], td_l=td[RETINA]).td
                self._tap(x, bu, td, retina_td_resting=False)
        return logits

    def _bu_sweep(self, t: int, bu: list, td: list, top_down: list, skip_top_down: Maybe, lgn_drive: Maybe) -> list:
        """Step t's BU sweep LGN…LOC: writes bu, returns each area's `bu_conv` result."""
        count = len(AREAS)
        bottom_up: list = [None] * count
        for n in range(LGN, count):
            inputs = dict(
                bu=bu[n - 1],
                bu_l=bu[n] if t else None,
                skip_bu=bu[V1] if n == V4 and self.skip_connections else None,
            )
            if self.fix_td_skip_bug and n == V1 and t:
                inputs["skip_td"] = td[V4]
            if t:
                inputs["td"] = td[n + 1]
            if self.reuse:
                if n == LGN and lgn_drive is not None:
                    inputs["bottom_up"] = lgn_drive
                inputs["top_down"] = top_down[n]
                if n == V1:
                    inputs["skip_top_down"] = skip_top_down
                out = self._area(n, **inputs, streams=("bu",))
            else:
                out = self._area(n, **inputs)
            bu[n], bottom_up[n] = out.bu, out.bottom_up
        return bottom_up

    def _td_sweep(self, t: int, bu: list, td: list, bottom_up: list, top_down: list) -> Maybe:
        """Step t's TD sweep LOC…LGN: writes td (and, with reuse, top_down); returns V1's TD skip result
        for the next BU sweep (None without reuse)."""
        skip_top_down = None
        for n in range(LOC, LGN - 1, -1):
            inputs = dict(td=td[n + 1], td_l=td[n] if t else None)
            if self.fix_td_skip_bug and n == V1:
                inputs["skip_td"] = td[V4]
            if self.reuse:
                result = self._area(n, bottom_up=bottom_up[n], **inputs, streams=("td",))
                top_down[n] = result.top_down
                if n == V1:
                    skip_top_down = result.skip_top_down
            else:
                result = self._area(n, bu=bu[n - 1], **inputs)
            td[n] = result.td
        return skip_top_down

    def _bio(self, x: torch.Tensor) -> list[torch.Tensor]:
        """bio_unroll=True: every area updates from the previous step's maps (original §5.2)."""
        count = len(AREAS)
        bu: list = [None] * count
        td: list = [None] * (count + 1)
        lgn_drive = None
        logits = []
        bu[RETINA] = self._area(RETINA, bu=x, streams=("bu",)).bu
        self._tap(x, bu, td, retina_td_resting=False)
        for t in range(1, self.timesteps):
            old_bu, old_td = list(bu), list(td)
            for n in range(LGN, count):
                skip_bu = old_bu[V1] if n == V4 and self.skip_connections else None
                skip_td = old_td[V4] if n == V1 and self.skip_connections else None
                if all(v is None for v in (old_bu[n - 1], skip_bu, old_td[n + 1], skip_td)):
                    continue
                inputs = dict(
                    bu=old_bu[n - 1], bu_l=old_bu[n], td=old_td[n + 1], td_l=old_td[n], skip_bu=skip_bu, skip_td=skip_td
                )
                if self.reuse and n == LGN and lgn_drive is not None:
                    inputs["bottom_up"] = lgn_drive
                out = self._area(n, **inputs)
                bu[n], td[n] = out.bu, out.td
                if n == LGN:
                    lgn_drive = out.bottom_up
            if bu[LOC] is not None:
                last = t == self.timesteps - 1
                out, td[count] = self.connections["Readout"](bu[LOC], top_down=not (self.reuse and last))
                logits.append(out)
            self._tap(x, bu, td, retina_td_resting=False)
        return logits
