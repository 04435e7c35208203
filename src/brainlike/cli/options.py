"""Options that several subcommands share, declared once so each has the same name, default and help.

`train` reads batch size, workers, precision and seed from its recipe unless given, and starts from
scratch unless `--pretrained` names weights; those defaults are the recipe's, not these.
"""

from __future__ import annotations

import argparse

from brainlike.cli.choices import PRECISIONS
from brainlike.errors import BrainlikeError

DEFAULTS = {"pretrained": True, "device": "auto", "precision": "fp32", "batch_size": 64, "workers": None, "seed": 0}


class Parser(argparse.ArgumentParser):
    """argparse with the one-line errors the rest of the command prints (status 2, no usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def at_least(minimum: int):
    """An argparse type: an integer >= minimum, else one clear line."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def pretrained_value(value: str):
    """--pretrained: 'true'/'false', a weight tag, or a path."""
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", "none"):
        return False
    return value


def add_pretrained(p: argparse.ArgumentParser, default=DEFAULTS["pretrained"]) -> None:
    shown = "true" if default is True else "false"
    p.add_argument(
        "--pretrained",
        type=pretrained_value,
        default=default,
        help=f"true, false, a weight tag, a weights file or a training checkpoint / run folder (default {shown})",
    )


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device", default=DEFAULTS["device"], help="auto (a GPU when there is one; default), cpu, cuda:1 …"
    )


def add_precision(p: argparse.ArgumentParser, default=DEFAULTS["precision"], choices=PRECISIONS) -> None:
    p.add_argument("--precision", choices=choices, default=default, help="numeric precision (default fp32)")


def add_batch_size(p: argparse.ArgumentParser, default=DEFAULTS["batch_size"]) -> None:
    p.add_argument("--batch-size", type=at_least(1), default=default, help=f"images per batch (default {default})")


def add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=at_least(0),
        default=DEFAULTS["workers"],
        help="image decoding processes (default: the spare cores)",
    )


def add_seed(p: argparse.ArgumentParser, default=DEFAULTS["seed"]) -> None:
    p.add_argument("--seed", type=int, default=default, help=f"random seed (default {default})")


def add_running(p: argparse.ArgumentParser, precisions=PRECISIONS) -> None:
    """The options of every command that runs a model over many images."""
    add_pretrained(p)
    add_device(p)
    add_precision(p, choices=precisions)
    add_batch_size(p)
    add_workers(p)


def parse_steps(values: list[str]):
    if values == ["all"]:
        return None
    try:
        return [int(v) for v in values]
    except ValueError:
        raise BrainlikeError(f"--steps takes 'all' or step numbers, not {' '.join(values)}") from None
