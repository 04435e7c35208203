"""Sinusoidal gratings and blanks, specified in degrees, rendered for a model's field of view.

The renderer follows the Marques et al. (2021) protocol as packaged in Brain-Score: a stimulus image
spans 12 degrees at 56 px/deg (672 px) on mid-gray (uint8 128); inside a hard circular aperture the
luminance is `sin(2*pi*sf*(x*cos(theta) + y*sin(theta)) + phase) * contrast`, with x pointing right and
y pointing down, so theta = 0 gives vertical stripes. The stimulus centre sits `position` degrees
(x, y) right of and below the image centre. The image is then placed on the model's screen: cropped
at the centre when the model sees fewer degrees, pasted on gray when it sees more, and resized to the
model's input size by its preprocessing preset. The published stimulus sets are named presets
(`STIMULUS_SETS`), each a `GratingSet` whose images run over a grid with phase varying fastest.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.transforms import preset

STIMULUS_DEGREES = 12.0
STIMULUS_PIXELS = 672
GRAY = 128
POSITION = (0.5, 0.5)

# Parameter grids of Marques et al. (2021), `marques_gen_stim.py` in Brain-Score.
RADII = np.logspace(-2.25, 3.25, 12, base=2) / 2
SPATIAL_FREQUENCIES = np.logspace(-1.375, 3.875, 22, base=2)
ORIENTATIONS = np.arange(0, 180, 15.0)
PHASES = np.arange(0, 360, 45.0)
TEST_SPATIAL_FREQUENCIES = SPATIAL_FREQUENCIES[[4, 8, 12, 16]]
RF_POSITIONS = np.linspace(-2.5, 2.5, 21)

PARAMETERS = ("spatial_frequency", "orientation", "phase", "radius", "contrast", "position_x", "position_y")
DEFAULTS = {"contrast": 1.0, "position_x": POSITION[0], "position_y": POSITION[1], "radius": math.inf}


@dataclass(frozen=True)
class Screen:
    """Where and how images are shown: the model's field of view, input size and preprocessing preset."""

    visual_degrees: float
    input_size: int
    preprocessing: str = "imagenet"

    @classmethod
    def of(cls, card) -> "Screen":
        return cls(
            visual_degrees=float(card.visual_degrees), input_size=int(card.input_size), preprocessing=card.preprocessing
        )

    def __post_init__(self):
        if not self.visual_degrees > 0 or self.input_size < 1:
            raise BrainlikeError(f"a screen needs positive degrees and size, got {self}")
        preset(self.preprocessing)


@dataclass(frozen=True)
class GratingSet:
    """Images over a parameter grid, slowest dimension first (`dims`), one row of `table` per image.

    `table[p][i]` is parameter p of image i, for every name in `PARAMETERS`; `grid[d]` holds the
    values of grid dimension d, so responses reshape to `shape` (+ units) in the order of `dims`.
    """

    name: str
    dims: tuple[str, ...]
    grid: Mapping[str, np.ndarray]
    table: Mapping[str, np.ndarray]
    description: str = ""
    degrees: float = STIMULUS_DEGREES

    def __len__(self) -> int:
        return len(self.table["phase"])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.grid[d]) for d in self.dims)

    def render(self, screen: Screen, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Images start..stop as a normalised (N, 3, size, size) batch for `screen`."""
        rows = slice(start, len(self) if stop is None else stop)
        return render_gratings({p: self.table[p][rows] for p in PARAMETERS}, screen, degrees=self.degrees)

    def batches(self, screen: Screen, batch_size: int) -> Iterator[torch.Tensor]:
        for start in range(0, len(self), batch_size):
            yield self.render(screen, start, start + batch_size)


def grating_grid(
    name: str,
    dims: Mapping[str, np.ndarray],
    *,
    derived: Mapping[str, Callable] | None = None,
    fixed: Mapping[str, float] | None = None,
    description: str = "",
) -> GratingSet:
    """A `GratingSet` over the product of `dims` (first = slowest), with `derived` parameters computed
    from a row's grid values and `fixed` ones the same for every image."""
    names = tuple(dims)
    grid = {d: np.asarray(v, dtype=np.float64) for d, v in dims.items()}
    rows = list(itertools.product(*(grid[d] for d in names)))
    columns = {d: np.array([r[i] for r in rows], dtype=np.float64) for i, d in enumerate(names)}
    for key, rule in (derived or {}).items():
        columns[key] = np.asarray(rule(columns), dtype=np.float64)
    for key, value in {**DEFAULTS, **(fixed or {})}.items():
        columns.setdefault(key, np.full(len(rows), float(value)))
    missing = [p for p in PARAMETERS if p not in columns]
    if missing:
        raise BrainlikeError(f"stimulus set {name}: no value for {', '.join(missing)}")
    return GratingSet(name, names, grid, {p: columns[p] for p in PARAMETERS}, description)


def render_gratings(
    params: Mapping[str, np.ndarray], screen: Screen, *, degrees: float = STIMULUS_DEGREES
) -> torch.Tensor:
    """Render one image per row of `params` (arrays named as in `PARAMETERS`) for `screen`.

    A radius of inf is a full-field grating (the whole `degrees`-wide stimulus image); contrast 0 is a
    blank (uniform gray). Angles are in degrees, spatial frequency in cycles/deg, radius and positions
    in degrees. Returns a normalised (N, 3, size, size) batch.
    """
    p = {k: np.asarray(params[k], dtype=np.float64) for k in PARAMETERS}
    view = _view(screen, degrees)
    ppd = STIMULUS_PIXELS / degrees
    # Only the aperture's bounding box differs from gray, and resizing is linear, so each image is
    # rendered in a window and resized there with the rows and columns of the resize matrix. The
    # small per-image arrays are numpy: thread-pool start-up would dominate them in torch.
    half = np.where(p["contrast"] == 0, 0.0, np.minimum(p["radius"] * ppd, 2.0 * view.canvas))
    size = int(min(view.canvas, max(1, math.ceil(float((2 * half).max())) + 2)))
    offsets = np.arange(size)
    cols = _window_start(view.centre + p["position_x"] * ppd - half, size, view.canvas)[:, None] + offsets
    rows = _window_start(view.centre + p["position_y"] * ppd - half, size, view.canvas)[:, None] + offsets
    x = view.degrees[cols] - p["position_x"][:, None]
    y = view.degrees[rows] - p["position_y"][:, None]

    theta, phase = np.deg2rad(p["orientation"]), np.deg2rad(p["phase"])[:, None]
    kx = (2 * math.pi * p["spatial_frequency"] * np.cos(theta))[:, None]
    ky = (2 * math.pi * p["spatial_frequency"] * np.sin(theta))[:, None]
    # sin(kx*x + ky*y + phase) = sin(kx*x + phase) cos(ky*y) + cos(kx*x + phase) sin(ky*y): a rank-2
    # product of a column and a row factor, far cheaper than evaluating sin per pixel.
    row_factor = np.stack([np.cos(ky * y), np.sin(ky * y)], axis=-1).astype(np.float32)
    col_factor = np.stack([np.sin(kx * x + phase), np.cos(kx * x + phase)], axis=1).astype(np.float32)
    levels = np.matmul(row_factor, col_factor)
    # uint8(((g + 1) / 2) * 255) as in the original, as an offset from the gray background.
    levels *= (p["contrast"] * 127.5).astype(np.float32)[:, None, None]
    levels += 127.5
    patch = np.clip(np.floor(levels, out=levels), 0, 255, out=levels) - GRAY
    distance = y.astype(np.float32)[:, :, None] ** 2 + x.astype(np.float32)[:, None, :] ** 2
    shown = distance <= (p["radius"].astype(np.float32) ** 2)[:, None, None]
    shown &= view.inside[rows][:, :, None] & view.inside[cols][:, None, :]
    shown &= (p["contrast"] != 0)[:, None, None]
    patch = torch.from_numpy(patch * shown)

    resize = view.resize.T  # (canvas, size)
    rows_t, cols_t = torch.from_numpy(rows), torch.from_numpy(cols)
    offset = torch.bmm(torch.bmm(resize[rows_t].transpose(1, 2), patch), resize[cols_t])
    # Gray level -> [0, 1] -> the preset's mean/std per channel, in one pass over the output.
    norm = preset(screen.preprocessing)
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in (norm.mean, norm.std))
    return torch.addcmul((GRAY / 255 - mean) / std, offset[:, None], 1 / (255 * std))


def _window_start(low: np.ndarray, size: int, canvas: int) -> np.ndarray:
    return np.clip(np.floor(low).astype(np.int64), 0, canvas - size)


@dataclass(frozen=True)
class _View:
    canvas: int  # pixels of the model's field of view at the stimulus' pixels per degree
    centre: float  # canvas pixel of the stimulus image centre
    degrees: np.ndarray  # (canvas,) degrees of each canvas pixel from the image centre
    inside: np.ndarray  # (canvas,) whether the pixel lies on the stimulus image
    resize: torch.Tensor  # (size, canvas) the preset's resize as a matrix


@functools.lru_cache(maxsize=8)
def _view(screen: Screen, degrees: float) -> _View:
    """The model's screen at the stimulus' resolution: a centre crop of the stimulus image (origin
    rounded) when the model sees fewer degrees, the image pasted centred on gray when it sees more."""
    ppd = STIMULUS_PIXELS / degrees
    canvas = round(screen.visual_degrees / degrees * STIMULUS_PIXELS)
    if canvas <= STIMULUS_PIXELS:
        origin = -round((STIMULUS_PIXELS - canvas) / 2)
    else:
        origin = (canvas - STIMULUS_PIXELS) // 2
    image_pixel = np.arange(canvas, dtype=np.float64) - origin
    inside = (image_pixel >= 0) & (image_pixel < STIMULUS_PIXELS)
    return _View(
        canvas,
        origin + STIMULUS_PIXELS / 2,
        (image_pixel - STIMULUS_PIXELS / 2) / ppd,
        inside,
        resize_matrix(canvas, screen),
    )


def resize_matrix(canvas: int, screen: Screen) -> torch.Tensor:
    """(size, canvas) matrix M such that the preset's resize of a square image A is M @ A @ M.T.

    Obtained by resizing the identity, so it is exactly the antialiased bilinear resize of torch.
    """
    p = preset(screen.preprocessing)
    size = screen.input_size
    target = size if p.resize == "squash" else round(size / p.crop_fraction)
    identity = torch.eye(canvas)[:, None, None, :]
    matrix = F.interpolate(identity, size=(1, target), mode="bilinear", antialias=True, align_corners=False)
    matrix = matrix[:, 0, 0, :].T.contiguous()
    if p.resize != "squash":
        top = (target - size) // 2
        matrix = matrix[top : top + size]
    return matrix


# -------------------------------------------------------------------------------- published sets


def blank_set() -> GratingSet:
    return grating_grid(
        "Marques2020_blank",
        {"phase": [0.0]},
        fixed={"spatial_frequency": 1.0, "orientation": 0.0, "contrast": 0.0},
        description="uniform mid-gray, the baseline (spontaneous) response",
    )


def receptive_field_set() -> GratingSet:
    return grating_grid(
        "Marques2020_receptive_field",
        {
            "position_y": RF_POSITIONS,
            "position_x": RF_POSITIONS,
            "orientation": [0.0, 45.0, 90.0, 135.0],
            "phase": [0.0, 180.0],
        },
        fixed={"radius": 1 / 6, "spatial_frequency": 3.0},
        description="3 cpd patches of radius 1/6 deg on a 21 x 21 grid (0.25 deg steps), 4 orientations x 2 phases",
    )


def orientation_set() -> GratingSet:
    return grating_grid(
        "Marques2020_orientation",
        {
            "cycles": [2.0, 3.0, 4.0],
            "spatial_frequency": TEST_SPATIAL_FREQUENCIES,
            "orientation": ORIENTATIONS,
            "phase": PHASES,
        },
        derived={"radius": lambda c: c["cycles"] / (2 * c["spatial_frequency"])},
        description="4 SFs x 12 orientations x 8 phases, apertures of 2, 3 and 4 cycles across",
    )


def spatial_frequency_set() -> GratingSet:
    return grating_grid(
        "Marques2020_spatial_frequency",
        {
            "radius": [0.75, 2.25],
            "spatial_frequency": SPATIAL_FREQUENCIES,
            "orientation": ORIENTATIONS[::2],
            "phase": PHASES,
        },
        description="22 SFs (quarter octaves, 0.39-14.7 cpd) x 6 orientations x 8 phases, radii 0.75 and 2.25 deg",
    )


def size_set() -> GratingSet:
    return grating_grid(
        "Marques2020_size",
        {
            "radius": RADII,
            "spatial_frequency": TEST_SPATIAL_FREQUENCIES,
            "orientation": ORIENTATIONS[::2],
            "phase": PHASES,
        },
        description="12 radii (0.11-4.76 deg) x 4 SFs x 6 orientations x 8 phases",
    )


STIMULUS_SETS: dict[str, Callable[[], GratingSet]] = {
    "blank": blank_set,
    "receptive_field": receptive_field_set,
    "orientation": orientation_set,
    "spatial_frequency": spatial_frequency_set,
    "size": size_set,
}


def stimulus_set(name: str) -> GratingSet:
    """A published stimulus set by short name ("orientation") or Brain-Score name ("Marques2020_size")."""
    short = name.removeprefix("Marques2020_")
    if short not in STIMULUS_SETS:
        raise BrainlikeError(f"unknown stimulus set {name!r}; known: {', '.join(STIMULUS_SETS)}")
    return STIMULUS_SETS[short]()


@dataclass(frozen=True)
class Grating:
    """One grating for ad-hoc use: `Grating(spatial_frequency=2, orientation=45).render(screen)`."""

    spatial_frequency: float
    orientation: float = 0.0
    phase: float = 0.0
    radius: float = math.inf
    contrast: float = 1.0
    position: tuple[float, float] = field(default=POSITION)

    def render(self, screen: Screen) -> torch.Tensor:
        values = {
            "spatial_frequency": self.spatial_frequency,
            "orientation": self.orientation,
            "phase": self.phase,
            "radius": self.radius,
            "contrast": self.contrast,
            "position_x": self.position[0],
            "position_y": self.position[1],
        }
        return render_gratings({k: np.array([v]) for k, v in values.items()}, screen)
