"""Model families; importing this package registers every variant."""

from brainlike.models import (  # noqa: F401
    blt,
    blt_cards,
    blt_family,
    calc,  # noqa: F401
    cornet,  # noqa: F401
    timm_zoo,  # noqa: F401
    torchvision_zoo,  # noqa: F401
    v1resnet,  # noqa: F401
    vone_frontend,  # noqa: F401
    vonenet,  # noqa: F401
)
