"""Adversarial reports: robust top-1 per budget with intervals, accuracy-vs-budget curves per norm next to
baseline models, per-step curves for recurrent models, and example adversarial images."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import torch
import torch.nn as nn
from PIL import Image

from brainlike.analysis.adversarial.budgets import NORMS, PRESETS, Budget, resolve_budgets
from brainlike.analysis.adversarial.measure import measure_adversarial
from brainlike.analysis.adversarial.result import AdversarialResult
from brainlike.data import open_dataset
from brainlike.errors import BrainlikeError
from brainlike.reports import Report, atomic_path, markdown_table
from brainlike.reports.figures.adversarial import accuracy_per_step, budget_panels, example_grid
from brainlike.runtime.model_setup import build_for_dataset

EXAMPLE_FORMATS = ("png", "pt")
_SPACE_NOTE = "Budgets are radii in [0, 1] pixel space; the model's normalisation is part of the attacked function."
_PRESET_NOTE = (
    "The budgets include the `vonenet` preset of Dapello, Marques et al. (2020): 64 PGD iterations of size "
    "epsilon / 4, L-infinity 1/1020 and 1/255, L2 0.15 and 0.6, L1 40 and 160 (see "
    "brainlike.analysis.adversarial.budgets for where each number comes from and which are unconfirmed)."
)


def _summary_json(result: AdversarialResult) -> dict:
    robust = {}
    for objective, per in result.robust.items():
        robust[objective] = {
            b.key: {
                **b.describe(),
                "top1_per_step": result.top1(b.key, objective),
                "interval_per_step": result.intervals(per[b.key]),
            }
            for b in result.budgets
        }
    return {
        "model": result.model,
        "images": result.images,
        "stochastic": result.stochastic,
        "eot_samples": result.eot_samples,
        "noise_evaluations": result.noise_evaluations,
        "restarts": result.restarts,
        "clean_top1_per_step": result.clean_top1(),
        "clean_interval_per_step": result.intervals(result.clean),
        "budgets": [b.describe() for b in result.budgets],
        "robust": robust,
    }


def _table(result: AdversarialResult, objective: str) -> str:
    clean, (low, high) = result.clean_top1()[-1], result.intervals(result.clean)[-1]
    rows = [["clean", "0", "", "", f"{100 * clean:.1f}", f"{100 * low:.1f}-{100 * high:.1f}"]]
    for b in result.budgets:
        top1, (low, high) = result.top1(b.key, objective)[-1], result.intervals(result.robust[objective][b.key])[-1]
        rows.append(
            [
                b.norm,
                b.label,
                str(b.steps),
                f"{b.step_size:.3g}",
                f"{100 * top1:.1f}",
                f"{100 * low:.1f}-{100 * high:.1f}",
            ]
        )
    return markdown_table(["norm", "epsilon", "PGD steps", "step size", "top-1 %", "95 % interval"], rows)


def _settings_text(result: AdversarialResult) -> str:
    lines = [f"Images: {result.images}. Restarts: {result.restarts}.", _SPACE_NOTE]
    keys = {b.key for b in result.budgets}
    if all(b.key in keys for b in PRESETS["vonenet"]()):
        lines.append(_PRESET_NOTE)
    if result.stochastic:
        lines.append(
            f"The model is stochastic: each PGD step averages {result.eot_samples} gradient samples (expectation "
            f"over its noise), and each accuracy is the mean of {result.noise_evaluations} noisy evaluations."
        )
    if result.readout_steps > 1:
        lines.append("Accuracy per readout step is in report.json (`robust`, `top1_per_step`).")
    return "\n\n".join(lines)


def read_curves(path: str | Path) -> dict:
    """{"name", "budgets": {key: {"norm", "epsilon", "top1"}}, "clean"} from an adversarial report.json."""
    path = Path(path)
    path = path / "report.json" if path.is_dir() else path
    try:
        payload = json.loads(path.read_text())
        last = payload["robust"]["last"]
        return {
            "name": payload["model"],
            "clean": payload["clean_top1_per_step"][-1],
            "budgets": {
                k: {"norm": v["norm"], "epsilon": v["epsilon"], "top1": v["top1_per_step"][-1]} for k, v in last.items()
            },
        }
    except FileNotFoundError:
        raise BrainlikeError(f"no adversarial report at {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError, IndexError) as error:
        raise BrainlikeError(f"{path} is not an adversarial report.json ({error})") from None


def _series(name: str, clean: float, budgets: Mapping[str, Mapping], norm: str, intervals=None) -> dict:
    cells = sorted((v["epsilon"], v["top1"], k) for k, v in budgets.items() if v["norm"] == norm)
    item = {"name": name, "epsilon": [0.0] + [c[0] for c in cells], "top1": [100 * clean] + [100 * c[1] for c in cells]}
    if intervals is not None:
        item["low"] = [100 * intervals[k][0] for k in ["clean"] + [c[2] for c in cells]]
        item["high"] = [100 * intervals[k][1] for k in ["clean"] + [c[2] for c in cells]]
    return item


def _budget_figure(result: AdversarialResult, baselines: Sequence[dict]):
    ours = {b.key: {"norm": b.norm, "epsilon": b.epsilon, "top1": result.top1(b.key)[-1]} for b in result.budgets}
    intervals = {"clean": result.intervals(result.clean)[-1]}
    intervals.update({b.key: result.intervals(result.robust["last"][b.key])[-1] for b in result.budgets})
    per_norm = {}
    for norm in NORMS:
        if any(b.norm == norm for b in result.budgets):
            per_norm[norm] = [_series(result.model, result.clean_top1()[-1], ours, norm, intervals)] + [
                _series(c["name"], c["clean"], c["budgets"], norm) for c in baselines
            ]
    return budget_panels(per_norm, title=f"{result.model}: top-1 under white-box PGD (last readout)")


def _file_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", key.replace("/", "-"))


def save_examples(result: AdversarialResult, folder: Path, fmt: str = "png") -> list[Path]:
    """Write result.examples: PNGs (8-bit: perturbations under 1/510 round away) or one exact tensor file."""
    if fmt not in EXAMPLE_FORMATS:
        raise BrainlikeError(f"examples are saved as {' or '.join(EXAMPLE_FORMATS)}, not {fmt!r}")
    if not result.examples:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v for k, v in result.examples.items() if k != "labels"}
    if fmt == "pt":
        path = folder / "adversarial_examples.pt"
        with atomic_path(path) as partial:
            torch.save({**tensors, "labels": torch.tensor(result.examples["labels"])}, partial)
        return [path]
    written = []
    for key, images in tensors.items():
        for index, image in enumerate(images):
            path = folder / f"{index:03d}_{_file_name(key)}.png"
            pixels = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            with atomic_path(path) as partial:
                Image.fromarray(pixels).save(partial, format="PNG")
            written.append(path)
    return written


def _example_figure(result: AdversarialResult, rows: int = 4):
    largest = {}
    for b in result.budgets:
        if b.key in result.examples and b.epsilon > 0:
            largest[b.norm] = b.key
    shown = {key: result.examples[key][:rows].permute(0, 2, 3, 1).numpy() for key in largest.values()}
    clean = result.examples["clean"][:rows].permute(0, 2, 3, 1).numpy()
    return example_grid(clean, shown, title=f"{result.model}: adversarial examples ({result.objectives[0]} readout)")


def write_adversarial_report(
    result: AdversarialResult,
    folder: str | Path,
    *,
    baselines: Iterable[str | Path] = (),
    details: Mapping | None = None,
    examples_format: str = "png",
) -> Path:
    """Write report.json, report.md, the accuracy-vs-budget figure (next to `baselines`: other adversarial
    report folders or report.json files), per-step curves for recurrent models and example images."""
    folder = Path(folder)
    curves = [read_curves(b) for b in baselines]
    report = Report(folder, f"White-box adversarial robustness of {result.model}")
    report.data.update({**(details or {}), **_summary_json(result), "baselines": [c["name"] for c in curves]})
    report.add_section("Settings", _settings_text(result))
    for objective in result.objectives:
        heading = "last readout" if objective == "last" else "mean loss over all readouts"
        report.add_section(f"Top-1 under attack on the {heading} (last readout step)", _table(result, objective))
    report.add_figure("adversarial_budgets", _budget_figure(result, curves), caption="top-1 against the budget")
    if result.readout_steps > 1:
        for objective in result.objectives:
            per_step = {b.key: [100 * a for a in result.top1(b.key, objective)] for b in result.budgets}
            clean = [100 * a for a in result.clean_top1()]
            figure = accuracy_per_step(per_step, clean=clean, title=f"{result.model}: attack on {objective} readout")
            report.add_figure(f"adversarial_steps_{objective}", figure, caption=f"top-1 per readout step ({objective})")
    if result.examples:
        saved = save_examples(result, folder / "examples", examples_format)
        report.data["examples"] = [p.relative_to(folder).as_posix() for p in saved]
        stored = "as 8-bit PNGs (perturbations under 1/510 round away; save as pt for exact tensors)"
        report.add_section(
            "Examples",
            f"The first {len(result.examples['clean'])} images are in examples/, "
            + (stored if examples_format == "png" else "as one tensor file, adversarial_examples.pt (torch.load)")
            + ".",
        )
        report.add_figure("adversarial_examples", _example_figure(result), caption="example adversarial images")
    return report.write()


def adversarial_report(
    model: str | nn.Module,
    output: str | Path,
    *,
    data: str | Path,
    split: str = "val",
    pretrained: bool | str = True,
    budgets: str | Budget | Sequence[str | Budget] = "vonenet",
    steps: int | None = None,
    relative_step: float | None = None,
    restarts: int = 0,
    eot_samples: int | None = None,
    noise_evaluations: int | None = None,
    objectives: Iterable[str] | None = None,
    limit: int | None = None,
    examples: int = 8,
    examples_format: str = "png",
    baselines: Iterable[str | Path] = (),
    seed: int = 0,
    batch_size: int = 64,
    workers: int | None = None,
    precision: str = "fp32",
    device: str = "auto",
    skip_bad: bool = False,
    progress: bool = True,
    **model_config,
) -> Path:
    """`brainlike adversarial`: attack a model (a module, or a registered name built with `pretrained`) on
    a dataset split and write a report folder to `output`; see `measure_adversarial` for the options."""
    resolve_budgets(budgets, steps=steps, relative_step=relative_step)  # fail before the attack, not after
    baselines = list(baselines)
    for baseline in baselines:
        read_curves(baseline)  # fail before the attack, not after
    if examples_format not in EXAMPLE_FORMATS:
        raise BrainlikeError(f"examples are saved as {' or '.join(EXAMPLE_FORMATS)}, not {examples_format!r}")
    dataset = open_dataset(data, split, skip_bad=skip_bad)
    model, settings = build_for_dataset(model, dataset, pretrained=pretrained, **model_config)
    result = measure_adversarial(
        model,
        dataset,
        budgets=budgets,
        steps=steps,
        relative_step=relative_step,
        restarts=restarts,
        eot_samples=eot_samples,
        noise_evaluations=noise_evaluations,
        objectives=objectives,
        limit=limit,
        examples=examples,
        seed=seed,
        batch_size=batch_size,
        workers=workers,
        precision=precision,
        input_size=settings.get("input_size"),
        preprocessing=settings.get("preprocessing"),
        device=device,
        progress=progress,
    )
    details = {"data": str(data), "split": split, "pretrained": str(pretrained), "seed": seed}
    return write_adversarial_report(
        result, output, baselines=baselines, details=details, examples_format=examples_format
    )
