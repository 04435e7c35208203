"""`brainlike demo`: the main jobs on data that ships with the installed packages, in one report folder.

Each step is a few library calls whose reports land in a sub-folder; the top report includes them. Weights
are used only when already in the cache (otherwise the model is random and the report says so).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainlike.analysis.behaviour import behaviour_report
from brainlike.analysis.features import extract_features, load_layer
from brainlike.analysis.robustness import robustness_report
from brainlike.analysis.rsa import compare_rdms, rdm
from brainlike.analysis.scorecard import scorecard_report
from brainlike.analysis.similarity import similarity_report
from brainlike.analysis.v1 import v1_report
from brainlike.anatomy.fit import fit_system, fit_to_folder
from brainlike.anatomy.spec import show_folder
from brainlike.anatomy.system import reference_system
from brainlike.classify import classify_steps
from brainlike.data.geirhos import sample_stimuli
from brainlike.data.photos import embedded_photos
from brainlike.layers import VOneBlock, sample_gabor_params, v1_histograms
from brainlike.registry import create_model, model_card
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.gabor import histogram_comparison, kernel_grid
from brainlike.reports.figures.rsa import rdm_figure
from brainlike.summary import model_info
from brainlike.training import load_recipe, train
from brainlike.weights import cached_path


@dataclass(frozen=True)
class Settings:
    """How much work each step does; `QUICK` is the reduced setting the test suite runs."""

    digits_model: str = "bl_net_32"
    digits_size: int = 16
    epochs: int = 12
    corruptions: tuple[str, ...] = ("gaussian_noise", "fog")
    severities: tuple[int, ...] = (1, 3)
    v1_units: int = 100
    info_models: tuple[str, ...] = ("cornet_z", "cornet_s", "blt_vs_ecoset_128")
    behaviour_model: str = "blt_vs_ecoset_128"
    behaviour_images: int | None = None  # None: the shipped sample (the 14 cue-conflict images Ecoset covers)
    scorecard_images: int = 100


FULL = Settings()
QUICK = Settings(
    epochs=1,
    corruptions=("fog",),
    severities=(1,),
    v1_units=20,
    info_models=("cornet_z",),
    behaviour_images=4,
    scorecard_images=40,
)

# Tripp's 10-population V1-V2-V4 system: the original CALC code reached a cost of 0.2599586 after
# 870.8 s of Adam (calc.md).
CALC_REFERENCE = ("integration_test_small_V1_V2_V4_laminar", 0.2599586, 870.8)
CALC_DEMO_SYSTEM = {
    "input": {"name": "INPUT", "pixels": 32, "pixel_degrees": 0.25, "channels": 3},
    "populations": [
        {"name": "V1", "n": 32 * 32 * 16, "e": 50, "w": 0.6},
        {"name": "V2", "n": 16 * 16 * 32, "e": 100, "w": 1.2},
        {"name": "V4", "n": 8 * 8 * 64, "e": 100, "w": 2.4},
    ],
    "projections": [
        {"pre": "INPUT", "post": "V1", "f": 1.0},
        {"pre": "V1", "post": "V2", "f": 1.0},
        {"pre": "V1", "post": "V4", "f": 0.3},
        {"pre": "V2", "post": "V4", "f": 0.7},
    ],
}


def demo_weights(name: str) -> bool | str:
    """The card's default weights if they are cached (no download in the demo), else random weights."""
    card = model_card(name)
    tag = card.default_weights
    return tag if tag and cached_path(card.weights[tag]).is_file() else False


def weights_note(pretrained: bool | str) -> str:
    return f"pretrained ({pretrained})" if pretrained else "random weights (published weights not in the cache)"


def models_step(report: Report, settings: Settings) -> None:
    """Areas, steps, shapes, FLOPs, receptive fields and time bins of a few models."""
    for name in settings.info_models:
        report.add_section(f"Model {name}", f"```\n{model_info(name)}\n```")


def features_step(report: Report, settings: Settings) -> None:
    """Features of CORnet-Z V1 and IT on the embedded photos, streamed to HDF5, and their RDMs."""
    photos = report.folder / "photos"
    photos.mkdir(exist_ok=True)
    for name, image in embedded_photos().items():
        image.save(photos / f"{name}.png")
    pretrained = demo_weights("cornet_z")
    path = extract_features(
        "cornet_z",
        photos,
        report.folder / "features.h5",
        areas=["V1", "IT"],
        pretrained=pretrained,
        overwrite=True,
        progress=False,
    )
    layers = {area: load_layer(path, area, 0) for area in ("V1", "IT")}
    rdms = {f"{area} ({layer.attrs['time_bin_ms'][0]:g} ms)": rdm(layer.values) for area, layer in layers.items()}
    labels = [Path(s).stem for s in layers["V1"].stimulus.values]
    report.add_figure("rdms_v1_it", rdm_figure(rdms, labels), caption="RDMs (1 - Pearson r) of CORnet-Z V1 and IT")
    similarity = compare_rdms(*rdms.values(), "spearman")
    report.add_section(
        "Features and RDMs (CORnet-Z, V1 vs IT)",
        f"{weights_note(pretrained)}; average-pooled features of {len(labels)} photos in `features.h5`. "
        f"Spearman correlation between the V1 and IT RDMs: {similarity:.3f}.",
    )
    report.data["features"] = {"stimuli": labels, "rdm_spearman_v1_it": similarity}


def vone_step(report: Report, settings: Settings) -> None:
    """The VOne block's Gabor bank, and its sampled V1 parameters against the empirical histograms."""
    block = VOneBlock(noise_mode=None)
    kernels = block.simple_conv_q0.weight.sum(dim=1)
    shown = [*range(16), *range(block.simple_channels, block.simple_channels + 16)]
    titles = [f"{'S' if c < block.simple_channels else 'C'}{c}" for c in shown]
    figure = kernel_grid([kernels[c].numpy() for c in shown], titles)
    report.add_figure("vone_gabor_bank", figure, caption="VOne Gabor bank (q0): 16 simple, 16 complex cells")
    draws, h = sample_gabor_params(10_000, seed=0), v1_histograms()
    theta = np.where(draws["theta"] >= 157.5, draws["theta"] - 180, draws["theta"])
    panels = []
    for label, values, edges, counts in [
        ("orientation (deg)", theta, h["orientation"]["bins_deg"], h["orientation"]["counts"]),
        ("spatial frequency (cpd)", draws["sf"], h["spatial_frequency"]["bins_cpd"], h["spatial_frequency"]["counts"]),
        ("nx (periods)", draws["nx"], h["nx_ny_joint"]["bins"], h["nx_ny_joint"]["marginal_nx_counts"]),
        ("ny (periods)", draws["ny"], h["nx_ny_joint"]["bins"], h["nx_ny_joint"]["marginal_ny_counts"]),
    ]:
        empirical = np.asarray(counts, dtype=float) / np.sum(counts)
        panels.append((label, edges, empirical, np.histogram(values, bins=edges)[0] / len(values)))
    report.add_figure("vone_parameters", histogram_comparison(panels), caption="10k sampled Gabor parameters")
    rows = [[label, f"{np.abs(sampled - empirical).max():.4f}"] for label, _, empirical, sampled in panels]
    report.add_section(
        "V1 front end: Gabor parameters, sampled vs empirical",
        markdown_table(["parameter", "largest bin difference"], rows),
    )


def recurrent_step(report: Report, settings: Settings) -> None:
    """BLT-VS (128 px, biological unrolling): its top-1 on the photos at every readout step."""
    pretrained = demo_weights("blt_vs_ecoset_128")
    files = sorted((report.folder / "photos").glob("*.png"))
    results = list(classify_steps("blt_vs_ecoset_128", files, pretrained=pretrained, topk=1, steps="all"))
    steps = len(results[0][1])
    rows = [
        [Path(path).stem, *(f"{per_step[t][0][0]} ({per_step[t][0][1]:.3f})" for t in range(steps))]
        for path, per_step in results
    ]
    report.add_section(
        "BLT-VS top-1 per readout step",
        f"{weights_note(pretrained)}.\n\n" + markdown_table(["photo", *(f"readout {t}" for t in range(steps))], rows),
    )


def comparison_step(report: Report, settings: Settings) -> None:
    """Models side by side: CKA between CORnet-Z and CORnet-S areas on the photos, and a small scorecard."""
    photos = report.folder / "photos"  # written by features_step
    files = {
        name: extract_features(
            name,
            photos,
            report.folder / f"features_{name}.h5",
            pretrained=demo_weights(name),
            overwrite=True,
            progress=False,
        )
        for name in ("cornet_z", "cornet_s")
    }
    folder = similarity_report(
        files["cornet_z"],
        files["cornet_s"],
        report.folder / "similarity",
        bootstrap=50,
        labels=("cornet_z", "cornet_s"),
        progress=False,
    )
    report.include(folder, heading="CORnet-Z vs CORnet-S, linear CKA", key="similarity")
    model = settings.digits_model
    card = scorecard_report(
        {f"{model} (trained)": f"{model}={report.folder / 'training'}", f"{model} (untrained)": f"{model}=false"},
        report.folder / "scorecard",
        suite="accuracy,robustness",
        corruptions=settings.corruptions,
        severities=settings.severities,
        limit=settings.scorecard_images,
        progress=False,
    )
    report.include(card, heading="Scorecard", key="scorecard")
    report.add_section(
        "Scorecard: the page", "`scorecard/report.html`: the same table (sortable) and figures in one file."
    )


def training_step(report: Report, settings: Settings) -> None:
    """Train a small recurrent model on the embedded digits; accuracy per readout step on held-out digits."""
    recipe = load_recipe("digits").replace(
        input_size=settings.digits_size, batch_size=64, lr=5e-3, epochs=settings.epochs
    )
    started = time.perf_counter()
    result = train(
        settings.digits_model,
        "digits",
        recipe=recipe,
        output=report.folder / "training",
        progress=False,
        overwrite=True,
    )
    seconds = time.perf_counter() - started
    report.add_section(
        "Training on the embedded digits",
        f"`{settings.digits_model}` ({len(result.val.top1)} readout steps) from scratch, recipe `digits` at "
        f"{settings.digits_size} px for {result.epochs} epochs ({result.steps} steps, {seconds:.0f} s), scored on "
        f"{result.val.images} held-out digits: top-1 {100 * result.val.top1[-1]:.1f} % at the last readout step "
        f"(chance 10 %). Run folder: `training/` (checkpoint, log.csv, TensorBoard, report).",
    )
    report.include(result.output / "report", heading="Training on the embedded digits", key="training")
    report.data["training"].update(model=settings.digits_model, seconds=seconds)


def robustness_step(report: Report, settings: Settings) -> None:
    """Robustness of the digits model trained above to common corruptions."""
    folder = robustness_report(
        settings.digits_model,
        report.folder / "robustness",
        data="digits",
        pretrained=report.folder / "training",
        corruptions=settings.corruptions,
        severities=settings.severities,
        progress=False,
    )
    report.include(folder, heading="Robustness on the embedded digits", key="robustness")


def calc_step(report: Report, settings: Settings) -> None:
    """CALC: a CNN fitted to a 3-area anatomy, and Tripp's reference system against the original's cost."""
    system = report.folder / "calc_system.json"
    system.write_text(json.dumps(CALC_DEMO_SYSTEM))
    folder = fit_to_folder(str(system), report.folder / "calc", max_cumulative_stride=4, overwrite=True)
    show_folder(folder)
    report.include(folder, heading="CALC", key="calc")
    name, original_cost, original_seconds = CALC_REFERENCE
    reference = fit_system(reference_system(name))
    report.add_section(
        "CALC: the reference system",
        f"Tripp's 10-population system: cost {reference.total:.7f} in {reference.seconds:.2f} s "
        f"(the original: {original_cost} after {original_seconds} s of Adam).",
    )


def v1_step(report: Report, settings: Settings) -> None:
    """In-silico V1 electrophysiology of CORnet-Z: the grating panel scored against primate data."""
    model = create_model("cornet_z", pretrained=demo_weights("cornet_z"))
    folder = v1_report(model, report.folder / "v1", max_units=settings.v1_units)
    report.include(folder, heading="V1 electrophysiology", key="v1")


def behaviour_step(report: Report, settings: Settings) -> None:
    """Shape bias, error consistency and per-step decisions of BLT-VS against 10 human observers."""
    pretrained = demo_weights(settings.behaviour_model)
    folder = behaviour_report(
        settings.behaviour_model,
        report.folder / "behaviour",
        experiment="cue-conflict",
        stimuli=sample_stimuli(),
        pretrained=pretrained,
        limit=settings.behaviour_images,
        progress=False,
    )
    report.include(folder, heading="Behaviour against human observers", key="behaviour")
    report.data["behaviour"]["weights"] = weights_note(pretrained)


STEPS = [
    models_step,
    features_step,
    vone_step,
    recurrent_step,
    training_step,
    robustness_step,
    comparison_step,
    calc_step,
    v1_step,
    behaviour_step,
]


def run_demo(output: str | Path = "brainlike-demo", settings: Settings = FULL) -> Path:
    report = Report(Path(output), "brainlike demo")
    timings = {}
    for step in STEPS:
        started = time.perf_counter()
        print(f"[demo] {step.__doc__.splitlines()[0]}", flush=True)
        step(report, settings)
        timings[step.__name__] = round(time.perf_counter() - started, 2)
    report.data["seconds_per_step"] = timings
    return report.write()
