"""`brainlike extract` and `compare`: features of many images to disk, and scores against neural data."""

from __future__ import annotations

from pathlib import Path

from brainlike.cli.options import add_running, add_seed, parse_steps
from brainlike.recording import POOLS


def add_extract(sub) -> None:
    p = sub.add_parser("extract", help="per-area, per-step features of many images to an HDF5 file")
    p.add_argument("name")
    p.add_argument("stimuli", help="a folder of images (searched recursively) or a text file of image paths")
    p.add_argument("-o", "--output", required=True, help="the HDF5 file; an interrupted one is resumed")
    p.add_argument("--areas", nargs="+", help="default: all areas")
    p.add_argument("--steps", nargs="+", default=["all"], help="'all' (default) or step numbers, -1 = last")
    p.add_argument(
        "--pool",
        choices=POOLS,
        default="avg",
        help="global pooling over space (default avg); none keeps (channel, y, x)",
    )
    add_running(p)
    add_seed(p)
    p.add_argument("--overwrite", action="store_true", help="start again instead of resuming")
    p.set_defaults(handler=_extract)


def _extract(args) -> None:
    from brainlike.analysis.features import extract_features
    from brainlike.runtime.distributed import rank_and_world

    path = extract_features(
        args.name,
        args.stimuli,
        args.output,
        areas=args.areas,
        steps=parse_steps(args.steps),
        pool=args.pool,
        batch_size=args.batch_size,
        workers=args.workers,
        pretrained=args.pretrained,
        precision=args.precision,
        device=args.device,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    if rank_and_world()[0] == 0:
        print(f"features written to {path}")


def add_compare(sub) -> None:
    p = sub.add_parser("compare", help="score extracted features against neural data (ridge, PLS or RSA)")
    p.add_argument("features", help="an HDF5 file from `brainlike extract`")
    p.add_argument(
        "neural",
        help=".npz / .h5 (stimulus_id, responses[, time_bin_ms]) or .nc "
        "(dims stimulus, neuroid[, repetition][, time_bin])",
    )
    p.add_argument("--method", choices=["ridge", "pls", "rsa"], default="ridge")
    p.add_argument("-o", "--output", help="report folder (default: FEATURES-vs-NEURAL-METHOD)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (ridge, pls)")
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap samples over stimuli (rsa)")
    add_seed(p)
    p.set_defaults(handler=_compare)


def _compare(args) -> None:
    from brainlike.analysis.neural import compare_report

    output = args.output or f"{Path(args.features).stem}-vs-{Path(args.neural).stem}-{args.method}"
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
