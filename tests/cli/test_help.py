"""`--help` is fast (no torch behind it) and explains every option of every subcommand."""

import argparse
import json
import subprocess
import sys

from brainlike.cli import build_parser, choices


def subcommands(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}".split(), sub
                yield from subcommands(sub, f"{prefix}{name} ")


def test_every_option_of_every_subcommand_has_help_text():
    missing = [
        f"{' '.join(command)} {'/'.join(action.option_strings) or action.dest}"
        for command, parser in subcommands(build_parser())
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        and action.option_strings
        and not (action.help or "").strip()
    ]
    assert not missing, missing


# Runs in a fresh interpreter: prints, as JSON, the subcommands whose --help imported torch (or numpy).
PROBE = """
import contextlib, io, json, sys
from brainlike.cli import main
heavy = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(argv + ["--help"])
    assert code == 0 and "usage:" in out.getvalue(), (argv, code)
    heavy += [" ".join(argv) or "brainlike"] if {"torch", "numpy"} & set(sys.modules) else []
print(json.dumps(heavy))
"""


def test_help_of_every_subcommand_imports_no_torch():
    commands = [[]] + [command for command, _ in subcommands(build_parser())]
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands)], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == [], "these imported torch or numpy for --help"


def test_import_brainlike_is_light_and_its_names_load_on_use():
    probe = "import sys, brainlike; assert 'torch' not in sys.modules; print(sorted(dir(brainlike)))"
    listed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    import brainlike
    from brainlike import create_model, wrap
    from brainlike.wrap import wrap as wrap_function

    assert brainlike.__all__ == sorted(brainlike._PUBLIC) and set(brainlike.__all__) <= set(eval(listed.stdout))
    assert callable(create_model) and wrap is wrap_function and brainlike.wrap is wrap_function
    assert isinstance(brainlike.__version__, str)


def test_the_parser_choices_are_those_the_library_accepts():
    from brainlike.analysis import corruptions
    from brainlike.analysis.features import extract
    from brainlike.precision import PRECISIONS
    from brainlike.recording import POOLS

    assert choices.PRECISIONS == PRECISIONS and choices.EXTRACT_PRECISIONS == extract.PRECISIONS
    assert choices.POOLS == POOLS
    assert (choices.CORRUPTIONS, choices.SEVERITIES) == (corruptions.CORRUPTIONS, corruptions.SEVERITIES)
