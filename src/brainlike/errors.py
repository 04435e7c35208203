"""The one exception type for mistakes a user can make (bad names, files, arguments).

The CLI prints these as a single line and exits non-zero; everything else is a bug and keeps its
traceback.
"""


class BrainlikeError(ValueError):
    """A problem with the user's input: the message says what went wrong and what to do."""


def optional_import(module: str, *, extra: str, purpose: str):
    """Import an optional dependency, or say in one line which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise BrainlikeError(
            f"{purpose} needs {package}, an optional part of brainlike: pip install 'brainlike[{extra}]'"
        ) from None
