"""The `brainlike` command: one subcommand per library function, and nothing more.

Each subcommand is declared by an `_add_<name>(subparsers)` function that sets `handler` to a
function of the parsed arguments. Errors a user can cause (BrainlikeError) print as one line and
exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from brainlike.errors import BrainlikeError
from brainlike.precision import PRECISIONS
from brainlike.recording import POOLS


def _pretrained(value: str):
    """--pretrained: 'true'/'false', a weight tag, or a path."""
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", "none"):
        return False
    return value


# ------------------------------------------------------------------------------------------ models


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list the registered models")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'cornet*'")
    p.set_defaults(handler=_models)


def _models(args) -> None:
    from brainlike.summary import models_table

    print(models_table(args.pattern))


# -------------------------------------------------------------------------------------------- info


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="card, parameters, FLOPs, shapes and receptive fields of a model")
    p.add_argument("name")
    p.add_argument("--size", type=int, help="input size in pixels (default: the card's)")
    p.set_defaults(handler=_info)


def _info(args) -> None:
    from brainlike.summary import model_info

    print(model_info(args.name, input_size=args.size))


# ---------------------------------------------------------------------------------------- classify


def _add_classify(sub) -> None:
    p = sub.add_parser("classify", help="top-k labels of images")
    p.add_argument("name")
    p.add_argument("images", nargs="+")
    p.add_argument(
        "--pretrained", type=_pretrained, default=True, help="true (default), false, a weight tag or a checkpoint path"
    )
    p.add_argument("--topk", type=int, default=5)
    p.add_argument(
        "--steps",
        choices=["last", "all"],
        default="last",
        help="'all' prints the top-k labels at every readout step of recurrent models",
    )
    p.set_defaults(handler=_classify)


def _classify(args) -> None:
    from brainlike.classify import classify, classify_steps

    if args.steps == "all":
        for path, per_step in classify_steps(args.name, args.images, pretrained=args.pretrained, topk=args.topk):
            print(path)
            for step, predictions in enumerate(per_step):
                print(f"  readout step {step}")
                for label, probability in predictions:
                    print(f"    {probability:6.1%}  {label}")
        return
    for path, predictions in classify(args.name, args.images, pretrained=args.pretrained, topk=args.topk):
        print(path)
        for label, probability in predictions:
            print(f"  {probability:6.1%}  {label}")


# ----------------------------------------------------------------------------------------- extract


def _steps(values: list[str]):
    if values == ["all"]:
        return None
    try:
        return [int(v) for v in values]
    except ValueError:
        raise BrainlikeError(f"--steps takes 'all' or step numbers, not {' '.join(values)}") from None


def _add_extract(sub) -> None:
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
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--workers",
        type=int,
        help="image decoding processes (default: the cores the model's threads leave free, at most 8)",
    )
    p.add_argument(
        "--pretrained", type=_pretrained, default=True, help="true (default), false, a weight tag or a checkpoint path"
    )
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--overwrite", action="store_true", help="start again instead of resuming")
    p.set_defaults(handler=_extract)


def _extract(args) -> None:
    from brainlike.analysis.features import distributed_rank, extract_features

    path = extract_features(
        args.name,
        args.stimuli,
        args.output,
        areas=args.areas,
        steps=_steps(args.steps),
        pool=args.pool,
        batch_size=args.batch_size,
        workers=args.workers,
        pretrained=args.pretrained,
        precision=args.precision,
        device=args.device,
        overwrite=args.overwrite,
    )
    if distributed_rank()[0] == 0:
        print(f"features written to {path}")


# ----------------------------------------------------------------------------------------- compare


def _add_compare(sub) -> None:
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
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_compare)


def _compare(args) -> None:
    from pathlib import Path

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


# ------------------------------------------------------------------------------------------- train


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model with a published recipe (torchrun-ready: DDP)",
        description="Train NAME on a local dataset. Under `torchrun --nproc_per_node N -m brainlike "
        "train ...` every process joins one DDP job (NCCL on GPU, gloo on CPU); "
        "multi-node jobs add torchrun's --nnodes/--node_rank/--rdzv_endpoint flags.",
    )
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder (image folders, CIFAR, Tiny-ImageNet) or 'digits'")
    p.add_argument("--recipe", help="recipe name or YAML path (default: the model's published recipe)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="global batch size, over all processes")
    p.add_argument("--lr", type=float)
    p.add_argument("--precision", choices=PRECISIONS)
    p.add_argument("--workers", type=int)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any recipe field (value read as YAML); repeatable",
    )
    p.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model constructor argument, e.g. times=3; repeatable",
    )
    p.add_argument("--pretrained", type=_pretrained, default=False, help="start from weights: a tag or a path")
    p.add_argument("-o", "--output", help="run folder (default runs/NAME)")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        help="continue from OUTPUT/latest.pt, or from the checkpoint given",
    )
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda when available)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.add_argument("--max-steps", type=int, help="stop after this many training steps (smoke tests)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=_train)


def _train(args) -> None:
    from brainlike.training import train
    from brainlike.training.recipes import parse_overrides

    overrides = parse_overrides(args.overrides)
    for key in ("epochs", "batch_size", "lr", "precision", "workers"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    result = train(
        args.name,
        args.data,
        recipe=args.recipe,
        overrides=overrides,
        output=args.output,
        resume=args.resume,
        device=args.device,
        pretrained=args.pretrained,
        skip_bad=args.skip_bad,
        progress=not args.no_progress,
        max_steps=args.max_steps,
        **parse_overrides(args.model_arg),
    )
    if not result.main_process:
        return
    print(f"{result.epochs} epoch(s), {result.steps} steps ({result.stopped_because}); run folder {result.output}")
    if result.val is not None:
        steps = ", ".join(f"t{t} {100 * a:.2f}%" for t, a in enumerate(result.val.top1))
        print(f"val top-1 per readout step: {steps}")


# ---------------------------------------------------------------------------------------- evaluate


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="top-1/top-5 per readout step on a dataset split, with a PNG")
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder or 'digits'")
    p.add_argument(
        "--pretrained",
        type=_pretrained,
        default=True,
        help="true (default), a weight tag, a weights file, or a training checkpoint / run folder",
    )
    p.add_argument("--split", default="val")
    p.add_argument("--size", type=int, help="input size (default: the checkpoint's or the card's)")
    p.add_argument("--transform", help="resize_center_crop, squash, none, imagenet_then_resize")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--device")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("-o", "--output", help="report folder (default: evaluation-NAME)")
    p.set_defaults(handler=_evaluate)


def _evaluate(args) -> None:
    from brainlike.training import evaluate
    from brainlike.training.evaluation import evaluation_table
    from brainlike.training.recipes import parse_overrides

    output = args.output or f"evaluation-{args.name}"
    result = evaluate(
        args.name,
        args.data,
        pretrained=args.pretrained,
        split=args.split,
        size=args.size,
        transform=args.transform,
        batch_size=args.batch_size,
        workers=args.workers,
        device=args.device,
        precision=args.precision,
        skip_bad=args.skip_bad,
        output=output,
        **parse_overrides(args.model_arg),
    )
    print(f"{result.images} images, loss {result.loss:.4f}")
    print(evaluation_table(result))
    print(f"report written to {output}/report.md")


# ---------------------------------------------------------------------------------------------- v1


def _add_v1(sub) -> None:
    p = sub.add_parser("v1", help="in-silico V1 electrophysiology scored against primate data")
    p.add_argument("name")
    p.add_argument(
        "--pretrained", type=_pretrained, default=False, help="true, false (default), a weight tag or a checkpoint path"
    )
    p.add_argument("--area", default="V1", help="the model area to record (default V1)")
    p.add_argument("--units", type=int, default=1000, help="most units to measure (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="report folder (default v1-NAME)")

    def run(args) -> None:
        from brainlike.analysis.v1 import v1_report

        if args.units < 1:
            raise BrainlikeError("--units must be at least 1")
        result, folder = v1_report(
            args.name,
            pretrained=args.pretrained,
            area=args.area,
            max_units=args.units,
            seed=args.seed,
            output=args.output,
        )
        for group in result.groups:
            shown = "not scored" if group.score != group.score else f"{group.score:.3f}"
            print(f"{group.group:28s} {shown:>10s}  ({group.scored} of {group.benchmarks} benchmarks)")
        print(f"report written to {folder / 'report.md'}")

    p.set_defaults(handler=run)


# -------------------------------------------------------------------------------------------- demo


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the embedded data and write a report")
    p.add_argument("-o", "--output", default="brainlike-demo")
    p.set_defaults(handler=_demo)


def _demo(args) -> None:
    from brainlike.demo import run_demo

    folder = run_demo(args.output)
    print(f"report written to {folder / 'report.md'}")


# -------------------------------------------------------------------------------------------- calc


def _add_calc(sub) -> None:
    p = sub.add_parser("calc", help="fit a CNN to anatomy (CALC), build it, or plot it")
    calc = p.add_subparsers(dest="calc_command", required=True)
    fit = calc.add_parser("fit", help="fit SYSTEM.json; writes network.json, fit.json and a report")
    fit.add_argument("system", help="a System JSON file, or ventral | dorsal | macaque")
    fit.add_argument("-o", "--output", required=True)
    fit.add_argument("--method", default="lsq", choices=["lsq", "lbfgs", "adam"])
    fit.add_argument("--max-cumulative-stride", type=int, default=32)
    fit.add_argument("--best-of", type=int, default=10)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt")
    build = calc.add_parser("build", help="summary of the module built from network.json")
    build.add_argument("network")
    build.add_argument("--output-layer", help="default: the last layer")
    show = calc.add_parser("show", help="plots: log-FLNe of system vs network, and the layer graph")
    show.add_argument("folder", help="a folder written by `brainlike calc fit`")
    p.set_defaults(handler=_calc)


def _calc(args) -> None:
    if args.calc_command == "fit":
        from brainlike.anatomy.fit import fit_to_folder

        folder = fit_to_folder(
            args.system,
            args.output,
            method=args.method,
            seed=args.seed,
            max_cumulative_stride=args.max_cumulative_stride,
            best_of=args.best_of,
            resume=args.resume,
            progress_bar=True,
        )
        print(f"network.json, fit.json and report.md written to {folder}")
    elif args.calc_command == "build":
        from brainlike.models.calc import build_summary

        print(build_summary(args.network, output=args.output_layer))
    else:
        from brainlike.anatomy.spec import show_folder

        print(f"figures written to {show_folder(args.folder)}")


# ------------------------------------------------------------------------------------ robustness


def _add_robustness(sub) -> None:
    from brainlike.analysis.corruptions import CORRUPTIONS, SEVERITIES

    p = sub.add_parser("robustness", help="top-1 under the 15 ImageNet-C corruptions, mCE against a baseline")
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder, or 'digits' for the embedded one")
    p.add_argument("--split", default="val")
    p.add_argument("--corruptions", nargs="+", default=list(CORRUPTIONS), metavar="NAME")
    p.add_argument("--severities", nargs="+", type=int, default=list(SEVERITIES), metavar="S")
    p.add_argument(
        "--pretrained", type=_pretrained, default=True, help="true (default), false, a weight tag or a checkpoint path"
    )
    p.add_argument("--baseline", help="results JSON of a baseline model (e.g. AlexNet) for mCE")
    p.add_argument("-o", "--output", default="robustness", help="report folder (a rerun resumes from it)")
    p.add_argument("--limit", type=int, help="evaluate an evenly spaced subset of this many images")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--reference", action="store_true", help="use only the per-image reference implementations")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.set_defaults(handler=_robustness)


def _robustness(args) -> None:
    from brainlike.analysis.robustness import robustness

    robustness(
        args.name,
        args.data,
        pretrained=args.pretrained,
        output=args.output,
        corruptions=args.corruptions,
        severities=args.severities,
        split=args.split,
        baseline=args.baseline,
        seed=args.seed,
        batch_size=args.batch_size,
        workers=args.workers,
        limit=args.limit,
        precision=args.precision,
        reference=args.reference,
        skip_bad=args.skip_bad,
    )
    print(f"report written to {args.output}/report.md")


COMMANDS = [
    _add_models,
    _add_info,
    _add_classify,
    _add_extract,
    _add_compare,
    _add_train,
    _add_evaluate,
    _add_robustness,
    _add_v1,
    _add_calc,
    _add_demo,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brainlike", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except BrainlikeError as error:
        print(f"brainlike: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("brainlike: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
