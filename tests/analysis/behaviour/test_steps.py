"""Decision times of a recurrent model and their correlation with human reaction times."""

import numpy as np
import pandas as pd
import pytest

from brainlike import BrainlikeError
from brainlike.analysis.behaviour import decision_times, human_rt, load_responses, spearman_bootstrap


def _steps(responses: dict[str, list[str]], confidence: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"image": image, "step": t, "response": r, "confidence": confidence[image][t]}
        for image, per_step in responses.items()
        for t, r in enumerate(per_step)
    ]
    return pd.DataFrame(rows)


def test_stable_and_confident_steps():
    trials = _steps(
        {"a": ["cat", "dog", "dog", "dog"], "b": ["cat"] * 4, "c": ["cat", "dog", "cat", "dog"], "d": ["dog"] * 4},
        {"a": [0.2, 0.4, 0.6, 0.7], "b": [0.5, 0.9, 0.9, 0.9], "c": [0.3] * 4, "d": [0.1, 0.2, 0.3, 0.49]},
    )
    times = decision_times(trials)
    assert times["stable_step"].to_dict() == {"a": 1, "b": 0, "c": 3, "d": 0}
    assert times["confident_step"].to_dict() == {"a": 2, "b": 0, "c": 4, "d": 4}  # c, d never: censored at 4
    assert decision_times(trials, threshold=0.3)["confident_step"].to_dict() == {"a": 1, "b": 0, "c": 0, "d": 2}
    with pytest.raises(BrainlikeError, match="threshold"):
        decision_times(trials, threshold=0)
    with pytest.raises(BrainlikeError, match="every step"):
        decision_times(trials.drop(columns="confidence"))


def test_human_rt_is_the_mean_over_the_humans_answers():
    trials = load_responses("edges")
    rts = human_rt(trials)
    assert len(rts) == 160
    image = "oven/oven10.png"
    own = trials[(trials["image"] == image) & trials["observer"].str.startswith("subject")]["rt"].dropna()
    assert rts[image] == pytest.approx(own.mean())


def test_spearman_with_a_bootstrap_interval():
    rng = np.random.default_rng(1)
    index = [f"i{k}" for k in range(200)]
    x = pd.Series(rng.normal(size=200), index=index)
    monotone = spearman_bootstrap(x, np.exp(x), resamples=200)
    assert monotone.rho == pytest.approx(1.0) and monotone.low == pytest.approx(1.0) and monotone.images == 200
    noisy = spearman_bootstrap(x, x + rng.normal(scale=1.0, size=200), resamples=500, seed=3)
    assert 0.5 < noisy.rho < 0.85 and noisy.low < noisy.rho < noisy.high and noisy.high - noisy.low < 0.3
    independent = spearman_bootstrap(x, pd.Series(rng.normal(size=200), index=index), resamples=500)
    assert independent.low < 0 < independent.high
    assert spearman_bootstrap(x, x, resamples=100, seed=5) == spearman_bootstrap(x, x, resamples=100, seed=5)
    constant = spearman_bootstrap(pd.Series(2.0, index=index), x)
    assert np.isnan(constant.rho) and constant.resamples == 0
    assert spearman_bootstrap(x.iloc[:100], x.iloc[50:]).images == 50  # over the common images
