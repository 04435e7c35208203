"""`brainlike behaviour`: shape bias, error consistency and per-step decisions against the human observers of
Geirhos et al. (2019)."""

from __future__ import annotations

import json

from brainlike.cli.options import add_running, add_seed, at_least


def add_behaviour(sub) -> None:
    p = sub.add_parser(
        "behaviour", help="shape bias and error consistency vs humans on the Geirhos et al. (2019) experiments"
    )
    p.add_argument("name")
    p.add_argument(
        "--experiment",
        default="cue-conflict",
        choices=["cue-conflict", "edges", "silhouettes", "all"],
        help="which experiment (default cue-conflict)",
    )
    p.add_argument("--stimuli", metavar="DIR", help="a local copy of the stimuli (default: download them once)")
    p.add_argument("--mapping", metavar="FILE", help="JSON {category: [output indices or class names]} for other heads")
    p.add_argument("--limit", type=at_least(1), help="an evenly spaced subset of this many images per experiment")
    p.add_argument(
        "--threshold", type=float, default=0.5, help="confidence that marks a recurrent model's decision (default 0.5)"
    )
    add_running(p)
    add_seed(p)
    p.add_argument("-o", "--output", default="behaviour", help="report folder (default behaviour)")
    p.set_defaults(handler=_behaviour)


def _behaviour(args) -> None:
    from brainlike.analysis.behaviour import behaviour_report

    folder = behaviour_report(
        args.name,
        args.output,
        experiment=args.experiment,
        stimuli=args.stimuli,
        mapping=args.mapping,
        pretrained=args.pretrained,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        workers=args.workers,
        seed=args.seed,
        limit=args.limit,
        threshold=args.threshold,
    )
    report = json.loads((folder / "report.json").read_text())
    for name, summary in report["experiments"].items():
        model = summary["observers"][summary["model"]]
        bias = f", shape bias {_shown(model['shape_bias'])}" if "shape_bias" in model else ""
        print(
            f"{name:13s} {summary['images']:5d} images: accuracy {_shown(model['accuracy'])}{bias}, error "
            f"consistency {_shown(model['error_consistency'])} (human ceiling {_shown(summary['human_ceiling'])})"
        )
    print(f"report written to {folder / 'report.md'}")


def _shown(value) -> str:
    return "—" if value is None else f"{value:.3f}"
