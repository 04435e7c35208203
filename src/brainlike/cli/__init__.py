"""The `brainlike` command: one subcommand per library function, and nothing more.

Each subcommand is declared by an `add_<name>(subparsers)` function that sets `handler` to a function
of the parsed arguments. Errors a user can cause (BrainlikeError) print as one line and exit with
status 2.
"""

from __future__ import annotations

import argparse
import sys

from brainlike import __version__
from brainlike.cli.adversarial import add_adversarial
from brainlike.cli.behaviour import add_behaviour
from brainlike.cli.calc import add_calc
from brainlike.cli.commit import add_commit
from brainlike.cli.features import add_compare, add_extract
from brainlike.cli.inspect import add_classify, add_info, add_models
from brainlike.cli.measures import add_robustness, add_v1
from brainlike.cli.options import Parser
from brainlike.cli.scorecard import add_scorecard
from brainlike.cli.training import add_evaluate, add_train
from brainlike.errors import BrainlikeError


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the embedded data and write a report")
    p.add_argument("-o", "--output", default="brainlike-demo", help="report folder (default brainlike-demo)")
    p.set_defaults(handler=_demo)


def _demo(args) -> None:
    from brainlike.demo import run_demo

    folder = run_demo(args.output)
    print(f"report written to {folder / 'report.md'}")


COMMANDS = [
    add_models,
    add_info,
    add_classify,
    add_extract,
    add_compare,
    add_commit,
    add_train,
    add_evaluate,
    add_robustness,
    add_adversarial,
    add_v1,
    add_scorecard,
    add_behaviour,
    add_calc,
    add_demo,
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="brainlike", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"brainlike {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a one-line usage error: its status, as a return value
        return stop.code or 0
    from brainlike.runtime.allocator import keep_freed_memory  # after parsing: --help imports no torch

    keep_freed_memory()  # large activations reuse memory instead of faulting in fresh pages each time
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
