"""`brainlike train` and `evaluate`: published recipes, and accuracy per readout step."""

from __future__ import annotations

import json

from brainlike.cli.choices import PRECISIONS
from brainlike.cli.options import add_device, add_pretrained, add_running, at_least


def add_train(sub) -> None:
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
    p.add_argument("--epochs", type=at_least(1), help="epochs (default: the recipe's)")
    p.add_argument(
        "--batch-size", type=at_least(1), help="global batch size, over all processes (default: the recipe's)"
    )
    p.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    p.add_argument("--precision", choices=PRECISIONS, help="numeric precision (default: the recipe's)")
    p.add_argument("--workers", type=at_least(0), help="loader processes (default: the recipe's)")
    p.add_argument("--seed", type=int, help="random seed (default: the recipe's)")
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
    add_pretrained(p, default=False)
    p.add_argument("-o", "--output", help="run folder (default runs/NAME)")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        help="continue from OUTPUT/latest.pt, or from the checkpoint given",
    )
    p.add_argument("--overwrite", action="store_true", help="start again in an output folder that holds another run")
    add_device(p)
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.add_argument("--max-steps", type=at_least(1), help="stop after this many training steps (smoke tests)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=_train)


def _train(args) -> None:
    from brainlike.training import train
    from brainlike.training.recipes import parse_overrides

    overrides = parse_overrides(args.overrides)
    for key in ("epochs", "batch_size", "lr", "precision", "workers", "seed"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    result = train(
        args.name,
        args.data,
        recipe=args.recipe,
        overrides=overrides,
        output=args.output,
        resume=args.resume,
        overwrite=args.overwrite,
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


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="top-1/top-5 per readout step on a dataset split, with a PNG")
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder or 'digits'")
    p.add_argument("--split", default="val", help="dataset split (default val)")
    p.add_argument(
        "--input-size", type=at_least(1), help="input size in pixels (default: the checkpoint's or the card's)"
    )
    p.add_argument("--transform", help="resize_center_crop, squash, none, imagenet_then_resize")
    add_running(p)
    p.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model constructor argument, e.g. times=3; repeatable",
    )
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.add_argument("-o", "--output", help="report folder (default: evaluation-NAME)")
    p.set_defaults(handler=_evaluate)


def _evaluate(args) -> None:
    from brainlike.analysis.accuracy import accuracy_report
    from brainlike.runtime.evaluation import Evaluation, evaluation_table
    from brainlike.training.recipes import parse_overrides

    folder = accuracy_report(
        args.name,
        args.output or f"evaluation-{args.name}",
        data=args.data,
        pretrained=args.pretrained,
        split=args.split,
        input_size=args.input_size,
        transform=args.transform,
        batch_size=args.batch_size,
        workers=args.workers,
        device=args.device,
        precision=args.precision,
        skip_bad=args.skip_bad,
        **parse_overrides(args.model_arg),
    )
    report = json.loads((folder / "report.json").read_text())
    result = Evaluation(report["loss"], report["top1"], report["top5"], report["images"])
    print(f"{result.images} images, loss {result.loss:.4f}")
    print(evaluation_table(result))
    print(f"report written to {folder}/report.md")
