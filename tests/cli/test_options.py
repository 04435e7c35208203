"""Every subcommand declares a shared option with the same default; the version comes from one place."""

import argparse

import brainlike
from brainlike.cli import build_parser, main
from brainlike.cli.options import DEFAULTS

# `train` takes batch size, workers, precision and seed from its recipe and starts from scratch unless
# told otherwise: its None / False defaults mean "the recipe's" / "no weights", not another value.
RECIPE_BACKED = {"train": {"pretrained", "precision", "batch_size", "workers", "seed"}}
# `commit` holds every candidate layer's output for a batch at once, so its batches are smaller.
EXEMPT = {**RECIPE_BACKED, "commit": {"batch_size"}}


def _subcommands(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _subcommands(sub, f"{prefix}{name} ")


def test_shared_options_have_one_default_everywhere():
    seen = {option: set() for option in DEFAULTS}
    for command, parser in _subcommands(build_parser()):
        for action in parser._actions:
            if action.dest in DEFAULTS and action.dest not in EXEMPT.get(command, ()):
                assert action.default == DEFAULTS[action.dest], (command, action.dest, action.default)
                seen[action.dest].add(command)
    assert seen["pretrained"] >= {"classify", "extract", "evaluate", "robustness", "v1"}
    assert seen["device"] >= {"classify", "extract", "evaluate", "robustness", "train"}
    assert seen["precision"] >= {"extract", "evaluate", "robustness"}
    assert seen["seed"] >= {"compare", "v1", "robustness", "calc fit"}


def test_train_starts_from_scratch_and_reads_the_rest_from_its_recipe():
    train = dict(_subcommands(build_parser()))["train"]
    defaults = {a.dest: a.default for a in train._actions}
    assert defaults["pretrained"] is False
    assert all(defaults[k] is None for k in ("precision", "batch_size", "workers", "seed"))
    assert defaults["device"] == "auto"


def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"brainlike {brainlike.__version__}"


def test_the_installed_version_is_the_package_version():
    from importlib.metadata import version

    assert version("brainlike") == brainlike.__version__
