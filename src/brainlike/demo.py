"""`brainlike demo`: the main job on embedded data, written to one report folder.

Each step is a function `step(report)` that adds sections, data and figures to the shared report;
`STEPS` runs in order. Steps use only data that ships with the installed packages, and weights only
when they are already in the cache (otherwise the model is random and the report says so).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from brainlike.analysis.stats import model_stats
from brainlike.data.photos import embedded_photos
from brainlike.recording import record
from brainlike.registry import create_model, model_card
from brainlike.report import Report, markdown_table
from brainlike.transforms import preprocess
from brainlike.weights import cached_path


def demo_model(name: str, **config):
    """The model with its default weights if they are cached, else random; and a note saying which."""
    card = model_card(name, **config)
    tag = card.default_weights
    if tag and cached_path(card.weights[tag]).is_file():
        return create_model(name, pretrained=tag, **config).eval(), f"pretrained ({tag})"
    return create_model(name, **config).eval(), "random weights (published weights not in the cache)"


def photo_batch(preset: str, size: int) -> tuple[list[str], torch.Tensor]:
    photos = embedded_photos()
    transform = preprocess(preset, size)
    return list(photos), torch.stack([transform(image) for image in photos.values()])


def cornet_step(report: Report) -> None:
    """Every CORnet on the embedded photos: architecture table and activations per area and step."""
    architecture, activity, data = [], [], {}
    for name in ("cornet_z", "cornet_r", "cornet_rt", "cornet_s"):
        model, weights = demo_model(name)
        card = model.card
        names, x = photo_batch(card.preprocessing, card.input_size)
        stats = model_stats(model)
        recorded = record(model, x)
        with torch.no_grad():
            top1 = model(x).argmax(dim=1).tolist()
        for area, row in zip(card.areas, stats.areas):
            architecture.append([name, area.name, area.steps, "x".join(map(str, row.shape)),
                                 f"{row.flops / 1e9:.3f}", f"{'≥' if row.rf_clipped else ''}{row.rf_pixels}",
                                 f"{row.rf_degrees:.2f}"])
        per_area = {}
        for area in card.areas:
            steps = []
            for t, act in enumerate(recorded[area.name]):
                entry = {"mean": act.mean().item(), "std": act.std().item(),
                         "active": (act > 0).float().mean().item(), "max": act.max().item(),
                         "image_dependent": t not in area.silent_steps}
                steps.append(entry)
                activity.append([name, area.name, t, f"{entry['mean']:.4f}", f"{entry['std']:.4f}",
                                 f"{entry['active']:.3f}", "no" if t in area.silent_steps else "yes"])
            per_area[area.name] = steps
        data[name] = {"weights": weights, "params": stats.params, "flops": stats.flops,
                      "areas": [r.__dict__ for r in stats.areas], "activity": per_area,
                      "top1_class_index": dict(zip(names, top1))}
        report.add_section(f"{name}: weights", weights)
    report.data["cornet"] = {"images": names, "models": data}
    report.add_section("CORnet architectures (224 px, 8 degrees)", markdown_table(
        ["model", "area", "steps", "output", "GFLOPs", "RF px", "RF deg"], architecture))
    report.add_section("CORnet activations on the embedded photos", markdown_table(
        ["model", "area", "step", "mean", "std", "fraction > 0", "depends on image"], activity))


STEPS = [cornet_step]


def run_demo(output: str | Path = "brainlike-demo") -> Path:
    report = Report(Path(output), "brainlike demo")
    timings = {}
    for step in STEPS:
        start = time.perf_counter()
        print(f"[demo] {step.__doc__.splitlines()[0]}", flush=True)
        step(report)
        timings[step.__name__] = round(time.perf_counter() - start, 2)
    report.data["seconds_per_step"] = timings
    return report.write()
