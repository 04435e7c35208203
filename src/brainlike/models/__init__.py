"""Model families; importing this package registers every variant."""

from brainlike.models import cornet  # noqa: F401
