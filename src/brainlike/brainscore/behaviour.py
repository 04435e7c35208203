"""Brain-Score's behavioural tasks from a brainlike model: label, probabilities and odd_one_out.

Each follows what Brain-Score's own model helpers do (brainscore_vision.model_helpers.brain_transformation
.behavior), so a brainlike model answers a behavioural benchmark as a ModelCommitment would:
- label: the argmax of the last readout's logits, named in the requested label set. "imagenet" answers with
  WordNet synsets (the domain Brain-Score's benchmarks compare), read from brainscore_vision; "ecoset" with
  the Ecoset class names (and ImageNet class names without brainscore-vision); either way the `label`
  coordinate holds the class name `brainlike classify` prints.
  A list of labels (Geirhos' 16 categories, say) takes the mean softmax over each label's ImageNet classes,
  using Brain-Score's own class lists.
- probabilities: a logistic regression (multinomial, newton-cg, C=1e-3, on standardised features) fitted on
  the behavioural readout features of the fitting stimuli and their `image_label`s.
- odd_one_out: dot-product similarity of the readout features; the odd one of each triplet is the one
  outside the most similar pair, reported by its stimulus_id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.labels import class_names

KNOWN_LABEL_SETS = ("imagenet", "ecoset")


def imagenet_synsets() -> list[str] | None:
    """The 1,000 WordNet ids in output order, as brainscore-vision ships them; None without it."""
    try:
        import brainscore_vision.model_helpers.brain_transformation as transformation
    except ImportError:
        return None
    return (Path(transformation.__file__).parent / "imagenet_classes.txt").read_text().split()


def _label_indices(label: str) -> list[int]:
    try:
        from brainscore_vision.model_helpers.brain_transformation.behavior import LabelToImagenetIndices
    except ImportError:
        raise BrainlikeError("labels other than a whole label set are mapped with brainscore-vision") from None
    try:
        return list(LabelToImagenetIndices.label_to_indices(label))
    except AttributeError:
        raise BrainlikeError(f"Brain-Score has no ImageNet classes for the label {label!r}") from None


def check_label_set(choice_labels, card) -> str | list[str]:
    """The label set a label task answers in; it must be the model's own head (or labels of an ImageNet head)."""
    if isinstance(choice_labels, str):
        if choice_labels not in KNOWN_LABEL_SETS:
            raise BrainlikeError(f"label set {choice_labels!r} is unknown; use one of {KNOWN_LABEL_SETS} or a list")
        if card.labels != choice_labels:
            raise BrainlikeError(f"{card.name}'s head is for {card.labels or 'its own classes'}, not {choice_labels}")
        return choice_labels
    labels = [str(label) for label in choice_labels or ()]
    if not labels:
        raise BrainlikeError("the label task needs a label set ('imagenet', 'ecoset') or a list of labels")
    if card.labels != "imagenet":
        raise BrainlikeError(f"a list of labels is mapped through ImageNet classes; {card.name} has no ImageNet head")
    for label in labels:
        _label_indices(label)
    return labels


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def label_choices(logits: np.ndarray, label_set, card) -> tuple[list[str], dict[str, np.ndarray]]:
    """(choice per presentation, extra presentation coordinates) for (presentation, class) logits."""
    if isinstance(label_set, str):
        index = logits.argmax(axis=1)
        names = class_names(card.labels)
        label = np.array([names[i] for i in index], dtype=object)
        extra = {"logit": index, "label": label}
        synsets = imagenet_synsets() if label_set == "imagenet" else None
        if synsets is not None:
            choices = [synsets[i] for i in index]
            extra["synset"] = np.array(choices, dtype=object)
            return choices, extra
        return list(label), extra
    probabilities = softmax(logits)
    per_label = np.stack([probabilities[:, _label_indices(label)].mean(axis=1) for label in label_set], axis=1)
    choices = [label_set[i] for i in per_label.argmax(axis=1)]
    return choices, {"label": np.array(choices, dtype=object)}


class ProbabilitiesReadout:
    """Brain-Score's ProbabilitiesMapping classifier: standardise, then multinomial logistic regression."""

    def __init__(self, c: float = 1e-3):
        self.c = c
        self.choices: list[str] = []

    def fit(self, features: np.ndarray, labels: Sequence) -> ProbabilitiesReadout:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        labels = [str(v) for v in labels]
        self.choices = list(dict.fromkeys(labels))  # in order of first appearance, as Brain-Score numbers them
        if len(self.choices) < 2:
            raise BrainlikeError("the probabilities task needs fitting stimuli with at least two image_labels")
        targets = np.array([self.choices.index(v) for v in labels])
        self.scaler = StandardScaler().fit(features)
        # newton-cg fits the multinomial model for more than two classes in every scikit-learn release; for two,
        # the binary model with 2C is the same fit (the softmax's two weight vectors are w/2 and -w/2 at the
        # optimum, so its penalty is a quarter of |w|^2)
        c = self.c if len(self.choices) > 2 else 2 * self.c
        self.classifier = LogisticRegression(solver="newton-cg", C=c).fit(self.scaler.transform(features), targets)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(presentation, choice) probabilities, choices in `self.choices` order."""
        return self.classifier.predict_proba(self.scaler.transform(features))


def odd_one_out(features: np.ndarray, ids: Sequence[str], triplets: Sequence[str]) -> list[str]:
    """The stimulus_id of the odd one of each consecutive triplet, by dot-product similarity of `features`
    (rows in the order of `ids`)."""
    if len(triplets) % 3:
        raise BrainlikeError(f"odd_one_out needs triplets: {len(triplets)} stimuli is not a multiple of 3")
    row = {stimulus: k for k, stimulus in enumerate(ids)}
    similarity = features @ features.T
    choices = []
    for offset in range(0, len(triplets), 3):
        i, j, k = triplets[offset : offset + 3]
        pairs = [similarity[row[i], row[j]], similarity[row[i], row[k]], similarity[row[j], row[k]]]
        choices.append((k, j, i)[int(np.argmax(pairs))])
    return choices
