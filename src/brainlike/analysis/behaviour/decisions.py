"""From a model's logits to decisions among the 16 categories of Geirhos et al. (2019).

The published rule for a 1000-way ImageNet classifier: softmax over all outputs, a category's probability
is the mean of the probabilities of its ImageNet classes (the authors' list, `categories16.json`), and
the decision is the category with the highest such value. Other heads are mapped the same way with other
class lists: by class name for a label set brainlike knows (Ecoset's 565 classes include 14 of the 16
categories by name; keyboard and oven are missing), or by a mapping the user gives. Categories a head
does not cover are dropped: the model decides among the others, and the images whose shape or texture
is a dropped category are not evaluated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from brainlike.data.geirhos import categories, categories16
from brainlike.errors import BrainlikeError
from brainlike.labels import class_names

IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class CategoryMap:
    """The output indices of each covered category, which categories are dropped, and how it was made."""

    indices: Mapping[str, tuple[int, ...]]
    dropped: tuple[str, ...]
    source: str
    num_outputs: int

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.indices)

    def matrix(self) -> torch.Tensor:
        """(num_outputs, categories): softmax probabilities @ matrix = each category's mean probability."""
        weights = torch.zeros(self.num_outputs, len(self.indices))
        for column, members in enumerate(self.indices.values()):
            weights[list(members), column] = 1.0 / len(members)
        return weights

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(batch, categories) mean softmax probability of each covered category (the published rule)."""
        if logits.shape[-1] != self.num_outputs:
            raise BrainlikeError(f"the mapping is for {self.num_outputs} outputs, the logits have {logits.shape[-1]}")
        return logits.float().softmax(dim=-1) @ self.matrix().to(logits.device)

    def describe(self) -> str:
        dropped = f"; dropped (not covered): {', '.join(self.dropped)}" if self.dropped else ""
        return f"{len(self.indices)} of 16 categories via {self.source}{dropped}"


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", " ").replace("-", " ")


def _build(indices: Mapping[str, Sequence[int]], source: str, num_outputs: int) -> CategoryMap:
    covered = {c: tuple(sorted(set(int(i) for i in indices[c]))) for c in categories() if indices.get(c)}
    if not covered:
        raise BrainlikeError(f"{source} covers none of the 16 categories ({', '.join(categories())})")
    wrong = [(c, i) for c, members in covered.items() for i in members if not 0 <= i < num_outputs]
    if wrong:
        raise BrainlikeError(f"{source}: output index {wrong[0][1]} of {wrong[0][0]!r} is not in 0..{num_outputs - 1}")
    return CategoryMap(covered, tuple(c for c in categories() if c not in covered), source, num_outputs)


def by_name(names: Sequence[str], source: str) -> CategoryMap:
    """Categories matched to class names (case, '_' and '-' ignored)."""
    position = {}
    for index, name in enumerate(names):
        position.setdefault(_normal(name), index)
    return _build({c: [position[c]] for c in categories() if c in position}, source, len(names))


def imagenet_map() -> CategoryMap:
    return _build(categories16(), "the ImageNet classes of Geirhos et al. (2019)", IMAGENET_CLASSES)


def read_mapping(mapping: str | os.PathLike | Mapping) -> Mapping[str, Sequence]:
    """A mapping given as a dict or as the path of a JSON file holding one."""
    if isinstance(mapping, Mapping):
        return mapping
    path = Path(mapping)
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        raise BrainlikeError(f"no mapping file at {path}") from None
    except json.JSONDecodeError as error:
        raise BrainlikeError(f"{path} is not JSON ({error})") from None
    if not isinstance(loaded, dict):
        raise BrainlikeError(f"{path} must hold an object {{category: [output indices or class names]}}")
    return loaded


def user_map(mapping: Mapping[str, Sequence], num_outputs: int, labels: Sequence[str] | None) -> CategoryMap:
    """A user's {category: [output indices or class names]}; categories left out are dropped."""
    unknown = [c for c in mapping if c not in categories()]
    if unknown:
        raise BrainlikeError(f"not one of the 16 categories: {', '.join(map(str, unknown))}")
    position = {_normal(n): i for i, n in enumerate(labels or ())}
    indices = {}
    for category, members in mapping.items():
        members = [members] if isinstance(members, (str, int)) else list(members)
        resolved = []
        for member in members:
            if isinstance(member, str):
                if _normal(member) not in position:
                    raise BrainlikeError(f"mapping of {category!r}: the model has no class named {member!r}")
                member = position[_normal(member)]
            resolved.append(member)
        indices[category] = resolved
    return _build(indices, "the given mapping", num_outputs)


def category_map(
    num_outputs: int, labels: str | None, mapping: str | os.PathLike | Mapping | None = None
) -> CategoryMap:
    """How a head of `num_outputs` outputs with label set `labels` (a card's `labels`) decides.

    A given `mapping` wins; else 1000 ImageNet outputs use the published class lists, and another label
    set whose names brainlike ships is matched by name.
    """
    names = None
    if labels is not None:
        try:
            known = class_names(labels)
        except BrainlikeError:  # a label set without shipped names
            known = ()
        names = known if len(known) == num_outputs else None
    if mapping is not None:
        return user_map(read_mapping(mapping), num_outputs, names)
    if labels == "imagenet" and num_outputs == IMAGENET_CLASSES:
        return imagenet_map()
    if names is not None:
        return by_name(names, f"the class names of {labels}")
    raise BrainlikeError(
        f"a head of {num_outputs} outputs (label set {labels or 'none'}) has no known mapping to the 16 categories; "
        "give one: {category: [output indices or class names]} (mapping=, --mapping FILE.json)"
    )
