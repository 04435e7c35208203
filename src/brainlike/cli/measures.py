"""`brainlike v1` and `robustness`: V1 electrophysiology against primate data, corruptions against a baseline."""

from __future__ import annotations

import json

from brainlike.cli.choices import CORRUPTIONS, SEVERITIES
from brainlike.cli.options import add_pretrained, add_running, add_seed, at_least


def add_v1(sub) -> None:
    p = sub.add_parser("v1", help="in-silico V1 electrophysiology scored against primate data")
    p.add_argument("name")
    add_pretrained(p)
    p.add_argument("--area", default="V1", help="the model area to record (default V1)")
    p.add_argument("--units", type=at_least(1), default=1000, help="most units to measure (default 1000)")
    add_seed(p)
    p.add_argument("-o", "--output", help="report folder (default v1-NAME)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(handler=_v1)


def _v1(args) -> None:
    from brainlike.analysis.v1 import v1_report

    folder = v1_report(
        args.name,
        args.output,
        pretrained=args.pretrained,
        area=args.area,
        max_units=args.units,
        seed=args.seed,
        progress=not args.no_progress,
    )
    for group in json.loads((folder / "report.json").read_text())["v1"]["groups"]:
        shown = "not scored" if group["score"] is None else f"{group['score']:.3f}"
        print(f"{group['group']:28s} {shown:>10s}  ({group['scored']} of {group['benchmarks']} benchmarks)")
    print(f"report written to {folder / 'report.md'}")


def add_robustness(sub) -> None:
    p = sub.add_parser("robustness", help="top-1 under the 15 ImageNet-C corruptions, mCE against a baseline")
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder, or 'digits' for the embedded one")
    p.add_argument("--split", default="val", help="dataset split (default val)")
    p.add_argument(
        "--corruptions",
        nargs="+",
        default=list(CORRUPTIONS),
        metavar="NAME",
        help=f"corruptions to apply (default all 15: {', '.join(CORRUPTIONS)})",
    )
    p.add_argument(
        "--severities",
        nargs="+",
        type=int,
        choices=SEVERITIES,
        default=list(SEVERITIES),
        metavar="S",
        help="severities 1-5 (default all)",
    )
    add_running(p)
    add_seed(p)
    p.add_argument(
        "--baseline",
        help="'alexnet' (its published ImageNet-C errors, for 1000-class models) or a results JSON of a "
        "baseline model, for mCE and relative mCE",
    )
    p.add_argument(
        "--corrupted-data",
        metavar="DIR",
        help="read the corrupted images from a published ImageNet-C / Tiny-ImageNet-C folder "
        "(<corruption>/<severity>/<class>/<image>) instead of corrupting --data on the fly",
    )
    p.add_argument("-o", "--output", default="robustness", help="report folder (a rerun resumes from it)")
    p.add_argument("--limit", type=at_least(1), help="evaluate an evenly spaced subset of this many images")
    p.add_argument("--reference", action="store_true", help="use only the per-image reference implementations")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.set_defaults(handler=_robustness)


def _robustness(args) -> None:
    from brainlike.analysis.robustness import robustness_report

    folder = robustness_report(
        args.name,
        args.output,
        data=args.data,
        pretrained=args.pretrained,
        corruptions=args.corruptions,
        severities=args.severities,
        split=args.split,
        baseline=args.baseline,
        seed=args.seed,
        batch_size=args.batch_size,
        workers=args.workers,
        limit=args.limit,
        precision=args.precision,
        device=args.device,
        reference=args.reference,
        skip_bad=args.skip_bad,
        corrupted_data=args.corrupted_data,
    )
    print(f"report written to {folder / 'report.md'}")
