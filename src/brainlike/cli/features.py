"""`brainlike extract` and `compare`: features of many images to disk, and scores against neural data."""

from __future__ import annotations

from pathlib import Path

from brainlike.cli.choices import EXTRACT_PRECISIONS, POOLS
from brainlike.cli.options import add_running, add_seed, parse_steps

# the --stream words and the stream names of the two-stream models (BLT-VS)
STREAMS = {"bottom-up": "bu", "top-down": "td", "all": "all"}


def add_extract(sub) -> None:
    p = sub.add_parser("extract", help="per-area, per-step features of many images to an HDF5 file")
    p.add_argument("name", help="a registered model name (brainlike models), torchvision:NAME or timm:NAME")
    p.add_argument("stimuli", help="a folder of images (searched recursively) or a text file of image paths")
    p.add_argument("-o", "--output", required=True, help="the HDF5 file; an interrupted one is resumed")
    p.add_argument(
        "--areas",
        nargs="+",
        help="card areas to extract (default: all, unless --layers or --readouts is given without --stream)",
    )
    p.add_argument(
        "--layers",
        nargs="+",
        metavar="PATH[,PATH...]",
        help="module paths to extract (model.named_modules(); space- or comma-separated), one step per call",
    )
    p.add_argument(
        "--readouts", action="store_true", help="extract the logits of every readout step (stored as area 'readout')"
    )
    p.add_argument(
        "--stream",
        choices=list(STREAMS),
        help="two-stream models (BLT-VS): the bottom-up, top-down or both streams of each area "
        "(default: the first stream, under the area's name)",
    )
    p.add_argument(
        "--steps",
        nargs="+",
        default=["all"],
        help="'all' (default) or step numbers, -1 = last; for areas, layers and readouts alike",
    )
    p.add_argument(
        "--pool",
        choices=POOLS,
        default="avg",
        help="global pooling over space (default avg); none keeps (channel, y, x)",
    )
    add_running(p, precisions=EXTRACT_PRECISIONS)
    add_seed(p)
    p.add_argument("--skip-bad", action="store_true", help="give unreadable images NaN features instead of stopping")
    p.add_argument("--overwrite", action="store_true", help="start again instead of resuming")
    p.set_defaults(handler=_extract)


def _paths(values: list[str] | None) -> list[str] | None:
    return None if values is None else [p for v in values for p in v.split(",") if p]


def _extract(args) -> None:
    from brainlike.analysis.features import extract_features, skipped_stimuli
    from brainlike.runtime.distributed import rank_and_world

    path = extract_features(
        args.name,
        args.stimuli,
        args.output,
        areas=args.areas,
        steps=parse_steps(args.steps),
        layers=_paths(args.layers),
        readouts=args.readouts,
        stream=None if args.stream is None else STREAMS[args.stream],
        pool=args.pool,
        batch_size=args.batch_size,
        workers=args.workers,
        pretrained=args.pretrained,
        precision=args.precision,
        device=args.device,
        seed=args.seed,
        skip_bad=args.skip_bad,
        overwrite=args.overwrite,
    )
    if rank_and_world()[0] == 0:
        skipped = skipped_stimuli(path)
        note = f" ({len(skipped)} unreadable, NaN: {', '.join(skipped[:3])}{' ...' if len(skipped) > 3 else ''})"
        print(f"features written to {path}{note if skipped else ''}")


def add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="score extracted features against neural data (ridge, PLS, RSA) or against another model's "
        "features (CKA, RSA, Procrustes)",
    )
    p.add_argument("features", help="an HDF5 file from `brainlike extract`")
    p.add_argument(
        "neural",
        metavar="NEURAL_OR_FEATURES",
        help=".npz / .h5 (stimulus_id, responses[, time_bin_ms]) or .nc "
        "(dims stimulus, neuroid[, repetition][, time_bin]); or a second features file",
    )
    p.add_argument(
        "--method",
        choices=["ridge", "pls", "rsa", "cka", "procrustes"],
        help="against neural data: ridge (default), pls or rsa; between two features files: cka (default), "
        "rsa or procrustes",
    )
    p.add_argument("-o", "--output", help="report folder (default: FEATURES-vs-OTHER-METHOD)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (ridge, pls)")
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap samples over stimuli (rsa, cka, procrustes)")
    p.add_argument("--kernel", choices=["linear", "rbf"], default="linear", help="CKA kernel (default linear)")
    p.add_argument("--debiased", action="store_true", help="CKA from the unbiased HSIC estimator")
    p.add_argument(
        "--bandwidth", type=float, default=1.0, help="RBF sigma as a fraction of the median distance (default 1)"
    )
    p.add_argument(
        "--memory-gb", type=float, default=2.0, help="N x N matrices kept in memory; beyond, in scratch files"
    )
    add_seed(p)
    p.set_defaults(handler=_compare)


def _compare_models(args, output: str) -> None:
    import json

    from brainlike.analysis.similarity import similarity_report

    folder = similarity_report(
        args.features,
        args.neural,
        output,
        method=args.method,
        kernel=args.kernel,
        debiased=args.debiased,
        bandwidth=args.bandwidth,
        bootstrap=args.bootstrap,
        seed=args.seed,
        memory_gb=args.memory_gb,
    )
    for a_layer, b_layer, value in json.loads((folder / "report.json").read_text())["best_matches"]:
        print(f"{a_layer:24s} {b_layer:24s} {value:8.3f}")
    print(f"report written to {folder / 'report.md'}")


def _compare(args) -> None:
    from brainlike.analysis.neural import compare_report
    from brainlike.analysis.similarity import is_features_file
    from brainlike.errors import BrainlikeError

    two_models = is_features_file(args.neural)
    args.method = args.method or ("cka" if two_models else "ridge")
    if two_models == (args.method in ("ridge", "pls")):
        raise BrainlikeError(
            f"{args.method} maps features to neural data; between two features files use --method cka, rsa or "
            "procrustes"
            if two_models
            else f"{args.method} compares two features files and {args.neural} is not one; against neural data "
            "use --method ridge, pls or rsa"
        )
    output = args.output or f"{Path(args.features).stem}-vs-{Path(args.neural).stem}-{args.method}"
    if two_models:
        _compare_models(args, output)
        return
    folder = compare_report(
        args.features,
        args.neural,
        output,
        method=args.method,
        folds=args.folds,
        seed=args.seed,
        bootstrap=args.bootstrap,
    )
    print(f"report written to {folder / 'report.md'}")
