"""Command-line interface: a thin layer over the library. Domain errors become one-line messages here."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from . import __version__
from .exc import ScannerError

EXIT_IMAGE_ERRORS = 3  # some inputs could not be scanned; the rest were


def fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report a ScannerError as `Error: <message>` and exit 1, without a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScannerError as err:
            raise click.ClickException(str(err)) from err

    return wrapper


def require_opencv() -> None:
    try:
        import cv2  # noqa: F401
    except ImportError as err:
        raise ScannerError(
            "OpenCV is not installed: `pip install 'scanner[headless]'` (or 'scanner[gui]' for a window); on the "
            "Pi use `sudo apt install python3-opencv` with a --system-site-packages venv"
        ) from err


class Settings:
    def __init__(self, config_path: Path | None, model: Path | None, threads: int | None, runtime: str | None) -> None:
        self.config_path, self.model, self.threads, self.runtime = config_path, model, threads, runtime
        self._config = None

    def config(self):  # type: ignore[no-untyped-def]
        """The loaded config with the command-line overrides, read once per command."""
        if self._config is None:
            self._config = self._load()
        return self._config

    def _load(self):  # type: ignore[no-untyped-def]
        from .config import load_config

        require_opencv()
        config = load_config(self.config_path)
        overrides = {
            k: v
            for k, v in {
                "path": str(self.model) if self.model else None,
                "threads": self.threads,
                "runtime": self.runtime,
            }.items()
            if v is not None
        }
        return replace(config, model=replace(config.model, **overrides))

    def embedder(self):  # type: ignore[no-untyped-def]
        from .embed import Embedder

        model = self.config().model
        return Embedder(Path(model.path), model.threads, model.runtime)


pass_settings = click.make_pass_decorator(Settings)
db_option = click.option(
    "--db", "db_path", type=click.Path(path_type=Path), required=True, help="Brand index SQLite file."
)
store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Scan store SQLite file (default: [store] path in the config).",
)


def record_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--no-record, --store, --operator, --note: every scan is recorded unless told otherwise."""
    fn = click.option("--note", help="A note recorded with each scan of this run.")(fn)
    fn = click.option("--operator", help="Who is scanning (default: [device] operator).")(fn)
    fn = store_option(fn)
    return click.option("--no-record", is_flag=True, help="Do not record the scans in the scan store.")(fn)


def open_store(config, store_path: Path | None):  # type: ignore[no-untyped-def]
    from .store import ScanStore

    path = Path(store_path or config.store.path).expanduser()
    return ScanStore(path, config.store.max_mb * 1024 * 1024, config.store.flag_unknown)


def record_context(config, pipeline, operator: str | None, note: str | None):  # type: ignore[no-untyped-def]
    import socket

    from .store import RecordContext

    meta = pipeline.index.meta()
    return RecordContext(
        device_id=config.device.id or socket.gethostname(),
        operator=operator if operator is not None else config.device.operator,
        model_sha256=pipeline.embedder.sha256,
        verifier_sha256=pipeline.verifier.sha256 if pipeline.verifier else None,
        index_version=meta.get("index_version") or meta.get("updated_at"),
        note=note,
    )


@click.group()
@click.version_option(__version__, prog_name="scanner")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="scanner.toml to load (defaults are built in; see firmware_config/scanner.toml).",
)
@click.option("--model", type=click.Path(path_type=Path), help="Embedder .tflite file (overrides the config).")
@click.option("--threads", type=click.IntRange(1, 16), help="Interpreter threads (overrides the config).")
@click.option(
    "--runtime", type=click.Choice(["auto", "litert", "tflite"]), help="TFLite runtime (overrides the config)."
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.pass_context
def main(
    ctx: click.Context,
    config_path: Path | None,
    model: Path | None,
    threads: int | None,
    runtime: str | None,
    verbose: int,
) -> None:
    """Logo-authenticity scanner: recognise a brand mark and check it against the brand's genuine references.

    Verdicts: pass (consistent with the references), suspect (recognised but deviates), unknown (no enrolled
    brand matches) and rescan (the image is not good enough to judge).
    """
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Settings(config_path, model, threads, runtime)


@main.group()
def index() -> None:
    """Build and inspect the brand index (an SQLite file of brands, references and embeddings)."""


@index.command("build")
@click.argument("refs_dir", type=click.Path(path_type=Path, file_okay=False))
@db_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Start a new index from REFS_DIR alone and swap it in when done (needed after a model change; "
    "references added with `scanner enroll` are dropped).",
)
@pass_settings
@fail_cleanly
def index_build(settings: Settings, refs_dir: Path, db_path: Path, rebuild: bool) -> None:
    """Build or update the index from REFS_DIR: one subfolder per brand (its name is the brand id), holding
    reference images (.png .jpg .jpeg .webp, and .svg with cairosvg installed) and an optional brand.json
    with name, colour and aliases. Re-running embeds only new or changed files and drops deleted ones.
    """
    from .enroll import brand_folders, build_index
    from .index import BrandIndex
    from .vectors import graph_paths

    embedder = settings.embedder()
    folders = brand_folders(refs_dir)  # fail before creating an empty index
    target = db_path
    if rebuild:
        # Built beside the old index and swapped in at the end: a failed rebuild leaves the old one as it was.
        db_path = target.with_name(target.name + ".rebuild")
        for leftover in (db_path, *graph_paths(db_path)):
            leftover.unlink(missing_ok=True)
    with BrandIndex.create(db_path, embedder.sha256, embedder.dim) as brand_index:
        with click.progressbar(length=len(folders), label="Indexing brands", file=sys.stderr) as bar:

            def progress(items):  # type: ignore[no-untyped-def]
                for item in items:
                    yield item
                    bar.update(1)

            report = build_index(refs_dir, brand_index, embedder, settings.config().locate, progress)
    if rebuild:
        for stale in graph_paths(target):  # the old search graph describes the old index
            stale.unlink(missing_ok=True)
        db_path.replace(target)
    _report(report, target)


@index.command("info")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_settings
@fail_cleanly
def index_info(settings: Settings, db_path: Path, as_json: bool) -> None:
    """Show the index's brands and references, the model it was built with, and when."""
    from .index import BrandIndex

    embedder = settings.embedder()
    with BrandIndex.open(db_path, embedder.sha256) as brand_index:
        info = brand_index.info()
        info["brand_ids"] = [b.id for b in brand_index.brands()]
    if as_json:
        click.echo(json.dumps(info))
        return
    click.echo(f"index:      {info['path']}")
    click.echo(f"brands:     {info['brands']}")
    click.echo(f"references: {info['references']}")
    click.echo(f"model:      sha256 {info['model_sha256']} ({info['embedding_dim']}-d)")
    click.echo(f"created:    {info['created_at']}")
    click.echo(f"updated:    {info['updated_at']}")
    click.echo(f"brand ids:  {', '.join(info['brand_ids'])}")


@main.command()
@click.argument("brand_id")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--name", help="Display name of the brand (set when creating it, or to rename it).")
@pass_settings
@fail_cleanly
def enroll(settings: Settings, brand_id: str, images: tuple[Path, ...], db_path: Path, name: str | None) -> None:
    """Add reference IMAGES (artwork or photos of a genuine logo) to BRAND_ID, creating the brand if new."""
    from .enroll import enroll_images
    from .index import BrandIndex

    embedder = settings.embedder()
    with BrandIndex.create(db_path, embedder.sha256, embedder.dim) as brand_index:
        report = enroll_images(brand_index, embedder, settings.config().locate, brand_id, list(images), name)
    _report(report, db_path)


def _report(report, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    for error in report.errors:
        click.echo(f"warning: {error}", err=True)
    click.echo(f"{db_path}: {report.summary()}", err=True)
    if report.errors:
        sys.exit(EXIT_IMAGE_ERRORS)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.option(
    "--screens",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write the rendered verdict screen of each scan as a PNG into this folder.",
)
@click.option(
    "--evidence",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each verified scan's evidence into this folder: the aligned query, the reference and the "
    "deviation heatmap over it (PNG), named in the JSON.",
)
@click.option(
    "--item",
    is_flag=True,
    help="The images are views of ONE item (the same goods from other angles): give one verdict from all of "
    "them, their mean authenticity judged by [verify] views_suspect_threshold.",
)
@record_options
@pass_settings
@fail_cleanly
def scan(
    settings: Settings,
    inputs: tuple[Path, ...],
    db_path: Path,
    as_json: bool,
    screens: Path | None,
    evidence: Path | None,
    item: bool,
    no_record: bool,
    store_path: Path | None,
    operator: str | None,
    note: str | None,
) -> None:
    """Scan image files and folders (INPUTS) and give one verdict per image.

    JSON fields: image, verdict (pass|suspect|unknown|rescan), brand, brand_name, similarity, authenticity,
    reasons, box, candidates, timings_ms, and with --evidence the files written for the scan; or image and
    error for a file that could not be read. Exits 3 when some files could not be read (the others are
    still scanned). With --item, one line for the item: the fields of the view that shows it best (its image,
    box and heatmap), the mean authenticity, and `views` (each view's verdict and authenticity).
    """
    from .imageio import expand_paths
    from .pipeline import Pipeline

    config = settings.config()
    paths = list(expand_paths(inputs))
    if not paths:
        raise click.ClickException("no images found in the given paths")
    errors = 0
    store = None if no_record else open_store(config, store_path)
    with Pipeline(config, db_path) as pipeline:
        context = record_context(config, pipeline, operator, note)
        if not as_json:
            click.echo(f"{'image':<34} {'verdict':<8} {'brand':<16} {'sim':>5} {'auth':>5} {'ms':>6}  reason")
        for stem, frame, result in _scans(pipeline, paths, item):
            errors += result.error is not None
            if store is not None and result.error is None:
                result.record_id = store.record(result, frame, context)
            if screens is not None:
                from .display import write_screen

                write_screen(screens / f"{stem}.png", frame, result)
            if evidence is not None:
                from .display import write_evidence

                result.evidence = write_evidence(evidence, stem, result)
            click.echo(json.dumps(result.to_json()) if as_json else _table_row(result))
    if store is not None:
        store.close()
    if errors:
        click.echo(f"{errors} of {len(paths)} files could not be scanned", err=True)
        sys.exit(EXIT_IMAGE_ERRORS)


@main.command()
@db_option
@click.option("--camera", "camera_spec", help="picamera2, opencv:N, opencv:PATH_OR_URL or file:PATH (default: config).")
@click.option("--headless", is_flag=True, help="No window: LEDs and buzzer only, one JSON line per scan on stdout.")
@click.option("--auto/--no-auto", default=None, help="Scan when the view has been sharp and steady (default: config).")
@click.option("--windowed", is_flag=True, help="A window instead of full screen.")
@click.option("--max-scans", type=click.IntRange(1), help="Stop after this many scans.")
@click.option("--screens", type=click.Path(path_type=Path, file_okay=False), help="Write each scan's screen as a PNG.")
@click.option(
    "--views",
    type=click.IntRange(1),
    help="Scans per item: 2 asks the operator to turn the item and scan it again, one verdict from both "
    "(default: [live] views; [live] more_views_for says which items).",
)
@record_options
@pass_settings
@fail_cleanly
def run(
    settings: Settings,
    db_path: Path,
    camera_spec: str | None,
    headless: bool,
    auto: bool | None,
    windowed: bool,
    max_scans: int | None,
    screens: Path | None,
    views: int | None,
    no_record: bool,
    store_path: Path | None,
    operator: str | None,
    note: str | None,
) -> None:
    """Live scanning: camera preview with a framing guide; scan on the trigger button, SPACE or Enter (or by
    itself with --auto); the verdict banner stays over the preview; q quits. With a video file or image
    files as the camera it ends at the end of the source. Scans are recorded, and flagged ones synced to the
    hub in the background when [hub] is configured.
    """
    from .camera import open_camera
    from .display import Window, render_live, write_png
    from .gpio import make_indicator
    from .live import LiveOptions, box_scale, run_live
    from .pipeline import Pipeline

    config = settings.config()
    if views is not None:
        config = replace(config, live=replace(config.live, views=views))
    spec = camera_spec or config.camera.source
    options = LiveOptions(auto=config.live.auto if auto is None else auto, max_scans=max_scans)
    store = None if no_record else open_store(config, store_path)

    with Pipeline(config, db_path) as pipeline, open_camera(spec, config.camera) as camera:
        context = record_context(config, pipeline, operator, note)

        def on_result(frame, result) -> None:  # type: ignore[no-untyped-def]
            result.image = f"{spec}#{frame.index}"
            if store is not None:
                result.record_id = store.record(result, frame.image, context)
            if headless:
                click.echo(json.dumps({**result.to_json(), "frame": frame.index}), nl=True)
            else:
                click.echo(_table_row(result))
            if screens is not None:
                name = f"scan_{frame.index:05d}_{result.verdict.value if result.verdict else 'error'}.png"
                write_png(screens / name, render_live(frame.preview, result, "", box_scale(frame)))

        syncer = background_sync(config, store)
        window = None if headless else Window(fullscreen=config.live.fullscreen and not windowed)
        try:
            with make_indicator(config.gpio) as indicator:
                if window is None:
                    run_live(pipeline, camera, options, config.live, config.quality, on_result, None, indicator)
                else:
                    with window:
                        run_live(pipeline, camera, options, config.live, config.quality, on_result, window, indicator)
        finally:
            if syncer is not None:
                syncer.stop()
            if store is not None:
                store.close()


def background_sync(config, store):  # type: ignore[no-untyped-def]
    """A running SyncWorker when a hub is configured and scans are recorded, else None."""
    if store is None or not config.hub.url:
        return None
    from .store import ScanStore
    from .sync import HubClient, SyncWorker

    own = ScanStore(store.path, store.max_bytes, store.flag_unknown)  # its own connection for its own thread
    return SyncWorker(own, HubClient(config.hub.url, config.hub.token), config.hub.sync_interval).start()


@main.group()
def scans() -> None:
    """Browse and export the scan store: every scan this device made, with its image and outbox state."""


@scans.command("list")
@store_option
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="Newest first, at most this many.")
@click.option("--verdict", type=click.Choice(["pass", "suspect", "unknown", "rescan"]), help="Only this verdict.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_settings
@fail_cleanly
def scans_list(settings: Settings, store_path: Path | None, limit: int, verdict: str | None, as_json: bool) -> None:
    """List recorded scans, newest first."""
    with open_store(settings.config(), store_path) as store:
        rows = store.scans(limit, verdict)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
        else:
            reason = row["reasons"][0] if row["reasons"] else ""
            when, verdict, brand = row["created_at"][:19], row["verdict"] or "-", row["brand"] or "-"
            click.echo(f"{row['uuid']}  {when}  {verdict:<8} {brand:<14} {reason}")


@scans.command("show")
@click.argument("scan_id")
@store_option
@click.option(
    "--image", "image_out", type=click.Path(path_type=Path, dir_okay=False), help="Write the scan's frame here."
)
@pass_settings
@fail_cleanly
def scans_show(settings: Settings, scan_id: str, store_path: Path | None, image_out: Path | None) -> None:
    """Show one scan's full record (JSON), and optionally save its frame as a JPEG."""
    from .protocol import IMAGE_FIELDS

    with open_store(settings.config(), store_path) as store:
        row = store.get(scan_id)
    if image_out is not None:
        if not row["frame_jpeg"]:
            raise click.ClickException("this scan's image was dropped to save space (it was synced or not flagged)")
        image_out.write_bytes(row["frame_jpeg"])
    row = {k: v for k, v in row.items() if k not in IMAGE_FIELDS}
    click.echo(json.dumps(row, indent=2))


@scans.command("export")
@store_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True, help="Output format."
)
@click.option("--out", type=click.File("w"), default="-", help="File to write (default: stdout).")
@pass_settings
@fail_cleanly
def scans_export(settings: Settings, store_path: Path | None, fmt: str, out) -> None:  # type: ignore[no-untyped-def]
    """Export every recorded scan (without images) as CSV or JSON lines, oldest first."""
    import csv

    with open_store(settings.config(), store_path) as store:
        rows = list(store.rows_for_export())
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row) + "\n")
        return
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "reasons": "; ".join(row["reasons"])})


@main.command()
@store_option
@click.option("--hub", "hub_url", help="Hub base URL (default: [hub] url).")
@click.option("--token", help="This device's token (default: [hub] token).")
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="Brand index to update from the hub.")
@click.option("--public-key", help="Hub's index-signing key, base64 (default: [hub] public_key).")
@pass_settings
@fail_cleanly
def sync(
    settings: Settings,
    store_path: Path | None,
    hub_url: str | None,
    token: str | None,
    db_path: Path | None,
    public_key: str | None,
) -> None:
    """Push the flagged scans waiting in the outbox to the hub now, and with --db install a newer signed brand
    index if the hub has one. A scan leaves the outbox only once the hub has acknowledged it.
    """
    from .exc import SyncError
    from .sync import HubClient, push_outbox, update_index

    config = settings.config()
    url, key = hub_url or config.hub.url, public_key or config.hub.public_key
    if not url:
        raise click.ClickException("no hub configured: give --hub URL --token TOKEN or set [hub] url and token")
    client = HubClient(url, token or config.hub.token)
    with open_store(config, store_path) as store:
        try:
            device = client.whoami()
        except SyncError as err:
            raise SyncError(f"{err}; {store.pending_count()} flagged scans stay queued") from err
        click.echo(f"hub {url}: this device is {device!r}")
        report = push_outbox(store, client, ignore_backoff=True)
    click.echo(f"scans: {report.sent} sent, {report.already_there} already at the hub, {report.pending} pending")
    if report.error:
        raise SyncError(f"{report.error}; the {report.pending} pending scans stay queued and will be retried")
    if db_path is not None:
        if not key:
            raise click.ClickException("no hub public key: give --public-key or set [hub] public_key")
        click.echo(update_index(client, db_path, key, settings.embedder().sha256).message)


@main.command("eval")
@click.argument("labels_csv", type=click.Path(path_type=Path, dir_okay=False))
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write a Markdown report with PNG plots (confusion matrix, score histograms) here.",
)
@click.option(
    "--first-view-only",
    is_flag=True,
    help="Score each row by its `file` alone, ignoring the other views a more_views column lists.",
)
@pass_settings
@fail_cleanly
def eval_command(
    settings: Settings, labels_csv: Path, db_path: Path, as_json: bool, report_dir: Path | None, first_view_only: bool
) -> None:
    """Measure the scanner on labelled photos: LABELS_CSV has columns file,expected,brand (file relative to the
    CSV, expected one of pass|suspect|unknown|rescan, brand the enrolled brand id or empty). Prints the
    confusion matrix, per-verdict precision and recall, brand top-1 and unknown-brand rejection. With the
    columns kind,magnitude and changes (tools/make_heldout_set.py), also counterfeit detection per kind, and
    whether the reasons and the heatmap name and point at what was changed. With more_views (other photos of
    the same item, `;` between them: make_heldout_set.py --views 2), each row is one item judged from all its
    views (see `scan --item`).
    """
    from .evaluate import evaluate, format_report, read_labels
    from .pipeline import Pipeline

    samples = read_labels(labels_csv)
    with Pipeline(settings.config(), db_path) as pipeline:
        evaluation = evaluate(pipeline, samples, gallery=report_dir is not None, first_view_only=first_view_only)
    click.echo(json.dumps(evaluation.as_dict()) if as_json else format_report(evaluation))
    if report_dir is not None:
        from .report import write_report

        path = write_report(evaluation, report_dir, f"Evaluation of {labels_csv} on {db_path.name}")
        click.echo(f"report: {path}", err=True)


def _scans(pipeline, paths: list[Path], item: bool):  # type: ignore[no-untyped-def]
    """(name for the scan's screen and evidence files, frame, result) per image, or with `item` one for all of
    them, after one for each view that could not be read. An item is named after the folder and file of the view
    its result shows (views are often view1.jpg, view2.jpg in a folder per item)."""
    if not item:
        for path in paths:
            yield (Path(path).stem, *pipeline.scan_file(path))
        return
    frame, result, unreadable = pipeline.scan_item(paths)
    for failed in unreadable:
        yield Path(failed.image).stem, None, failed
    if result.error is None:
        shown = Path(result.image)
        yield f"{shown.parent.name}_{shown.stem}", frame, result


def _table_row(result) -> str:  # type: ignore[no-untyped-def]
    from .display import shown_reason

    name = Path(result.image).name if result.image else "-"
    if result.views and result.image:  # an item: which one, and which of its views is shown
        name = f"{Path(result.image).parent.name}/{name}"
    if result.error:
        return f"{name:<34} {'ERROR':<8} {'':<16} {'':>5} {'':>5} {'':>6}  {result.error}"
    fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
    reason = shown_reason(result)
    return (
        f"{name:<34} {result.verdict.value:<8} {result.brand or '-':<16} {fmt(result.similarity):>5} "
        f"{fmt(result.authenticity):>5} {result.timings_ms['total']:>6.1f}  {reason}"
    )


from .hub.cli import hub  # noqa: E402  (the hub's commands live with the hub)

main.add_command(hub)

if __name__ == "__main__":
    main()
