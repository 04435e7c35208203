"""`brainlike scorecard`: several models side by side on every measurement, as one report and HTML page."""

from __future__ import annotations

from brainlike.cli.options import add_batch_size, add_device, add_pretrained, add_seed, add_workers, at_least


def add_scorecard(sub) -> None:
    p = sub.add_parser("scorecard", help="rank models on every brainlike measurement (report.md and report.html)")
    p.add_argument(
        "models", nargs="+", metavar="MODEL", help="registered names, or NAME=WEIGHTS (true, false, a tag, a file)"
    )
    p.add_argument(
        "--suite",
        default="v1,robustness,accuracy",
        help="comma-separated measurements: accuracy, robustness, v1, behaviour[:EXPERIMENT], neural:FILE "
        "(default v1,robustness,accuracy)",
    )
    p.add_argument("-o", "--output", required=True, help="report folder; results kept there are reused on a rerun")
    add_pretrained(p)
    p.add_argument("--data", default="digits", help="dataset of accuracy and robustness (default: the embedded digits)")
    p.add_argument("--split", default="val", help="dataset split of accuracy and robustness (default val)")
    p.add_argument(
        "--limit", type=at_least(0), default=200, help="evenly spaced images of the dataset (default 200; 0: all)"
    )
    p.add_argument("--stimuli", help="images of neural:FILE (ids: paths relative to this folder)")
    p.add_argument(
        "--behaviour-stimuli",
        metavar="DIR",
        help="the Geirhos et al. (2019) stimuli for behaviour ('sample': the 16 shipped; default: download once)",
    )
    p.add_argument("--corruptions", nargs="+", metavar="NAME", help="default: gaussian_noise motion_blur fog contrast")
    p.add_argument("--severities", nargs="+", type=int, choices=(1, 2, 3, 4, 5), metavar="S", help="default: 1 3 5")
    p.add_argument("--v1-units", type=at_least(1), default=200, help="V1 units measured (default 200)")
    add_seed(p)
    add_device(p)
    add_batch_size(p)
    add_workers(p)
    p.set_defaults(handler=_scorecard)


def _scorecard(args) -> None:
    import json

    from brainlike.analysis.scorecard import Job, scorecard_report

    folder = scorecard_report(
        args.models,
        args.output,
        suite=args.suite,
        pretrained=args.pretrained,
        data=args.data,
        split=args.split,
        limit=args.limit or None,
        stimuli=args.stimuli,
        behaviour_stimuli=args.behaviour_stimuli,
        corruptions=args.corruptions or Job.corruptions,
        severities=args.severities or Job.severities,
        v1_units=args.v1_units,
        seed=args.seed,
        device=args.device,
        batch_size=args.batch_size,
        workers=args.workers,
    )
    report = json.loads((folder / "report.json").read_text())
    for model, rank in sorted(report["mean_ranks"].items(), key=lambda item: (item[1] is None, item[1])):
        print(f"{model:32s} mean rank {'-' if rank is None else f'{rank:.2f}'}")
    print(f"report written to {folder / 'report.md'} and {folder / 'report.html'}")
