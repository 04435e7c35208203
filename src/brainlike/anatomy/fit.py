"""Fit a CNN to a System (Tripp 2019): strides, then channel fractions c, densities sigma and RF widths.

`fit_system` searches the strides (`strides`), states the problem (`problem`) and hands it, with one
start, to an optimiser by method name (`OPTIMISERS`, all behind `optimiser.Optimiser`):
- "lsq" (default): trust-region least squares with the exact Jacobian, along two routes (`lsq`);
- "lbfgs": L-BFGS-B on the cost itself (`lbfgs`);
- "adam": the original schedule, for reproducing the original's trajectory (`adam`).
The first two work in float64 on log c, log sigma and the log RF growth (`variables`).
`fit_to_folder` is `brainlike calc fit`: the fit, its spec and its report in one folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brainlike.anatomy.adam import fit_adam
from brainlike.anatomy.jsonfiles import write_json_file
from brainlike.anatomy.lbfgs import fit_lbfgs
from brainlike.anatomy.lsq import fit_least_squares
from brainlike.anatomy.optimiser import FitResult, Optimiser, Progress, Values
from brainlike.anatomy.problem import Problem
from brainlike.anatomy.strides import StridePattern, stride_pattern
from brainlike.anatomy.system import System
from brainlike.errors import BrainlikeError

OPTIMISERS: dict[str, Optimiser] = {"lsq": fit_least_squares, "lbfgs": fit_lbfgs, "adam": fit_adam}


def optimiser(method: str) -> Optimiser:
    if method not in OPTIMISERS:
        names = [repr(name) for name in OPTIMISERS]
        raise BrainlikeError(f"method must be {', '.join(names[:-1])} or {names[-1]}, not {method!r}")
    return OPTIMISERS[method]


def fit_system(
    system: System,
    *,
    pattern: StridePattern | None = None,
    method: str = "lsq",
    max_cumulative_stride: int = 32,
    best_of: int = 10,
    seed: int = 0,
    weights: dict[str, float] | None = None,
    dead_end_missing: str = "constant",
    start: Values | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    on_step: Progress | None = None,
    **options: Any,
) -> FitResult:
    """Strides (explicit ones kept, the rest searched), then the continuous fit from `start` (default:
    CALC's seeded start). `options` go to the optimiser (e.g. `steps` for Adam)."""
    fit = optimiser(method)
    pattern = pattern or stride_pattern(system, max_cumulative_stride=max_cumulative_stride, best_of=best_of, seed=seed)
    problem = Problem(system, pattern, dead_end_missing=dead_end_missing)
    if start is None:
        start = problem.initial_values(seed)
    return fit(problem, start, weights, checkpoint=checkpoint, resume=resume, on_step=on_step, **options)


def load_system(source: str) -> System:
    """A System from a JSON file, or one of the named builders (ventral, dorsal, macaque)."""
    from brainlike.anatomy import macaque
    from brainlike.anatomy.system import reference_system
    from brainlike.anatomy.tables import reference_systems

    builders = {"ventral": macaque.ventral_system, "dorsal": macaque.dorsal_system, "macaque": macaque.macaque_system}
    if source in builders:
        return builders[source]()
    if source in reference_systems():
        return reference_system(source)
    return System.load(source)


def fit_to_folder(source: str, folder: str | Path, *, progress: bool = False, **options: Any) -> Path:
    """Fit a system and write `network.json` (the spec), `system.json`, `fit.json` (cost, terms,
    seconds, strides, target vs achieved) and a report; `options` go to `fit_system`."""
    from brainlike.anatomy.spec import spec_from_fit

    system = load_system(source)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="calc fit", unit="eval", leave=False)

    def count(step: int, value: float) -> None:
        if bar is not None:  # steps count per optimiser run; the bar counts them all
            bar.update(1)
            bar.set_postfix(cost=f"{value:.6g}")

    result = fit_system(system, checkpoint=folder / "checkpoint.pt", on_step=count, **options)
    if bar is not None:
        bar.close()
    spec_from_fit(result).save(folder / "network.json")
    system.save(folder / "system.json")
    summary = {
        "total": result.total,
        "terms": result.terms,
        "seconds": result.seconds,
        "method": result.method,
        "evaluations": result.iterations,
        "strides": result.problem.pattern.strides,
        "comparison": result.comparison(),
    }
    write_json_file(folder / "fit.json", summary)
    _write_report(folder, result, summary)
    return folder


def _write_report(folder: Path, result: FitResult, summary: dict[str, Any]) -> None:
    from brainlike.reports import Report, markdown_table

    report = Report(folder, "CALC fit")
    report.data.update(summary)
    report.add_section(
        "Cost",
        markdown_table(
            ["term", "value"],
            [[k, v] for k, v in result.terms.items()] + [["total", result.total], ["seconds", result.seconds]],
        ),
    )
    report.add_section(
        "Populations: target vs achieved",
        markdown_table(
            ["population", "n target", "n", "e target", "e", "w target", "w_rf"],
            [
                [r["name"], r["n_target"], r["n"], r["e_target"] or "", r["e"] or "", r["w_target"] or "", r["w_rf"]]
                for r in summary["comparison"]["populations"]
            ],
        ),
    )
    report.add_section(
        "Projections: target vs achieved",
        markdown_table(
            ["projection", "kind", "target", "achieved"],
            [[r["name"], r["kind"], r["target"], r["achieved"]] for r in summary["comparison"]["projections"]],
        ),
    )
    report.write()
