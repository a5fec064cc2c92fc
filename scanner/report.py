"""`scanner eval --report DIR`: the evaluation as a Markdown report with PNG plots (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .evaluate import ERROR, VERDICTS, Evaluation, Outcome, format_report


def _plots(evaluation: Evaluation, folder: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    columns = VERDICTS + [ERROR]
    matrix = np.array([[evaluation.confusion[(e, p)] for p in columns] for e in VERDICTS])
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    ax.imshow(matrix, cmap="Blues")
    ax.set(
        xticks=range(len(columns)),
        xticklabels=columns,
        yticks=range(len(VERDICTS)),
        yticklabels=VERDICTS,
        xlabel="scanner said",
        ylabel="expected",
        title="Verdict confusion matrix",
    )
    for (i, j), n in np.ndenumerate(matrix):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(folder / "confusion.png", dpi=110)
    plt.close(fig)
    written.append(("Confusion matrix", "confusion.png"))

    groups = {
        "enrolled brand, genuine": [o.similarity for o in evaluation.outcomes if o.expected == "pass" and o.similarity],
        "unknown brand": [o.similarity for o in evaluation.outcomes if o.expected == "unknown" and o.similarity],
    }

    def histogram(name: str, caption: str, draw, xlabel: str, title: str) -> None:  # type: ignore[no-untyped-def]
        fig, ax = plt.subplots(figsize=(6, 3.6))
        draw(ax)
        ax.set(xlabel=xlabel, ylabel="photos", title=title)
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append((caption, name))

    if any(groups.values()):

        def similarities(ax) -> None:  # type: ignore[no-untyped-def]
            for label, values in groups.items():
                if values:
                    ax.hist(values, bins=40, range=(0, 1), alpha=0.6, label=f"{label} ({len(values)})")

        histogram(
            "similarity.png",
            "Similarity to the nearest brand",
            similarities,
            "cosine similarity to the nearest enrolled brand",
            "Open-set separation",
        )

    genuine = [o.authenticity for o in evaluation.outcomes if o.expected == "pass" and o.authenticity is not None]
    altered = [o.authenticity for o in evaluation.outcomes if o.expected == "suspect" and o.authenticity is not None]
    if genuine or altered:
        labels = [f"genuine ({len(genuine)})", f"altered ({len(altered)})"]
        histogram(
            "authenticity.png",
            "Authenticity scores",
            lambda ax: ax.hist([genuine, altered], bins=20, range=(0, 1), label=labels),
            "authenticity",
            "Authenticity of recognised marks",
        )
    return written


GALLERY_ROWS = 8


def worst_misses(evaluation: Evaluation) -> list[tuple[str, Outcome]]:
    """(caption, outcome) of the verified misses the verifier was surest about: counterfeits it passed with
    the highest authenticity, then genuine marks it flagged with the lowest."""
    verified = [o for o in evaluation.outcomes if o.file in evaluation.miss_strips and o.authenticity is not None]
    passed = sorted((o for o in verified if o.expected == "suspect" and o.predicted == "pass"),
                    key=lambda o: -(o.authenticity or 0))  # fmt: skip
    flagged = sorted((o for o in verified if o.expected == "pass" and o.predicted == "suspect"),
                     key=lambda o: o.authenticity or 0)  # fmt: skip
    rows = []
    for o in passed[:GALLERY_ROWS]:
        magnitude = "" if o.magnitude is None else f" {o.magnitude:.2f}"
        rows.append((f"counterfeit passed: {o.kind or ''}{magnitude}, authenticity {o.authenticity:.2f}", o))
    for o in flagged[:GALLERY_ROWS]:
        rows.append((f"genuine flagged: authenticity {o.authenticity:.2f}", o))
    return rows


def write_gallery(evaluation: Evaluation, path: Path) -> Path | None:
    """A PNG, one row per worst miss: photo crop | aligned query | reference | heatmap, and a caption."""
    import cv2

    from .display import write_png

    rows = []
    for caption, outcome in worst_misses(evaluation):
        strip = evaluation.miss_strips[outcome.file]
        band = np.full((36, strip.shape[1], 3), 255, np.uint8)
        for line, text in enumerate((outcome.file, caption)):
            cv2.putText(band, text[:64], (4, 14 + 16 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        rows += [band, strip]
    if not rows:
        return None
    return write_png(path, np.vstack(rows))


def write_report(evaluation: Evaluation, folder: Path, title: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        plots = _plots(evaluation, folder)
    except ImportError:
        plots = []
    if write_gallery(evaluation, folder / "worst_misses.png"):
        plots.append(("Worst verifier misses (photo | aligned query | reference | heatmap)", "worst_misses.png"))
    misses = [o for o in evaluation.outcomes if o.expected != o.predicted]
    lines = [f"# {title}", "", "```", format_report(evaluation), "```", ""]
    if not plots:
        lines += ["(Plots need matplotlib: `pip install 'scanner[eval]'`.)", ""]
    for caption, name in plots:
        lines += [f"## {caption}", "", f"![{caption}]({name})", ""]
    lines += [
        f"## Misses ({len(misses)} of {evaluation.total})",
        "",
        "| file | expected | got | brand | nearest | similarity |",
        "|---|---|---|---|---|---|",
    ]
    for o in misses[:200]:
        similarity = "" if o.similarity is None else f"{o.similarity:.3f}"
        lines.append(
            f"| {o.file} | {o.expected} | {o.predicted} | {o.brand or ''} | {o.nearest or ''} | {similarity} |"
        )
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
