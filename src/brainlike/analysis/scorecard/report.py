"""`scorecard_report`: the scorecard as report.md / report.json / figures and one static HTML page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from brainlike.analysis.scorecard.measurements import Score, parse_suite
from brainlike.analysis.scorecard.run import FAILED, RECOMPUTED, REUSED, measure_scorecard
from brainlike.analysis.scorecard.table import Scorecard
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.similarity import score_bars, step_profiles
from brainlike.reports.html import Cell, SortableTable, write_html


def _shown(score: Score | None, rank: float | None = None) -> str:
    if score is None or not score.finite:
        return "–"
    text = f"{score.value:.3f}"
    if score.ci is not None and all(math.isfinite(v) for v in score.ci):
        text += f" [{score.ci[0]:.3f}, {score.ci[1]:.3f}]"
    if rank is not None:
        text += f" (#{rank:g})"
    return text


def _header(card: Scorecard, column: str) -> str:
    ceiled = any(column in row and row[column].ceiled for row in card.scores().values())
    return f"{column} (ceiled)" if ceiled else column


def score_table(card: Scorecard) -> tuple[list[str], list[list[str]]]:
    """Markdown headers and rows: one row per model, a cell per score (value [interval] (#rank))."""
    table, ranks, mean = card.scores(), card.ranks(), card.mean_ranks()
    headers = ["model", *(_header(card, c) for c in card.columns), "mean rank"]
    rows = [
        [model]
        + [_shown(table[model].get(c), ranks[c].get(model)) for c in card.columns]
        + ["–" if math.isnan(mean[model]) else f"{mean[model]:.2f}"]
        for model in card.models
    ]
    return headers, rows


def sortable_scores(card: Scorecard) -> SortableTable:
    table, mean = card.scores(), card.mean_ranks()
    headers, text_rows = score_table(card)
    rows = []
    for model, texts in zip(card.models, text_rows):
        cells = [Cell(model, model)]
        for column, text in zip(card.columns, texts[1:-1]):
            score = table[model].get(column)
            cells.append(Cell(text, score.value if score is not None and score.finite else None))
        cells.append(Cell(texts[-1], None if math.isnan(mean[model]) else mean[model]))
        rows.append(cells)
    return SortableTable("Scores", headers, rows, note="Click a column to sort by it; #k is the model's rank.")


def _status_section(card: Scorecard, folder: Path) -> str:
    counts = card.status()
    lines = [
        f"{counts.get(REUSED, 0)} of {len(card.outcomes)} results reused from `{folder / 'results'}` "
        "(same model, weights digest and settings); the others were measured now."
    ]
    for outcome in card.outcomes:
        if outcome.status == RECOMPUTED:
            lines.append(
                f"- {outcome.model} {outcome.entry}: measured again, the fingerprint changed ({outcome.reason})"
            )
        elif outcome.status == FAILED:
            lines.append(f"- {outcome.model} {outcome.entry}: failed: {outcome.reason}")
    return "\n".join(lines)


def _details_section(card: Scorecard, column: str) -> str:
    table = card.scores()
    rows = []
    for model in card.models:
        score = table[model].get(column)
        if score is None:
            continue
        plain = {k: v for k, v in score.details.items() if not isinstance(v, (dict, list))}
        extra = "; ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in plain.items())
        nested = {k: v for k, v in score.details.items() if isinstance(v, dict) and len(v) <= 12}
        for key, values in nested.items():
            shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
            extra += f"; {key}: {shown}"
        rows.append(
            [
                model,
                _shown(score),
                "–" if score.raw is None else f"{score.raw:.3f}",
                "–" if score.ceiling is None else f"{score.ceiling:.3f}",
                extra.strip("; ") or "–",
            ]
        )
    return markdown_table(["model", "value", "raw", "ceiling", "details"], rows)


def _figures(report: Report, card: Scorecard) -> None:
    table = card.scores()
    for k, column in enumerate(card.columns):
        scores = [table[m].get(column) for m in card.models]
        values = [s.value if s is not None else math.nan for s in scores]
        low = [s.ci[0] if s is not None and s.ci else None for s in scores]
        high = [s.ci[1] if s is not None and s.ci else None for s in scores]
        report.add_figure(
            f"score_{k}", score_bars(card.models, values, low, high, ylabel=column, title=column), caption=column
        )
        profiles = {m: s.per_step for m, s in zip(card.models, scores) if s is not None and s.per_step}
        if profiles:
            report.add_figure(
                f"steps_{k}",
                step_profiles(profiles, ylabel=column, title=f"{column} per step"),
                caption=f"{column} at each step of the recurrent models",
            )


def write_scorecard_report(card: Scorecard, output: str | Path, *, suite: str | Sequence[str]) -> Path:
    """The report folder of a scorecard: report.md, report.json, figures, and report.html beside them."""
    report = Report(Path(output), f"Scorecard: {', '.join(card.models)}")
    headers, rows = score_table(card)
    report.add_section("Scores", markdown_table(headers, rows))
    report.add_section(
        "Measurements",
        "\n".join(f"- **{e.key}**: {e.measurement.description}" for e in parse_suite(suite))
        + "\n\nRanks: 1 is the best model on a score (ties share the mean rank); the mean rank is over the "
        "scores a model has.",
    )
    report.add_section("Reuse", _status_section(card, report.folder))
    for column in card.columns:
        report.add_section(f"Details: {column}", _details_section(card, column))
    _figures(report, card)
    report.data.update(
        models=card.models,
        suite=card.entries,
        scores={m: list(s.values()) for m, s in card.scores().items()},
        ranks=card.ranks(),
        mean_ranks=card.mean_ranks(),
        outcomes=[{"model": o.model, "entry": o.entry, "status": o.status, "reason": o.reason} for o in card.outcomes],
    )
    folder = report.write()
    write_html(report, tables=[sortable_scores(card)])
    return folder


def scorecard_report(
    models, output: str | Path, *, suite: str | Sequence[str] = "v1,robustness,accuracy", **options
) -> Path:
    """`brainlike scorecard`: measure_scorecard (which takes `options`: pretrained, data, split, limit,
    stimuli, behaviour_stimuli, corruptions, severities, v1_units, seed, device, batch_size, workers,
    progress), then the report folder (report.md, report.html, figures)."""
    card = measure_scorecard(models, output, suite=suite, **options)
    return write_scorecard_report(card, output, suite=suite)
