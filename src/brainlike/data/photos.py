"""The embedded photos: natural images bundled with scikit-image (no download needed).

They include a grayscale and an RGBA image on purpose, so every path through image conversion is
exercised by the demo.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from brainlike.errors import optional_import
from brainlike.transforms import to_rgb

PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "colorwheel", "logo")


def embedded_photos(names=PHOTO_NAMES) -> dict[str, Image.Image]:
    """name -> RGB PIL image, for scikit-image's bundled photos."""
    skimage_data = optional_import("skimage.data", extra="demo", purpose="the embedded photos")
    photos = {}
    for name in names:
        array = np.asarray(getattr(skimage_data, name)())
        photos[name] = to_rgb(Image.fromarray(array))
    return photos
