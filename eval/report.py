"""An evaluation report on disk: report.json (everything), report.md (tables), report.png (plots)."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
from pathlib import Path

from iqtibas.eval.evaluate import BREAKDOWNS, HIT_KS, RANKED_DEPTH, RETRIEVAL_MODES, Report
from iqtibas.eval.pairs import LANGUAGES
from iqtibas.records import IqtibasError

REPORT_FILES = ("report.json", "report.md", "report.png")
RETRIEVAL_COLUMNS = (*(f"hit@{k}" for k in HIT_KS), "mrr@10", "ndcg@10")


def _number(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table's lines; floats with two decimals, nan as a dash."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_number(cell) for cell in row) + " |" for row in rows]
    return lines


def retrieval_table(report: Report, groups: list[str] | None = None) -> list[str]:
    retrieval = report.figures["retrieval"]
    groups = groups or list(retrieval["hybrid"])
    rows = [
        [group, mode, retrieval[mode][group]["n"], *(retrieval[mode][group][c] for c in RETRIEVAL_COLUMNS)]
        for group in groups
        for mode in RETRIEVAL_MODES
    ]
    return markdown_table(["questions", "retrieval", "n", *RETRIEVAL_COLUMNS], rows)


def answer_table(report: Report, groups: list[str] | None = None) -> list[str]:
    answers = report.figures["answers"]
    groups = groups or list(answers)
    columns = ("evidence_in_quote", "footnote_precision", "footnote_recall", "false_abstention")
    return markdown_table(["questions", "n", *columns], [[g, answers[g]["n"], *(answers[g][c] for c in columns)] for g in groups])


def groups_by(report: Report, key: str) -> list[str]:
    """The report's groups of one breakdown ("lang", "type", "style"), after "all" for languages."""
    found = [group for group in report.figures["answers"] if group.startswith(f"{key}:")]
    return ["all", *found] if key == "lang" else found


def breakdown_sections(report: Report, table) -> list[str]:
    """One table per breakdown: by language (with all), by type, by style."""
    lines = []
    for key in BREAKDOWNS:
        lines += ["", f"### By {key}", "", *table(report, groups_by(report, key))]
    return lines


ROBUSTNESS_COLUMNS = {"hit@3": "hit@3 hybrid", "evidence_in_quote": "evidence in quote",
                      "unanswerable_refused": "unanswerable refused", "answerable_refused": "answerable refused",
                      "confidently_wrong": "confidently wrong"}


def _change(before: float, after: float, drop: float) -> str:
    if math.isnan(before):
        return "–"
    return f"{before:.2f} → {after:.2f} ({drop:+.2f})"


def robustness_table(report: Report) -> list[str]:
    """Each variant kind's figures against its originals': "original → variant (drop)"."""
    rows = []
    for language, kinds in report.figures["robustness"].items():
        for kind, f in kinds.items():
            rows.append([language, kind, f"{f['answerable']} / {f['unanswerable']}",
                         *(_change(f["original"][c], f["variant"][c], f["drop"][c]) for c in ROBUSTNESS_COLUMNS)])
    return markdown_table(["language", "variant", "answerable / unanswerable", *ROBUSTNESS_COLUMNS.values()], rows)


def robustness_section(report: Report) -> list[str]:
    asked = {q["id"]: q["question"] for q in report.questions}
    first = {}
    for variant in report.variants:
        first.setdefault(variant["kind"], variant)
    examples = [first[kind] for kinds in report.figures["robustness"].values() for kind in kinds if kind in first]
    return [
        "## Robustness: machine-typed variants",
        "",
        "Each question asked again with one typing habit applied, through the same answer path, keeping its "
        "evidence and answerability; a variant that leaves the question unchanged is left out, so each kind "
        "is measured on the questions it changes, against those questions' own figures: original → variant "
        "(drop, variant minus original). A fall in the first three figures, or a rise in the last two, is worse.",
        "",
        *robustness_table(report),
        "",
        "For example:",
        "",
        *(f"- {v['kind']}: `{v['id']}` {asked[v['id']]} → {v['question']}" for v in examples),
    ]


def summary_lines(report: Report) -> list[str]:
    """The few lines `iqtibas eval` prints: hybrid retrieval and answers by language, abstention, latency."""
    figures = report.figures
    by_language = ["all", *(f"lang:{language}" for language in LANGUAGES)]
    lines = retrieval_table(report, by_language) + [""] + answer_table(report, by_language)
    abstention = figures["abstention"]
    latency = figures["latency_ms"]
    lines += [
        "",
        f"abstention: {_number(abstention['rate_on_unanswerable'])} of unanswerable questions, "
        f"{_number(abstention['false_rate_on_answerable'])} of answerable",
    ]
    lines += [
        f"  {language}: {_number(a['rate_on_unanswerable'])} / {_number(a['false_rate_on_answerable'])} at threshold "
        f"{a['threshold']:.3f} confidence, balanced accuracy {_number(a['balanced_accuracy'])} (best on this set: "
        f"{a['calibrated_threshold']:.3f}, balanced accuracy {_number(a['calibrated_balanced_accuracy'])})"
        for language, a in abstention.items() if isinstance(a, dict)
    ]
    levels = figures["levels"]
    lines.append("levels: " + "; ".join(
        f"{name} {_number(levels[name]['share'])} of questions, precision {_number(levels[name]['precision'])}"
        for name in ("quote", "related", "none")) + f"; confidently wrong {_number(levels['confidently_wrong'])}")
    lines.append(f"latency per question: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms")
    return lines


def markdown(report: Report) -> str:
    counts = report.figures["counts"]
    lines = [
        "# iqtibas evaluation",
        "",
        f"{report.created}; {report.machine['cpu']}, {report.machine['cores']} cores, "
        f"Python {report.machine['versions']['python']}. Regenerate with `make eval`.",
        "",
        f"Split: {report.split} ({'every pair' if report.split == 'all' else f'the {report.split} pairs only'}). "
        f"{counts['pairs']} pairs: {counts['answerable']} answerable, {counts['unanswerable']} unanswerable; "
        f"{counts['ar']} Arabic, {counts['en']} English. A retrieved chunk is relevant when it contains, is "
        "contained in, or shares half of a gold evidence string.",
        "",
        "## Retrieval",
        *breakdown_sections(report, retrieval_table),
        "",
        "## Answers",
        *breakdown_sections(report, answer_table),
        "",
        "## Answer levels",
        "",
        "quote: \"According to the article:\", right when the quote holds the evidence; related: the closest "
        "passage, right when it holds the evidence; none: \"the article does not say\", right for an "
        "unanswerable question.",
        "",
        *markdown_table(["level", "share of questions", "precision"],
                        [[name, report.figures["levels"][name]["share"], report.figures["levels"][name]["precision"]]
                         for name in ("quote", "related", "none")]),
        "",
        f"Answered confidently but wrongly: {_number(report.figures['levels']['confidently_wrong'])} of all questions.",
        "",
        "## Abstention and latency",
        "",
        *summary_lines(report)[-5:],
    ]
    if "robustness" in report.figures:
        lines += ["", *robustness_section(report)]
    if report.sweep:
        header = list(report.sweep[0])
        lines += ["", "## Sweep", "", *markdown_table(header, [[row[h] for h in header] for row in report.sweep])]
    missed = [q for q in report.questions if q["answerable"] and not q["answer"].get("evidence_in_quote")]
    if missed:
        lines += ["", "## Answerable questions whose quote missed the evidence", ""]
        lines += [f"- `{q['id']}` {q['question']}" + (" (abstained)" if q["answer"]["abstained"] else "") for q in missed]
    return "\n".join(lines) + "\n"


def plot_png(report: Report) -> bytes:
    """The plot as PNG bytes."""
    buffer = io.BytesIO()
    plot(report, buffer)
    return buffer.getvalue()


def plot(report: Report, path) -> None:
    """recall@k (k = 1..10) by language, and the score distributions with the threshold, saved to
    ``path`` (a file name or a binary file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    ks = list(range(1, RANKED_DEPTH + 1))
    for mode, style in zip(RETRIEVAL_MODES, (":", "--", "-")):
        for language, colour in (("ar", "tab:green"), ("en", "tab:blue")):
            values = report.figures["retrieval"][mode][f"lang:{language}"]["recall@k"]
            left.plot(ks, values, style, color=colour, marker="o", markersize=3, label=f"{mode}, {language}")
    left.set(title="Evidence recall@k", xlabel="k", ylabel="recall", ylim=(0, 1.02), xticks=ks)
    left.legend(fontsize=8, loc="lower right")
    scores = {f"{kind}, {lang}": [q["answer"]["score"] for q in report.questions
                                  if q["lang"] == lang and q["answerable"] == answerable]
              for lang in LANGUAGES for kind, answerable in (("answerable", True), ("unanswerable", False))}
    colours = dict(zip(scores, ["tab:green", "tab:red", "tab:blue", "tab:orange"]))
    shown = [label for label, values in scores.items() if values]  # a set may lack a language or a kind
    if shown:
        right.hist([scores[label] for label in shown], bins=16, label=shown, color=[colours[label] for label in shown],
                   alpha=0.85)
    for lang, colour in zip(LANGUAGES, ("darkgreen", "navy")):
        right.axvline(report.figures["abstention"][lang]["threshold"], color=colour, linestyle="--",
                      label=f"threshold, {lang}")
    right.set(title="Best-sentence similarity by question language", xlabel="similarity", ylabel="questions")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    plt.close(figure)


def _finite(value):
    """The report with undefined figures (nan) as null, so it is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def check_report_folder(folder: Path) -> None:
    """IqtibasError, naming the folder, unless the report can be written there: asked before an
    evaluation runs, so its results are not lost at the end."""
    folder = Path(folder)
    probe = folder / f".iqtibas-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise IqtibasError(f"cannot write the report into {folder} ({error.strerror}): make it a writable "
                           f"folder, or give --report-dir another one") from None


def write_report(report: Report, folder: Path) -> list[Path]:
    """Write report.json, report.md and report.png into ``folder``; returns their paths.

    All three are made before any is written, so a report is never left half new.
    """
    folder = Path(folder)
    contents = [json.dumps(_finite(dataclasses.asdict(report)), ensure_ascii=False, indent=1).encode("utf-8"),
                markdown(report).encode("utf-8"), plot_png(report)]
    paths = [folder / name for name in REPORT_FILES]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, content in zip(paths, contents):
            path.write_bytes(content)
    except OSError as error:
        raise IqtibasError(f"cannot write the report into {folder} ({error.strerror}): free some space or "
                           f"make it writable, or give --report-dir another folder") from None
    return paths
