"""`brainlike commit`: the layer (x step) of a model that best predicts each region's recordings."""

from __future__ import annotations

from brainlike.cli.choices import POOLS
from brainlike.cli.options import add_batch_size, add_device, add_pretrained, add_seed, at_least


def add_commit(sub) -> None:
    p = sub.add_parser("commit", help="commit model layers to brain regions from your recordings")
    p.add_argument("name", help="a registered model name (brainlike models), torchvision:NAME or timm:NAME")
    p.add_argument("stimuli", help="a folder of images (ids: paths relative to it) or a text file of image paths")
    p.add_argument(
        "--neural",
        required=True,
        help=".npz / .h5 (stimulus_id, responses, region per neuroid) or .nc (a region coordinate on neuroid)",
    )
    p.add_argument("--regions", help="comma-separated regions to commit, e.g. V4,IT (default: all in the data)")
    p.add_argument("--candidates", help="comma-separated module paths (default: every leaf with spatial outputs)")
    p.add_argument("-o", "--output", required=True, help="report folder; commitment.json is written into it")
    p.add_argument("--method", choices=["ridge", "pls"], default="ridge", help="the mapping (default ridge)")
    p.add_argument("--folds", type=at_least(2), default=5, help="cross-validation folds (default 5)")
    p.add_argument(
        "--pool", choices=POOLS, default="none", help="none (default: a fixed sample of units), avg or max over space"
    )
    p.add_argument(
        "--max-features", type=at_least(1), default=1000, help="units kept per layer with --pool none (default 1000)"
    )
    add_pretrained(p)
    add_device(p)
    add_batch_size(p, default=16)
    add_seed(p)
    p.set_defaults(handler=_commit)


def _listed(text: str | None) -> list[str] | None:
    return None if text is None else [v for v in text.split(",") if v]


def _commit(args) -> None:
    import json

    from brainlike.analysis.commitment_report import COMMITMENT_FILE, commit_report

    folder = commit_report(
        args.name,
        args.stimuli,
        args.neural,
        args.output,
        regions=_listed(args.regions),
        candidates=_listed(args.candidates),
        method=args.method,
        folds=args.folds,
        pool=args.pool,
        max_features=args.max_features,
        pretrained=args.pretrained,
        device=args.device,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    for region, (layer, step) in json.loads((folder / COMMITMENT_FILE).read_text())["regions"].items():
        print(f"{region:8s} {layer} (step {step})")
    print(f"report written to {folder / 'report.md'}; commitment in {folder / COMMITMENT_FILE}")
