"""ImageNet-C as published: AlexNet's errors as the mCE baseline, and corrupted images read from folders in
the published <corruption>/<severity>/<class>/<image> layout."""

import argparse
import json
import types

import numpy as np
import pytest
from PIL import Image

from brainlike import BrainlikeError
from brainlike.analysis.corruptions import CORRUPTIONS, corrupt, corruption_seed
from brainlike.analysis.robustness import (
    RobustnessResult,
    corruption_errors,
    measure_robustness,
    read_baseline,
    robustness_report,
    write_robustness_report,
)
from brainlike.cli.measures import add_robustness
from brainlike.data.corrupted import check_corrupted_layout, corrupted_folder
from brainlike.data.digits import digits
from brainlike.data.labeled import LabeledImages
from brainlike.transforms import geometry
from tests.analysis.test_adversarial_models import PRESET, SIZE, DigitNet, train

# AlexNet's ImageNet-C errors averaged over the five severities, as google-research/augmix ships them
# ("Raw AlexNet errors taken from https://github.com/hendrycks/robustness"), in the order of CORRUPTIONS.
AUGMIX_ALEXNET_MEANS = [
    0.886428, 0.894468, 0.922640, 0.819880, 0.826268, 0.785948, 0.798360, 0.866816,
    0.826572, 0.819324, 0.564592, 0.853204, 0.646056, 0.717840, 0.606500,
]  # fmt: skip


def test_the_published_alexnet_table_is_complete_and_agrees_with_its_averages():
    errors, clean = read_baseline("alexnet")
    assert list(errors) == list(CORRUPTIONS) and all(sorted(cells) == [1, 2, 3, 4, 5] for cells in errors.values())
    means = [np.mean(list(errors[c].values())) for c in CORRUPTIONS]
    assert means == pytest.approx(AUGMIX_ALEXNET_MEANS, abs=5e-7)
    counts = np.array([e * 50_000 for cells in errors.values() for e in cells.values()])
    assert np.allclose(counts, counts.round(), atol=1e-6)  # whole numbers of errors over 50,000 images
    assert clean == pytest.approx(0.43478)
    assert read_baseline("AlexNet") == (errors, clean)


def test_mce_with_the_alexnet_baseline_equals_the_formula_by_hand(tmp_path):
    fog_top1, snow_top1 = (0.6, 0.5, 0.4, 0.3, 0.2), (0.55, 0.45, 0.35, 0.25, 0.15)
    result = RobustnessResult(
        "m",
        100,
        clean=[0.70],
        top1={"fog": {s: [a] for s, a in enumerate(fog_top1, 1)}, "snow": {s: [a] for s, a in enumerate(snow_top1, 1)}},
    )
    folder = write_robustness_report(result, tmp_path, baseline="alexnet")
    payload = json.loads((folder / "report.json").read_text())
    fog_alexnet = (0.67474, 0.7605, 0.84378, 0.8726, 0.945)
    snow_alexnet = (0.71726, 0.88392, 0.86468, 0.9187, 0.94952)
    alexnet_clean = 0.43478
    ce_fog = (0.4 + 0.5 + 0.6 + 0.7 + 0.8) / sum(fog_alexnet)
    ce_snow = (0.45 + 0.55 + 0.65 + 0.75 + 0.85) / sum(snow_alexnet)
    assert payload["ce"] == pytest.approx({"fog": ce_fog, "snow": ce_snow})
    assert payload["mce"] == pytest.approx((ce_fog + ce_snow) / 2)
    rce_fog = (3.0 - 5 * 0.3) / (sum(fog_alexnet) - 5 * alexnet_clean)
    rce_snow = (3.25 - 5 * 0.3) / (sum(snow_alexnet) - 5 * alexnet_clean)
    assert payload["relative_mce"] == pytest.approx((rce_fog + rce_snow) / 2)
    assert "Hendrycks" in (folder / "report.md").read_text()
    some = corruption_errors({"snow": {2: 0.55, 4: 0.75}}, read_baseline("alexnet")[0])
    assert some == pytest.approx({"snow": (0.55 + 0.75) / (0.88392 + 0.9187)})  # only the severities measured


def test_the_alexnet_baseline_is_refused_for_a_dataset_that_is_not_imagenet(tmp_path):
    with pytest.raises(BrainlikeError, match="1000 classes"):
        robustness_report("b_net_32", tmp_path, data="digits", baseline="alexnet", pretrained=False, limit=2)


class _Subset(LabeledImages):
    def __init__(self, images, targets):
        self.images, self.targets, self.classes = images, targets, [str(d) for d in range(10)]

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def _write_published_layout(root, data, corruptions, severities, seed, *, family=None):
    """The corrupted images brainlike makes on the fly (32 px, the smallest the reference corruptions take),
    saved losslessly in the published layout."""
    resize = geometry(PRESET, 32)
    for index in range(len(data)):
        image, label = data[index]
        pixels = resize(image).permute(1, 2, 0).numpy()
        for name in corruptions:
            for severity in severities:
                out = corrupt(pixels, name, severity, corruption_seed(seed, index, name, severity))
                folder = root / (family or "") / name / str(severity) / data.classes[label]
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(out).save(folder / f"{index:04d}.png")


@pytest.fixture(scope="module")
def digit_net():
    model = train(DigitNet())
    model.card = types.SimpleNamespace(name="digit_net", input_size=SIZE, preprocessing=PRESET)
    return model


@pytest.mark.slow
def test_a_folder_in_the_published_layout_scores_as_on_the_fly_corruption(digit_net, tmp_path):
    val = digits("val", size=SIZE)
    data = _Subset(val.images[:40], val.targets[:40])
    settings = dict(corruptions=["gaussian_noise", "contrast"], severities=[1, 5], seed=3, workers=0, batch_size=16)
    _write_published_layout(tmp_path / "C", data, settings["corruptions"], settings["severities"], seed=3)
    on_the_fly = measure_robustness(digit_net, data, reference=True, **settings)
    published = measure_robustness(digit_net, data, corrupted_data=tmp_path / "C", **settings)
    assert published == on_the_fly
    top1 = [a[-1] for cells in published.top1.values() for a in cells.values()]
    assert len(set(top1)) > 1 and published.clean[-1] > 0.8  # a model whose scores tell the cells apart


def test_corruption_families_and_clear_errors_for_missing_folders(tmp_path):
    data = _Subset(digits("val", size=SIZE).images[:3], [0, 1, 1])
    _write_published_layout(tmp_path, data, ["fog"], [1, 2], seed=0, family="weather")
    cell = corrupted_folder(tmp_path, "fog", 2, classes=[str(d) for d in range(10)])
    assert len(cell) == 3 and cell.targets == [0, 1, 1]
    check_corrupted_layout(tmp_path, ["fog"], [1, 2])
    with pytest.raises(BrainlikeError, match="no severity folder 3.*found: 1, 2"):
        check_corrupted_layout(tmp_path, ["fog"], [1, 3])
    with pytest.raises(BrainlikeError, match="has no snow folder"):
        check_corrupted_layout(tmp_path, ["snow"], [1])
    with pytest.raises(BrainlikeError, match="not a class of the clean dataset"):
        corrupted_folder(tmp_path, "fog", 1, classes=["0", "2"])
    with pytest.raises(BrainlikeError, match="no corrupted dataset"):
        corrupted_folder(tmp_path / "absent", "fog", 1)


def test_the_report_checks_the_folder_before_evaluating(tmp_path):
    (tmp_path / "C" / "fog" / "1").mkdir(parents=True)
    with pytest.raises(BrainlikeError, match="no severity folder 2"):
        robustness_report(
            "b_net_32", tmp_path / "out", data="digits", corruptions=["fog"], severities=[1, 2],
            corrupted_data=tmp_path / "C", pretrained=False,
        )  # fmt: skip


def test_the_command_line_takes_the_published_baseline_and_folders():
    parser = argparse.ArgumentParser()
    add_robustness(parser.add_subparsers())
    args = parser.parse_args(
        ["robustness", "cornet_s", "--data", "d", "--baseline", "alexnet", "--corrupted-data", "C"]
    )
    assert args.baseline == "alexnet" and args.corrupted_data == "C"
