"""Model families; importing this package registers every variant."""

from brainlike.models import cornet  # noqa: F401
from brainlike.models import calc  # noqa: F401
from brainlike.models import v1resnet  # noqa: F401
from brainlike.models import vonenet  # noqa: F401
from brainlike.models import blt, blt_family  # noqa: F401
