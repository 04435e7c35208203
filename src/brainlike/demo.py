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
    architecture, activity, weight_rows, data = [], [], [], {}
    for name in ("cornet_z", "cornet_r", "cornet_rt", "cornet_s"):
        model, weights = demo_model(name)
        card = model.card
        names, x = photo_batch(card.preprocessing, card.input_size)
        stats = model_stats(model)
        recorded = record(model, x)
        with torch.no_grad():
            top1 = model(x).argmax(dim=1).tolist()
        for area, row in zip(card.areas, stats.areas):
            architecture.append(
                [
                    name,
                    area.name,
                    area.steps,
                    "x".join(map(str, row.shape)),
                    f"{row.flops / 1e9:.3f}",
                    f"{'≥' if row.rf_clipped else ''}{row.rf_pixels}",
                    f"{row.rf_degrees:.2f}",
                ]
            )
        per_area = {}
        for area in card.areas:
            steps = []
            for t, act in enumerate(recorded[area.name]):
                entry = {
                    "mean": act.mean().item(),
                    "std": act.std().item(),
                    "active": (act > 0).float().mean().item(),
                    "max": act.max().item(),
                    "image_dependent": t not in area.silent_steps,
                }
                steps.append(entry)
                activity.append(
                    [
                        name,
                        area.name,
                        t,
                        f"{entry['mean']:.4f}",
                        f"{entry['std']:.4f}",
                        f"{entry['active']:.3f}",
                        "no" if t in area.silent_steps else "yes",
                    ]
                )
            per_area[area.name] = steps
        data[name] = {
            "weights": weights,
            "params": stats.params,
            "flops": stats.flops,
            "areas": [r.__dict__ for r in stats.areas],
            "activity": per_area,
            "top1_class_index": dict(zip(names, top1)),
        }
        weight_rows.append([name, weights, f"{stats.params:,}", f"{stats.flops / 1e9:.2f}"])
    report.data["cornet"] = {"images": names, "models": data}
    report.add_section("CORnet models", markdown_table(["model", "weights", "parameters", "GFLOPs"], weight_rows))
    report.add_section(
        "CORnet architectures (224 px, 8 degrees)",
        markdown_table(["model", "area", "steps", "output", "GFLOPs", "RF px", "RF deg"], architecture),
    )
    report.add_section(
        "CORnet activations on the embedded photos",
        markdown_table(["model", "area", "step", "mean", "std", "fraction > 0", "depends on image"], activity),
    )


def features_step(report: Report) -> None:
    """Features of V1 and IT of CORnet-Z on the embedded photos, streamed to HDF5, and their RDMs."""
    import matplotlib.pyplot as plt

    from brainlike.analysis.features import extract_features, load_layer
    from brainlike.analysis.rsa import compare_rdms, rdm

    model, weights = demo_model("cornet_z")
    folder = report.folder / "photos"
    folder.mkdir(exist_ok=True)
    for name, image in embedded_photos().items():
        image.save(folder / f"{name}.png")
    path = extract_features(
        model, folder, report.folder / "features.h5", areas=["V1", "IT"], batch_size=4, overwrite=True, progress=False
    )
    layers = {area: load_layer(path, area, 0) for area in ("V1", "IT")}
    rdms = {area: rdm(layer.values) for area, layer in layers.items()}
    names = [Path(s).stem for s in layers["V1"].stimulus.values]
    figure, axes = plt.subplots(1, 2, figsize=(9, 4))
    for axis, (area, matrix) in zip(axes, rdms.items()):
        image = axis.imshow(matrix, cmap="magma")
        axis.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        axis.set_yticks(range(len(names)), names, fontsize=7)
        axis.set_title(f"{area} ({layers[area].attrs['time_bin_ms'][0]:g} ms): 1 - Pearson r", fontsize=9)
        figure.colorbar(image, ax=axis, fraction=0.046)
    report.add_figure("rdms_v1_it", figure, caption="RDMs of CORnet-Z V1 (early) and IT (late) on the photos")
    similarity = compare_rdms(rdms["V1"], rdms["IT"], "spearman")
    report.add_section(
        "Features and RDMs (CORnet-Z, V1 vs IT)",
        (
            f"Weights: {weights}. Average-pooled features of {len(names)} photos written to `features.h5` "
            f"(V1 {layers['V1'].shape[1]} channels, IT {layers['IT'].shape[1]}). Spearman correlation between "
            f"the V1 and IT RDMs: {similarity:.3f}."
        ),
    )
    report.data["features"] = {"weights": weights, "stimuli": names, "rdm_spearman_v1_it": similarity, "rdms": rdms}


def v1_frontend_step(report: Report) -> None:
    """The VOne block's Gabor bank and its sampled V1 parameters next to the empirical histograms."""
    import matplotlib.pyplot as plt
    import numpy as np

    from brainlike.layers.gabor import VOneBlock, sample_gabor_params, v1_histograms

    block = VOneBlock(noise_mode=None)
    kernels = block.simple_conv_q0.weight.sum(dim=1)
    shown = [*range(16), *range(block.simple_channels, block.simple_channels + 16)]
    figure, axes = plt.subplots(4, 8, figsize=(10, 5.4))
    for axis, channel in zip(axes.flat, shown):
        axis.imshow(kernels[channel], cmap="gray")
        axis.set_axis_off()
        axis.set_title(f"{'S' if channel < block.simple_channels else 'C'}{channel}", fontsize=7)
    report.add_figure("vone_gabor_bank", figure, caption="VOne block Gabor bank (q0): 16 simple, 16 complex cells")

    draws = sample_gabor_params(10_000, seed=0)
    h = v1_histograms()
    theta = np.where(draws["theta"] >= 157.5, draws["theta"] - 180, draws["theta"])
    panels = [
        ("orientation (deg)", theta, h["orientation"]["bins_deg"], h["orientation"]["counts"]),
        ("spatial frequency (cpd)", draws["sf"], h["spatial_frequency"]["bins_cpd"], h["spatial_frequency"]["counts"]),
        ("nx (periods)", draws["nx"], h["nx_ny_joint"]["bins"], h["nx_ny_joint"]["marginal_nx_counts"]),
        ("ny (periods)", draws["ny"], h["nx_ny_joint"]["bins"], h["nx_ny_joint"]["marginal_ny_counts"]),
    ]
    figure, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    rows, fractions = [], {}
    for axis, (label, values, edges, counts) in zip(axes, panels):
        empirical = np.asarray(counts, dtype=float) / np.sum(counts)
        sampled = np.histogram(values, bins=edges)[0] / len(values)
        positions = np.arange(len(empirical))
        axis.bar(positions - 0.2, empirical, width=0.4, label="empirical")
        axis.bar(positions + 0.2, sampled, width=0.4, label="sampled (10k)")
        axis.set_xticks(positions, [f"{a:.3g}-{b:.3g}" for a, b in zip(edges[:-1], edges[1:])], rotation=60, fontsize=7)
        axis.set_title(label, fontsize=9)
        fractions[label] = {"edges": edges, "empirical": empirical, "sampled": sampled}
        rows.append([label, f"{np.abs(sampled - empirical).max():.4f}"])
    axes[0].legend(fontsize=7)
    report.add_figure(
        "vone_parameter_histograms",
        figure,
        caption="Sampled Gabor parameters (10k draws) against the empirical V1 histograms",
    )
    report.data["v1_frontend"] = {"histograms": fractions, "channels": kernels.shape[0]}
    report.add_section(
        "V1 front end: Gabor parameters, sampled vs empirical",
        markdown_table(["parameter", "largest difference in bin fraction"], rows),
    )


def blt_vs_step(report: Report) -> None:
    """BLT-VS (128 px, biological unrolling) on the embedded photos: readouts per step, arrival per area."""
    from brainlike.labels import class_names
    from brainlike.summary import flops_per_step

    model, weights = demo_model("blt_vs_ecoset_128")
    card = model.card
    names, x = photo_batch(card.preprocessing, card.input_size)
    with torch.no_grad():
        readouts = model.readouts(x)
    labels = class_names(card.labels)
    final = readouts[-1].argmax(dim=1)
    readout_rows, per_step = [], []
    for step, logits in zip(model.readout_steps, readouts):
        probabilities = logits.softmax(dim=1)
        top = probabilities.argmax(dim=1)
        agree = (top == final).float().mean().item()
        per_step.append(
            {
                "step": step,
                "top1": [labels[i] for i in top.tolist()],
                "confidence": probabilities.max(dim=1).values.tolist(),
                "agrees_with_last": agree,
            }
        )
        readout_rows.append(
            [
                step,
                ", ".join(labels[i] for i in top[:4].tolist()),
                f"{probabilities.max(dim=1).values.mean().item():.3f}",
                f"{agree:.2f}",
            ]
        )
    # An area has arrived once its BU map differs between photos; the card says when that should be.
    expected_steps = {a.name: next(t for t in range(a.steps) if t not in a.silent_steps) for a in card.areas}
    recorded = record(model, x, stream="all", steps=range(max(expected_steps.values()) + 1))
    arrival_rows, arrival = [], {}
    for area in card.areas:
        maps = recorded[f"{area.name}.bu"]
        measured = next((t for t, m in enumerate(maps) if not torch.equal(m[0], m[1])), None)
        expected = expected_steps[area.name]
        arrival[area.name] = {"measured": measured, "card": expected}
        arrival_rows.append([area.name, expected, measured, "yes" if measured == expected else "NO"])
    flops = flops_per_step(model, card.input_size)
    report.data["blt_vs"] = {
        "model": card.name,
        "weights": weights,
        "images": names,
        "readouts": per_step,
        "arrival": arrival,
        "flops_per_step": flops,
    }
    report.add_section("BLT-VS: weights", f"{card.name}: {weights}")
    report.add_section(
        "BLT-VS readouts per step (first 4 photos' top-1; mean confidence)",
        markdown_table(["step", "top-1 (first photos)", "mean max prob", "agrees with last step"], readout_rows),
    )
    report.add_section(
        "BLT-VS arrival of image information per area",
        markdown_table(["area", "card (first image-dependent step)", "measured", "match"], arrival_rows)
        + "\n\nGFLOPs per step (1 image): "
        + " ".join(f"{f / 1e9:.2f}" for f in flops),
    )


def _small_training_model() -> tuple[str, str]:
    """A registered recurrent model of at most 64 px with several readouts, else CORnet-Z as a stand-in."""
    from brainlike.registry import list_models

    for name in list_models():
        card = model_card(name)
        if card.readout_steps > 1 and card.input_size <= 64:
            return name, f"{name}: {card.readout_steps} readout steps"
    return "cornet_z", "cornet_z (no small recurrent model is registered yet, so it has one readout step)"


def training_step(report: Report) -> None:
    """Train a small model for one epoch on the embedded digits and show its accuracy per readout step."""
    from brainlike.training import load_recipe, train
    from brainlike.training.evaluation import accuracy_figure, evaluation_table

    name, note = _small_training_model()
    size = min(model_card(name).input_size, 16)
    recipe = load_recipe("digits").replace(image_size=size, batch_size=64, lr=5e-3)
    torch.manual_seed(0)
    start = time.perf_counter()
    result = train(name, "digits", recipe=recipe, output=report.folder / "training", progress=False)
    seconds = time.perf_counter() - start
    val = result.val
    report.add_figure(
        "training_accuracy_per_step",
        accuracy_figure(val, f"{name} on digits, 1 epoch"),
        caption="validation accuracy per readout step after one epoch on the digits",
    )
    report.add_section(
        "Training on the embedded digits",
        (
            f"Model: {note}. Recipe `digits` at {size} px, batch 64, Adam 5e-3, one epoch ({result.steps} steps, "
            f"{seconds:.0f} s); chance is 10 %. Run folder: `training/` (log.csv, TensorBoard, checkpoint).\n\n"
            + evaluation_table(val)
        ),
    )
    report.data["training"] = {
        "model": name,
        "image_size": size,
        "steps": result.steps,
        "seconds": seconds,
        "val_loss": val.loss,
        "top1": val.top1,
        "top5": val.top5,
    }


def robustness_step(report: Report) -> None:
    """Robustness of the digits model trained above to two corruptions at two severities."""
    from brainlike.analysis.robustness import robustness

    name = report.data["training"]["model"]
    folder = report.folder / "robustness"
    result = robustness(
        name,
        "digits",
        pretrained=report.folder / "training",
        output=folder,
        corruptions=["gaussian_noise", "fog"],
        severities=[1, 3],
        progress=False,
    )
    rows = [
        [c, f"{100 * result.clean[-1]:.1f}"] + [f"{100 * result.top1[c][s][-1]:.1f}" for s in (1, 3)]
        for c in result.top1
    ]
    report.add_section(
        "Robustness on the embedded digits",
        (
            f"{name} from the training step, {result.images} validation digits; full report in `robustness/`.\n\n"
            + markdown_table(["corruption", "clean top-1 %", "severity 1 top-1 %", "severity 3 top-1 %"], rows)
        ),
    )
    report.data["robustness"] = {"model": name, "clean": result.clean, "top1": result.top1}


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


def calc_step(report: Report) -> None:
    """CALC: fit anatomy to a CNN (Tripp's 10-population system; a 3-area system built as a network)."""
    from brainlike.anatomy.fit import fit_system
    from brainlike.anatomy.spec import spec_from_fit
    from brainlike.anatomy.system import System, reference_system
    from brainlike.models.calc import Backbone

    reference = fit_system(reference_system("integration_test_small_V1_V2_V4_laminar"))
    small = fit_system(System.from_dict(CALC_DEMO_SYSTEM), max_cumulative_stride=4)
    spec = spec_from_fit(small)
    backbone = Backbone(spec, output="V4").eval()
    with torch.no_grad():
        shape = tuple(backbone(torch.randn(1, 3, 32, 32)).shape)
    rows = [[c.name, c.c, c.stride, c.kernel, c.sigma] for c in spec.connections]
    report.data["calc"] = {
        "reference_cost": reference.total,
        "reference_seconds": reference.seconds,
        "small_cost": small.total,
        "small_terms": small.terms,
        "output_shape": shape,
        "params": sum(p.numel() for p in backbone.parameters()),
    }
    report.add_section(
        "CALC",
        f"Tripp's 10-population V1-V2-V4 system: cost {reference.total:.7f} in "
        f"{reference.seconds:.2f} s (the original: 0.2599586 after 870.8 s of Adam).\n\n"
        f"A 3-area system at 32 px, cost {small.total:.4g}, built as a backbone with output "
        f"{shape}:\n\n" + markdown_table(["connection", "c", "stride", "kernel px", "sigma"], rows),
    )


def v1_panel_step(report: Report) -> None:
    """In-silico V1 electrophysiology of CORnet-Z: the grating panel scored against primate data."""
    from brainlike.analysis.v1.measure import measure_v1
    from brainlike.analysis.v1.report import add_v1_sections

    model, weights = demo_model("cornet_z")
    # 100 units keep the analysis and figures light; the stimulus panel itself is the full protocol.
    result = measure_v1(model, area="V1", max_units=100, seed=0, batch_size=64)
    add_v1_sections(report, result, weights=weights)


STEPS = [
    cornet_step,
    features_step,
    v1_frontend_step,
    blt_vs_step,
    training_step,
    robustness_step,
    calc_step,
    v1_panel_step,
]


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
