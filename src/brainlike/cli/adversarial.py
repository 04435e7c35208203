"""`brainlike adversarial`: white-box PGD robustness (the VOneNet paper's attacks, or your budgets)."""

from __future__ import annotations

import json

from brainlike.cli.options import add_running, add_seed, at_least


def add_adversarial(sub) -> None:
    p = sub.add_parser("adversarial", help="top-1 under white-box PGD attacks (L-inf, L2, L1), per readout step")
    p.add_argument("name")
    p.add_argument("--data", required=True, help="dataset folder, or 'digits' for the embedded one")
    p.add_argument("--split", default="val", help="dataset split (default val)")
    p.add_argument(
        "--budgets",
        nargs="+",
        default=["vonenet"],
        metavar="B",
        help="'vonenet' (the VOneNet paper's six attacks; default) and/or norm:epsilon in [0, 1] pixels, "
        "e.g. linf:1/255 l2:0.5 l1:40",
    )
    p.add_argument("--steps", type=at_least(1), help="PGD iterations for every budget (default 64)")
    p.add_argument("--relative-step", type=float, help="PGD step size as a fraction of epsilon (default 0.25)")
    p.add_argument("--restarts", type=at_least(0), default=0, help="extra PGD runs from random points of the ball")
    p.add_argument(
        "--eot",
        type=at_least(1),
        help="gradient samples per step (default: 10 for a stochastic model such as a noisy VOneNet, 1 otherwise)",
    )
    p.add_argument("--noise-evaluations", type=at_least(1), help="noisy passes per accuracy (same default as --eot)")
    p.add_argument("--objectives", nargs="+", choices=["last", "mean"], help="readout(s) attacked (default both)")
    add_running(p)
    add_seed(p)
    p.add_argument("--limit", type=at_least(1), help="attack an evenly spaced subset of this many images")
    p.add_argument("--examples", type=at_least(0), default=8, help="adversarial examples to save (default 8)")
    p.add_argument("--examples-format", choices=["png", "pt"], default="png", help="png (8-bit) or pt (exact)")
    p.add_argument("--baseline", nargs="+", default=[], metavar="REPORT", help="adversarial reports to plot beside")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images instead of stopping")
    p.add_argument("-o", "--output", default="adversarial", help="report folder")
    p.set_defaults(handler=_adversarial)


def _adversarial(args) -> None:
    from brainlike.analysis.adversarial import adversarial_report

    folder = adversarial_report(
        args.name,
        args.output,
        data=args.data,
        split=args.split,
        pretrained=args.pretrained,
        budgets=args.budgets,
        steps=args.steps,
        relative_step=args.relative_step,
        restarts=args.restarts,
        eot_samples=args.eot,
        noise_evaluations=args.noise_evaluations,
        objectives=args.objectives,
        limit=args.limit,
        examples=args.examples,
        examples_format=args.examples_format,
        baselines=args.baseline,
        seed=args.seed,
        batch_size=args.batch_size,
        workers=args.workers,
        precision=args.precision,
        device=args.device,
        skip_bad=args.skip_bad,
    )
    payload = json.loads((folder / "report.json").read_text())
    print(f"{'clean':18s} {100 * payload['clean_top1_per_step'][-1]:6.1f} %")
    for objective, cells in payload["robust"].items():
        for key, cell in cells.items():
            low, high = cell["interval_per_step"][-1]
            shown = f"{key} ({objective})" if len(payload["robust"]) > 1 else key
            print(f"{shown:18s} {100 * cell['top1_per_step'][-1]:6.1f} %  [{100 * low:.1f}, {100 * high:.1f}]")
    print(f"report written to {folder / 'report.md'}")
