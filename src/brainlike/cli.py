"""The `brainlike` command: one subcommand per library function, and nothing more.

Each subcommand is declared by an `_add_<name>(subparsers)` function that sets `handler` to a
function of the parsed arguments. Errors a user can cause (BrainlikeError) print as one line and
exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from brainlike.errors import BrainlikeError


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
    p.add_argument("--pretrained", type=_pretrained, default=True,
                   help="true (default), false, a weight tag or a checkpoint path")
    p.add_argument("--topk", type=int, default=5)
    p.set_defaults(handler=_classify)


def _classify(args) -> None:
    from brainlike.classify import classify

    for path, predictions in classify(args.name, args.images, pretrained=args.pretrained, topk=args.topk):
        print(path)
        for label, probability in predictions:
            print(f"  {probability:6.1%}  {label}")


# -------------------------------------------------------------------------------------------- demo

def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the embedded data and write a report")
    p.add_argument("-o", "--output", default="brainlike-demo")
    p.set_defaults(handler=_demo)


def _demo(args) -> None:
    from brainlike.demo import run_demo

    folder = run_demo(args.output)
    print(f"report written to {folder / 'report.md'}")


COMMANDS = [_add_models, _add_info, _add_classify, _add_demo]


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
