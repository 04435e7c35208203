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

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from brainlike.anatomy.adam import fit_adam
from brainlike.anatomy.checkpoints import check_same_fit, load_checkpoint, saved_fingerprint, stamped
from brainlike.anatomy.jsonfiles import write_json_file
from brainlike.anatomy.lbfgs import fit_lbfgs
from brainlike.anatomy.lsq import fit_least_squares
from brainlike.anatomy.optimiser import FitResult, Optimiser, Progress, Values
from brainlike.anatomy.problem import Problem
from brainlike.anatomy.strides import StridePattern, stride_pattern
from brainlike.anatomy.system import System
from brainlike.errors import BrainlikeError

OPTIMISERS: dict[str, Optimiser] = {"lsq": fit_least_squares, "lbfgs": fit_lbfgs, "adam": fit_adam}
RESUME_SAME = "resume it with the same system and settings, or start afresh (--overwrite, without --resume)"
REFIT = "continue it with --resume, start afresh with --overwrite, or choose another -o"


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
    CALC's seeded start). `options` go to the optimiser (e.g. `steps` for Adam). Resuming from a
    checkpoint of another fit (other system, strides, weights, seed or start) is refused."""
    fit = optimiser(method)
    problem, start = fit_start(
        system,
        pattern=pattern,
        max_cumulative_stride=max_cumulative_stride,
        best_of=best_of,
        seed=seed,
        dead_end_missing=dead_end_missing,
        start=start,
    )
    pattern = problem.pattern
    current = fit_fingerprint(system, pattern, start, weights=weights, dead_end_missing=dead_end_missing, seed=seed)
    if resume and checkpoint and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint)
        if saved.get("method") == method and saved_fingerprint(saved) is not None:  # another method: its own message
            check_same_fit(saved_fingerprint(saved), current, str(checkpoint), RESUME_SAME)
    with stamped(current):
        return fit(problem, start, weights, checkpoint=checkpoint, resume=resume, on_step=on_step, **options)


def fit_start(
    system: System,
    *,
    pattern: StridePattern | None = None,
    max_cumulative_stride: int = 32,
    best_of: int = 10,
    seed: int = 0,
    dead_end_missing: str = "constant",
    start: Values | None = None,
) -> tuple[Problem, Values]:
    """The problem (with the strides given or searched) and the start values (given, or CALC's seeded start)."""
    pattern = pattern or stride_pattern(system, max_cumulative_stride=max_cumulative_stride, best_of=best_of, seed=seed)
    problem = Problem(system, pattern, dead_end_missing=dead_end_missing)
    return problem, problem.initial_values(seed) if start is None else start


START_OPTIONS = ("pattern", "max_cumulative_stride", "best_of", "seed", "dead_end_missing", "start")


def fit_fingerprint(
    system: System,
    pattern: StridePattern,
    start: Values,
    *,
    weights: dict[str, float] | None,
    dead_end_missing: str,
    seed: int,
) -> dict[str, Any]:
    """What a fit is of: digests of the system and of the start values, the strides, cost weights and seed,
    and the brainlike version (read from the installed metadata: anatomy does not import the package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        code = version("brainlike")
    except PackageNotFoundError:  # run from a source tree that was never installed
        code = "unknown"
    values = hashlib.sha256()
    for array in start:
        plain = np.ascontiguousarray(array, dtype=np.float64)
        values.update(f"{plain.shape};".encode() + plain.tobytes())
    system_text = json.dumps(system.to_dict(), sort_keys=True).encode()
    return json.loads(
        json.dumps(
            {
                "system_sha256": hashlib.sha256(system_text).hexdigest()[:16],
                "strides": dict(sorted(pattern.strides.items())),
                "weights": dict(sorted((weights or {}).items())),
                "dead_end_missing": dead_end_missing,
                "seed": seed,
                "start_sha256": values.hexdigest()[:16],
                "brainlike": code,
            }
        )
    )


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


def fit_to_folder(
    source: str, folder: str | Path, *, progress: bool = False, overwrite: bool = False, **options: Any
) -> Path:
    """Fit a system and write `network.json` (the spec), `system.json`, `fit.json` (cost, terms,
    seconds, strides, target vs achieved, fingerprint) and a report; `options` go to `fit_system`.

    A folder that holds another fit (another fingerprint or method) is refused unless `resume` continues its
    checkpoint (when it is of this fit) or `overwrite` starts afresh; the same fit again is simply redone."""
    from brainlike.anatomy.spec import spec_from_fit

    system = load_system(source)
    folder = Path(folder)
    problem, start = fit_start(system, **{k: v for k, v in options.items() if k in START_OPTIONS})
    fingerprint = {
        **fit_fingerprint(
            system,
            problem.pattern,
            start,
            weights=options.get("weights"),
            dead_end_missing=options.get("dead_end_missing", "constant"),
            seed=options.get("seed", 0),
        ),
        "method": options.get("method", "lsq"),
    }
    claim_fit_folder(folder, fingerprint, resume=options.get("resume", False), overwrite=overwrite)
    options = {**options, "pattern": problem.pattern, "start": start}
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
        "fingerprint": fingerprint,
    }
    write_json_file(folder / "fit.json", summary)
    _write_report(folder, result, summary)
    return folder


def claim_fit_folder(folder: Path, fingerprint: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
    """Refuse to write one fit into a folder holding another (its fit.json, or the checkpoint of an unfinished
    one), unless resuming (`fit_system` then checks the checkpoint) or overwriting (the checkpoint goes)."""
    checkpoint = folder / "checkpoint.pt"
    if overwrite:
        checkpoint.unlink(missing_ok=True)
        return
    if resume:
        return
    held = []
    if (folder / "fit.json").is_file():
        held.append(json.loads((folder / "fit.json").read_text()).get("fingerprint"))
    if checkpoint.is_file():
        saved = load_checkpoint(checkpoint)
        held.append(saved_fingerprint(saved) and {**saved_fingerprint(saved), "method": saved.get("method")})
    for saved in held:
        if saved is not None:  # a fit from before fingerprints cannot be told apart: it is redone
            check_same_fit(saved, fingerprint, str(folder), REFIT)


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
