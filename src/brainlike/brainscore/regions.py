"""Which area answers a Brain-Score region: the card's commitments, published maps a card cannot hold, and
the caller's own."""

from __future__ import annotations

from typing import Mapping

from brainlike.errors import BrainlikeError
from brainlike.registry import ModelCard


def _published(family: str) -> dict[str, str]:
    """Region -> area maps Brain-Score publishes for a family whose map sends two regions to one area (a card
    commits one region per area)."""
    if family == "blt_vs":
        from brainlike.models.blt_cards import BRAINSCORE_REGION_MAP

        return dict(BRAINSCORE_REGION_MAP)
    return {}


def region_areas(card: ModelCard, regions: Mapping[str, str] | None = None) -> dict[str, str]:
    """Region -> area name: the card's, completed by the family's published map, overridden by `regions`."""
    answer = {**_published(card.family), **card.region_map(), **dict(regions or {})}
    for region, area in answer.items():
        if area not in card.area_names:
            raise BrainlikeError(
                f"region {region} is mapped to {area!r}, which {card.name} does not have; "
                f"its areas are {', '.join(card.area_names)}"
            )
    return answer
