"""`brainlike models`, `info` and `classify`: what is registered, what a model is, what it sees."""

from __future__ import annotations

from brainlike.cli.options import add_batch_size, add_device, add_pretrained, at_least


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the registered models")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'cornet*'")
    p.set_defaults(handler=_models)


def _models(args) -> None:
    from brainlike.summary import models_table

    print(models_table(args.pattern))


def add_info(sub) -> None:
    p = sub.add_parser("info", help="card, parameters, FLOPs, shapes and receptive fields of a model")
    p.add_argument("name")
    p.add_argument("--input-size", type=at_least(1), help="input size in pixels (default: the card's)")
    p.set_defaults(handler=_info)


def _info(args) -> None:
    from brainlike.registry import model_card
    from brainlike.summary import model_info

    print(model_info(args.name, input_size=args.input_size))
    lines = weight_lines(model_card(args.name).weights)
    if lines:
        print("\npublished weights:")
        print("\n".join(lines))


def weight_lines(weights) -> list[str]:
    """One line per weight entry: its licence, parameter count, source and citation."""
    lines = []
    for tag, spec in weights.items():
        count = f"{spec.parameters:,} parameters" if spec.parameters else "parameter count not recorded"
        lines.append(f"  {tag}: licence {spec.licence}; {count}; source {spec.source or 'not recorded'}")
        if spec.citation:
            lines.append(f"    cite: {spec.citation}")
    return lines


def add_classify(sub) -> None:
    p = sub.add_parser("classify", help="top-k labels of images")
    p.add_argument("name")
    p.add_argument("images", nargs="+")
    add_pretrained(p)
    add_device(p)
    add_batch_size(p)
    p.add_argument("--topk", type=at_least(1), default=5, help="labels per image (default 5)")
    p.add_argument(
        "--steps",
        choices=["last", "all"],
        default="last",
        help="'all' prints the top-k labels at every readout step of recurrent models",
    )
    p.set_defaults(handler=_classify)


def _classify(args) -> None:
    from brainlike.classify import classify_steps

    results = classify_steps(
        args.name,
        args.images,
        pretrained=args.pretrained,
        topk=args.topk,
        batch_size=args.batch_size,
        steps=args.steps,
        device=args.device,
    )
    for path, per_step in results:
        print(path)
        if args.steps == "last":
            for label, probability in per_step[-1]:
                print(f"  {probability:6.1%}  {label}")
            continue
        for step, predictions in enumerate(per_step):
            print(f"  readout step {step}")
            for label, probability in predictions:
                print(f"    {probability:6.1%}  {label}")
