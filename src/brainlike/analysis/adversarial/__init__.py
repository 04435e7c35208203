"""White-box adversarial robustness as the VOneNet paper measures it: untargeted PGD under L-infinity, L2
and L1 budgets in [0, 1] pixel space, expectation over noise for stochastic models, robust accuracy per
readout step with a confidence interval.

    result = measure_adversarial(model, dataset, budgets="vonenet")   # or ["linf:1/255", "l2:0.5"]
    result.frame()                                                     # one row per budget and step
    adversarial_report("vonenet_resnet50", "adv-report", data="/data/imagenet", limit=500)

`pgd(loss_fn, x, budget)` is the attack itself, for any function of pixels.
"""

from brainlike.analysis.adversarial.budgets import PRESETS, Budget, parse_budget, resolve_budgets
from brainlike.analysis.adversarial.measure import measure_adversarial
from brainlike.analysis.adversarial.pgd import enforce_budget, inside_budget, perturbation_norms, pgd, random_start
from brainlike.analysis.adversarial.readouts import PixelReadouts, StochasticModelWarning
from brainlike.analysis.adversarial.report import adversarial_report, write_adversarial_report
from brainlike.analysis.adversarial.result import AdversarialResult, wilson_interval

__all__ = [
    "PRESETS",
    "AdversarialResult",
    "Budget",
    "PixelReadouts",
    "StochasticModelWarning",
    "adversarial_report",
    "enforce_budget",
    "inside_budget",
    "measure_adversarial",
    "parse_budget",
    "perturbation_norms",
    "pgd",
    "random_start",
    "resolve_budgets",
    "wilson_interval",
    "write_adversarial_report",
]
