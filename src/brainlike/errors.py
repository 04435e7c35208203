"""The one exception type for mistakes a user can make (bad names, files, arguments).

The CLI prints these as a single line and exits non-zero; everything else is a bug and keeps its
traceback.
"""


class BrainlikeError(ValueError):
    """A problem with the user's input: the message says what went wrong and what to do."""
