"""Text summaries of registered models: the `brainlike models` table and `brainlike info`."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from brainlike.analysis.stats import model_stats
from brainlike.errors import BrainlikeError
from brainlike.kernels.calibration import forced as fast_paths
from brainlike.registry import Area, create_model, list_models, model_card
from brainlike.reports import markdown_table


def models_table(pattern: str | None = None) -> str:
    """A Markdown table of every registered model (the README's model table is this output)."""
    names = list_models(pattern)
    if not names:
        raise BrainlikeError(f"no registered model matches {pattern!r}; `brainlike models` lists them all")
    rows = []
    for name in names:
        card = model_card(name)
        steps = "/".join(str(a.steps) for a in card.areas)
        rows.append(
            [
                f"`{name}`",
                card.family,
                " ".join(card.area_names),
                steps,
                card.input_size,
                card.visual_degrees,
                card.num_classes,
                ", ".join(card.weights) or "—",
            ]
        )
    headers = ["model", "family", "areas", "steps per area", "input px", "degrees", "classes", "weights"]
    return markdown_table(headers, rows)


def _bins(area: Area) -> str:
    return ", ".join("—" if b is None else f"{b[0]:g}-{b[1]:g}" for b in area.time_bins)


def _arrival(area) -> str:
    """First step whose output depends on the image."""
    return next((str(t) for t in range(area.steps) if t not in area.silent_steps), "—")


def flops_per_step(model, input_size: int) -> list[int] | None:
    """FLOPs of each time step, for models whose areas share their steps: a step ends when the last
    area's last tap fires (the last step also gets whatever follows, e.g. a decoder)."""
    card = model.card
    if len({a.steps for a in card.areas}) != 1 or card.areas[0].steps < 2:
        return None
    last_tap = dict(model.named_modules())[list(card.areas[-1].taps.values())[-1]]
    marks = []
    with FlopCounterMode(display=False) as counter, torch.no_grad(), fast_paths("off"):
        handle = last_tap.register_forward_hook(lambda *_: marks.append(counter.get_total_flops()))
        try:
            model.eval()(torch.zeros(1, 3, input_size, input_size))
        finally:
            handle.remove()
    marks[-1] = counter.get_total_flops()
    return [int(b - a) for a, b in zip([0] + marks[:-1], marks)]


def model_info(name: str, input_size: int | None = None) -> str:
    model = create_model(name)
    card = model.card
    if not card.areas:
        raise BrainlikeError(
            f"{name} has no brain-area commitment to summarise; give it one with "
            "brainlike.wrap(module, areas={'V1': 'module.path', ...}), or read layers with record(layers=...)"
        )
    stats = model_stats(model, input_size)
    lines = [
        f"{card.name}  ({card.family})",
        f"  input {stats.input_size} px = {card.visual_degrees:g} degrees, preprocessing '{card.preprocessing}', "
        f"{card.num_classes} classes, {card.readout_steps} readout step(s)",
        f"  parameters {stats.params:,}   FLOPs per forward {stats.flops / 1e9:.2f} G",
        f"  weights: {', '.join(f'{k} ({w.url})' for k, w in card.weights.items()) or 'none published'}",
    ]
    per_step = flops_per_step(model, stats.input_size)
    if per_step:
        lines.append(f"  FLOPs per step (G): {' '.join(f'{f / 1e9:.2f}' for f in per_step)}")
    lines.append("")
    rows = []
    for area, row in zip(card.areas, stats.areas):
        rf = f"{'≥' if row.rf_clipped else ''}{row.rf_pixels} px / {row.rf_degrees:.2f}°"
        silent = ",".join(map(str, area.silent_steps)) or "—"
        rows.append(
            [
                area.name,
                ", ".join(area.taps.values()),
                area.steps,
                _arrival(area),
                "x".join(map(str, row.shape)),
                f"{row.flops / 1e9:.3f} G",
                rf,
                silent,
                _bins(area),
            ]
        )
    lines.append(
        markdown_table(
            [
                "area",
                "tap",
                "steps",
                "arrival step",
                "output (last step)",
                "FLOPs",
                "RF (centre unit)",
                "image-independent steps",
                "time bins (ms)",
            ],
            rows,
        )
    )
    for note in card.notes:
        lines.append(f"note: {note}")
    lines += ["", f"citation: {card.citation}"]
    return "\n".join(lines)


def update_readme(path: str) -> None:
    """Rewrite the model table between the README's markers from the registry."""
    from pathlib import Path

    readme = Path(path)
    text = readme.read_text()
    start, end = "<!-- models-table:start -->\n", "<!-- models-table:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}{models_table()}\n{end}{tail}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="regenerate the README's model table")
    parser.add_argument("--readme", required=True)
    update_readme(parser.parse_args().readme)
