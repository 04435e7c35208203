"""PGD steps per second, the attack loop's overhead over a plain forward+backward, and agreement with
torchattacks.

    python bench/adversarial.py [--models cornet_s vonenet_resnet50] [--batch 16] [--threads 2] [--steps 4]
                                [--eot 10] [--tiny] [--out bench/results/adversarial.json]

For each model (random weights: the cost is the same as the published ones') on a batch of random
images at the model's input size:
- plain: one forward+backward to the input gradient (what a PGD step cannot avoid), and one with
  parameter gradients as training does, for reference;
- pgd: seconds per PGD step under L-infinity, L2 and L1 budgets (eot 1), the overhead over "plain", and
  for a stochastic model (a VOneNet, noise on) the steps/s with --eot gradient samples.
With torchattacks installed, brainlike's L-infinity and L2 PGD are run beside torchattacks' PGD and PGDL2
(same steps, step size, no random start) on a small model: the largest pixel difference of the two
adversarial batches, the share of images both leave misclassified alike, and both speeds. --tiny runs
everything on small 32 px models with a batch of 2, to check the script works.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brainlike import create_model  # noqa: E402
from brainlike.analysis.adversarial import Budget, PixelReadouts, pgd  # noqa: E402
from brainlike.analysis.adversarial.readouts import is_stochastic, objective_loss  # noqa: E402
from brainlike.transforms import normalize  # noqa: E402

BUDGETS = {"linf": 1 / 255, "l2": 0.6, "l1": 160.0}


def _timed(fn, repeats: int) -> float:
    """The fastest of `repeats` calls after a warm-up (allocator, oneDNN primitives): the least disturbed
    by other work on a shared machine."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_model(name: str, batch: int, steps: int, eot: int) -> dict:
    model = create_model(name, pretrained=False).eval()
    card = model.card
    attacked = PixelReadouts(model.requires_grad_(False), card.preprocessing)
    x = torch.rand(batch, 3, card.input_size, card.input_size, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, card.num_classes, (batch,), generator=torch.Generator().manual_seed(1))
    loss = objective_loss(attacked, y, "last")

    def input_gradient():
        leaf = x.clone().requires_grad_(True)
        torch.autograd.grad(loss(leaf).sum(), leaf)

    def parameter_gradients():
        model.requires_grad_(True)
        model.zero_grad(set_to_none=True)
        loss(x).mean().backward()
        model.requires_grad_(False)

    row = {"model": name, "batch": batch, "input_px": card.input_size, "stochastic": is_stochastic(attacked, x[:2])}
    row["plain_input_grad_s"] = _timed(input_gradient, steps)
    row["plain_param_grad_s"] = _timed(parameter_gradients, steps)
    for norm, epsilon in BUDGETS.items():
        budget = Budget(norm, epsilon, steps=steps)
        seconds = _timed(lambda b=budget: pgd(loss, x, b), 2) / steps
        row[f"pgd_{norm}_step_s"] = seconds
        row[f"pgd_{norm}_steps_per_s"] = 1 / seconds
        row[f"pgd_{norm}_overhead"] = seconds / row["plain_input_grad_s"] - 1
    if row["stochastic"] and eot > 1:
        budget = Budget("linf", BUDGETS["linf"], steps=max(1, steps // 2))
        seconds = _timed(lambda: pgd(loss, x, budget, eot_samples=eot), 1) / budget.steps
        row[f"pgd_linf_eot{eot}_steps_per_s"] = 1 / seconds
    return row


class _Logits(nn.Module):
    """[0, 1] pixels -> last logits, for torchattacks (which expects unnormalised inputs)."""

    def __init__(self, model, preprocessing):
        super().__init__()
        self.model, self.preprocessing = model, preprocessing

    def forward(self, pixels):
        return self.model(normalize(pixels, self.preprocessing))


def compare_torchattacks(batch: int, steps: int) -> list[dict]:
    try:
        import torchattacks
    except ImportError:
        return []
    model = create_model("b_net_32", pretrained=False).eval().requires_grad_(False)
    preset = model.card.preprocessing
    x = torch.rand(batch, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    wrapped = _Logits(model, preset).eval()  # torchattacks restores the mode it finds
    y = wrapped(x).argmax(1)  # the model's own labels, so every image starts correctly classified
    loss = objective_loss(PixelReadouts(model, preset), y, "last")
    rows = []
    for norm, epsilon, theirs in (
        ("linf", 2 / 255, torchattacks.PGD(wrapped, eps=2 / 255, alpha=0.5 / 255, steps=steps, random_start=False)),
        ("l2", 0.5, torchattacks.PGDL2(wrapped, eps=0.5, alpha=0.125, steps=steps, random_start=False)),
    ):
        budget = Budget(norm, epsilon, steps=steps)
        ours_s = _timed(lambda b=budget: pgd(loss, x, b), 1)
        theirs_s = _timed(lambda t=theirs: t(x, y), 1)
        a, b = pgd(loss, x, budget), theirs(x, y)
        fooled_a, fooled_b = wrapped(a).argmax(1) != y, wrapped(b).argmax(1) != y
        rows.append(
            {
                "norm": norm,
                "epsilon": epsilon,
                "steps": steps,
                "max_pixel_difference": float((a - b).abs().max()),
                "same_outcome": float((fooled_a == fooled_b).float().mean()),
                "fooled_brainlike": float(fooled_a.float().mean()),
                "fooled_torchattacks": float(fooled_b.float().mean()),
                "brainlike_s": ours_s,
                "torchattacks_s": theirs_s,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cornet_s", "vonenet_resnet50"])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4, help="PGD steps timed per norm")
    parser.add_argument("--eot", type=int, default=10)
    parser.add_argument("--tiny", action="store_true", help="small models, batch 2: check that the script runs")
    parser.add_argument("--out", default="bench/results/adversarial.json")
    args = parser.parse_args()
    if args.tiny:
        args.models, args.batch, args.steps, args.eot = ["b_net_32", "bl_net_32"], 2, 2, 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"batch {args.batch}, torch threads {torch.get_num_threads()}, {args.steps} steps per norm")
    print(f"{'model':18s} {'fwd+bwd s':>9s} {'train s':>8s} " + " ".join(f"{n + ' step/s':>11s}" for n in BUDGETS)
          + " " + " ".join(f"{n + ' ovh':>8s}" for n in BUDGETS) + "  eot")  # fmt: skip
    rows = []
    for name in args.models:
        row = bench_model(name, args.batch, args.steps, args.eot)
        rows.append(row)
        rates = " ".join(f"{row[f'pgd_{n}_steps_per_s']:11.2f}" for n in BUDGETS)
        overheads = " ".join(f"{100 * row[f'pgd_{n}_overhead']:7.1f}%" for n in BUDGETS)
        eot = row.get(f"pgd_linf_eot{args.eot}_steps_per_s")
        print(
            f"{name:18s} {row['plain_input_grad_s']:9.3f} {row['plain_param_grad_s']:8.3f} {rates} {overheads}  "
            + (f"{eot:.3f} step/s at eot {args.eot}" if eot else "deterministic")
        )
    comparison = compare_torchattacks(max(args.batch, 8), max(args.steps, 10))
    for row in comparison:
        print(
            f"vs torchattacks {row['norm']:4s}: max pixel diff {row['max_pixel_difference']:.2e}, same outcome "
            f"{100 * row['same_outcome']:.0f} %, {row['brainlike_s']:.3f} s vs {row['torchattacks_s']:.3f} s"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": rows}
    out.write_text(json.dumps({**payload, "torchattacks": comparison}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
