"""`brainlike calc fit | build | show`: a CNN fitted to macaque anatomy (CALC)."""

from __future__ import annotations

from brainlike.cli.options import add_seed, at_least


def add_calc(sub) -> None:
    p = sub.add_parser("calc", help="fit a CNN to anatomy (CALC), build it, or plot it")
    calc = p.add_subparsers(dest="calc_command", required=True)
    fit = calc.add_parser("fit", help="fit SYSTEM.json; writes network.json, fit.json and a report")
    fit.add_argument("system", help="a System JSON file, or ventral | dorsal | macaque")
    fit.add_argument(
        "-o", "--output", required=True, help="folder for network.json, fit.json, the report and checkpoint.pt"
    )
    fit.add_argument(
        "--method",
        default="lsq",
        choices=["lsq", "lbfgs", "adam"],
        help="lsq: least squares (default); lbfgs: L-BFGS-B on the cost; adam: the original schedule",
    )
    fit.add_argument(
        "--max-cumulative-stride",
        type=at_least(1),
        default=32,
        help="largest product of strides from the input to any layer (default 32)",
    )
    fit.add_argument("--best-of", type=at_least(1), default=10, help="stride searches to keep the best of (default 10)")
    add_seed(fit)
    fit.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt (of the same fit)")
    fit.add_argument("--overwrite", action="store_true", help="start afresh in a folder that holds another fit")
    build = calc.add_parser("build", help="summary of the module built from network.json")
    build.add_argument("network")
    build.add_argument("--output-layer", help="default: the last layer")
    show = calc.add_parser("show", help="add plots to a fit's report: log-FLNe of system vs network, the layer graph")
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
            overwrite=args.overwrite,
            progress=True,
        )
        print(f"network.json, fit.json and report.md written to {folder}")
    elif args.calc_command == "build":
        from brainlike.anatomy.summary import build_summary

        print(build_summary(args.network, output=args.output_layer))
    else:
        from brainlike.anatomy.spec import show_folder

        print(f"figures added to {show_folder(args.folder) / 'report.md'}")
