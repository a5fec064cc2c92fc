"""Validated scanner configuration.

Defaults live here, each field with a description; `firmware_config/scanner.toml` restates them for the
device. Loading rejects unknown sections and keys by name, so a typo never silently keeps a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from .exc import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = PROJECT_ROOT / "models" / "embedder_v2_int8.tflite"
DEFAULT_VERIFIER = PROJECT_ROOT / "models" / "verifier_v6_int8.tflite"


def _field(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class ModelConfig:
    path: str = _field(str(DEFAULT_MODEL), "Embedder .tflite file (int8, NHWC RGB input).")
    threads: int = _field(1, "Interpreter threads; 1 leaves a core for the camera and display.")
    runtime: str = _field("auto", "TFLite runtime: auto (LiteRT first), litert or tflite.")


@dataclass(frozen=True)
class QualityConfig:
    # Thresholds from tools/calibrate_quality.py on the held-out calibration split: all 100 degraded frames
    # turned away, 1 of 600 usable ones (0.2%).
    min_side: int = _field(120, "Frames whose shorter side is below this many pixels are rejected.")
    min_sharpness: float = _field(
        0.58, "Edge steepness (gradient / the edge's own step, see quality.sharpness) below this is blur."
    )
    min_brightness: float = _field(36.0, "Grey level (0-255) of the frame's brightest 1% below this: too dark.")
    max_glare: float = _field(
        0.1, "Share of the frame saturated (>= 250) beyond its edges' own share above which there is glare."
    )
    min_contrast: float = _field(12.0, "Grey-level spread (99th minus 1st percentile) below this: nothing in view.")


@dataclass(frozen=True)
class LocateConfig:
    # The longer side, not the area: a wordmark or a ring of dots covers little area, and by area (under
    # 1.5% of the frame) two wordmarks spanning 22% of the frame's height and a ring of dots were "too small".
    min_size: float = _field(
        0.12, "A located logo whose longer side spans less than this share of the frame's shorter side is too small."
    )
    padding: float = _field(0.15, "Margin added around the located logo, as a fraction of its size.")
    search: bool = _field(
        True,
        "When the located logo matches no enrolled brand, search the frame's blobs and a grid of windows for "
        "one that does (whole scenes: a logo on a car, a sign, a shelf). Costs about 30 more embeddings on "
        "such frames only.",
    )


@dataclass(frozen=True)
class MatchConfig:
    unknown_threshold: float = _field(
        0.0,
        "Similarity to the best brand below which a scan is `unknown`; 0 takes the model's calibrated value "
        "(models/<model>.json).",
    )
    search_threshold: float = _field(
        0.0,
        "Similarity a window found by scene search ([locate] search) must reach; higher than "
        "unknown_threshold, since the best of ~30 windows is closer to some brand by chance. 0 takes the "
        "model's calibrated value (models/<model>.json).",
    )
    top_k: int = _field(5, "How many candidate brands a scan reports.")
    search_breadth: int = _field(
        128,
        "Candidates the graph search keeps (usearch expansion_search; indexes of 20,000+ references only). "
        "Higher finds the true nearest reference more often and takes longer: at 1M references 128 gives "
        "recall@1 0.85 in 0.8 ms p95, 1024 gives 1.00 in 4.6 ms (docs/index.md).",
    )

    wide_breadth: int = _field(
        1024,
        "When the graph search finds no brand above the threshold, the located logo is searched once more with "
        "this many candidates before anything else (a graph can miss the nearest reference; at 1M references "
        "1024 finds it every time, docs/index.md). 0 skips the second look.",
    )

    shape_inliers: int = _field(
        20,
        "A frame no brand matches by similarity is still named when one of its searched windows shares at "
        "least this many local features, in one arrangement, with its nearest brand's reference (0: off). "
        "Twice the most any unknown-brand photo of the calibration split reached (tools/calibrate_shape.py).",
    )

    align_correlation: float = _field(
        0.863,
        "A frame neither similarity nor shape names is still named when one of its nearest windows, aligned "
        "to its nearest brand's reference by the refined homography (scanner/refine.py), correlates with it "
        "at least this well in edges (0: off): a mark whose outline is the brand's but whose colours or parts "
        "are not is a counterfeit to verify, not an unknown brand. Halfway from the best chance correlation of "
        "the calibration split's unknown-brand photos (0.727) to 1 (tools/calibrate_shape.py --by alignment).",
    )

    near_correlation: float = _field(
        0.76,
        "A frame nothing else names, whose nearest window is as similar to a brand as the located box must be "
        "to be named (unknown_threshold) and lines up with that brand's reference at least this well in edges "
        "(under align_correlation), is verified as a near copy of that brand: `suspect` when the verifier "
        "flags it, and still `unknown` when it passes (a mark that does not line up as the genuine one does is "
        "never passed). 0: off. Just over the best chance correlation of the 946 unknown-brand photos of the "
        "calibration split and tools/make_heldout_set.py --split unknowns against the calibration index at that "
        "similarity (0.755; tools/calibrate_shape.py --by near).",
    )

    reprint_fields: bool = _field(
        True,
        "A frame nothing else names, whose located object is a field of one colour with a mark inside (a mark "
        "reversed out of a coloured square or a dark label), is named from the mark redrawn dark on light "
        "(scanner/reprint.py), when its nearest brand's reference lines up with that copy at least as well as "
        "align_correlation asks; and a frame similarity named is renamed so when the copy lines up with another "
        "brand's reference better than the print lines up with the one it was named (a white mark on a red "
        "label taken for a brand whose mark is a red label). Off with align_correlation = 0.",
    )

    tie_margin: float = _field(
        0.05,
        "When the nearest two brands come within this much similarity of each other, the one whose reference "
        "the mark lines up with better in edges names it (two alignments on such frames only; 0: off). Under "
        "the smallest lead a rightly named genuine or counterfeit photo of either held-out split has over the "
        "next brand (0.076).",
    )

    def __post_init__(self) -> None:
        if self.search_breadth < 1 or self.top_k < 1 or self.wide_breadth < 0 or self.shape_inliers < 0:
            raise ConfigError(
                "[match] search_breadth and top_k must be at least 1, wide_breadth and shape_inliers at least 0"
            )
        if not 0.0 <= self.align_correlation < 1.0:
            raise ConfigError("[match] align_correlation must be from 0 (off) to under 1")
        if not 0.0 <= self.near_correlation < 1.0:
            raise ConfigError("[match] near_correlation must be from 0 (off) to under 1")
        if not 0.0 <= self.tie_margin < 1.0:
            raise ConfigError("[match] tie_margin must be from 0 (off) to under 1")


@dataclass(frozen=True)
class VerifyConfig:
    model: str = _field(
        str(DEFAULT_VERIFIER),
        "Authenticity pair model .tflite; an empty string uses the v0 silhouette and colour rules.",
    )
    suspect_threshold: float = _field(
        0.0,
        "Authenticity (0-1) below this gives `suspect`; 0 takes the verifier's calibrated value "
        "(models/<verifier>.json), or 0.5 with the v0 rules.",
    )
    photo_model: str = _field(
        "",
        "Pair model for a mark verified against a photo of genuine goods (a brand enrolled from photos, no "
        "artwork), such as models/verifier_v8_int8.tflite, trained with photo references; an empty string uses "
        "`model` for those too.",
    )
    photo_suspect_threshold: float = _field(
        0.0,
        "Authenticity below this gives `suspect` for a brand verified against a photo of genuine goods (a brand "
        "enrolled from photos, no artwork); 0 takes the verifier's calibrated value (photo_suspect_threshold in "
        "models/<verifier>.json), else suspect_threshold.",
    )
    views_suspect_threshold: float = _field(
        0.0,
        "For an item scanned from several views (`scanner scan --item`, `scanner eval` with more_views): its "
        "mean authenticity over the views below this gives `suspect`; 0 takes the verifier's calibrated value "
        "(views_suspect_threshold in models/<verifier>.json), else suspect_threshold.",
    )
    size: int = _field(
        0,
        "Side in pixels of the square the query and reference are compared at; 0 takes the verifier model's "
        "input side (128 with the v0 rules).",
    )
    colour_bound: float = _field(
        23.6,
        "With a pair model and an artwork reference: a mark whose colours lie further than this (Lab a*b* "
        "units) from any mix of the artwork's ink, the goods' surface and grey is `suspect` whatever its score "
        "(0: off). One and a half times the most any genuine photo of the calibration split reached (15.7; "
        "tools/calibrate_verifier.py prints it).",
    )

    stroke_bound: float = _field(
        1.24,
        "With a pair model and an artwork reference: a mark whose strokes lie further than this (px at 256 px) "
        "outside the artwork's on each side is `suspect` as drawn thicker, whatever its score (0: off). "
        "1.2 times the most any genuine photo of the calibration split reached (1.03; "
        "tools/calibrate_verifier.py prints it).",
    )

    part_colour_bound: float = _field(
        12.6,
        "With a pair model and an artwork reference: a mark with a part whose colour strays further than this "
        "(chromaticity units) from the rest of the same ink in the photo is `suspect` as partly recoloured, "
        "whatever its score (0: off). One and a half times the most any genuine photo of the calibration "
        "split reached (8.4; tools/calibrate_verifier.py prints it).",
    )

    colourways: bool = _field(
        True,
        "With a pair model and an artwork reference: a mark printed in one neutral ink (black, grey or white) "
        "or light on a coloured ground, as genuine goods print it, is scored in the artwork's colours "
        "(scanner/colourway.py), unless the verifier's .json says it learned colourways (v7); false scores every "
        "mark as photographed.",
    )

    erase_field_edge: bool = _field(
        True,
        "A mark reversed out of a field (light ink inside a square of colour or a dark label) whose copy, redrawn "
        "dark on light, lines up with the reference as [match] align_correlation asks is aligned and scored with "
        "the field's edge painted out in the field's colour (scanner/reprint.py), when it then reads as a "
        "colourway: the artwork has no such edge to align to. Needs colourways and [match] reprint_fields.",
    )

    def __post_init__(self) -> None:
        for key in ("colour_bound", "stroke_bound", "part_colour_bound"):
            if getattr(self, key) < 0:
                raise ConfigError(f"[verify] {key} must be 0 (off) or more")


@dataclass(frozen=True)
class CameraConfig:
    source: str = _field(
        "picamera2", "Frame source: picamera2, opencv:N (USB camera N), opencv:PATH_OR_URL, file:PATH."
    )
    main_size: tuple[int, int] = _field((1280, 960), "Preview stream size (picamera2 main, RGB888).")
    lores_size: tuple[int, int] = _field(
        (640, 480), "Inference stream size (picamera2 lores, YUV420; width a multiple of 64)."
    )


MORE_VIEWS_FOR = ("all", "suspect", "borderline")


@dataclass(frozen=True)
class LiveConfig:
    auto: bool = _field(False, "Scan by itself once the frame has been sharp and steady for a moment.")
    steady_frames: int = _field(6, "Consecutive still, sharp frames that make a steady view (auto mode).")
    steady_change: float = _field(3.0, "Mean grey-level change between frames (0-255) below which the view is still.")
    banner_seconds: float = _field(3.0, "How long a verdict stays on screen over the live preview.")
    views: int = _field(
        1,
        "Scans per item: with 2 or more, the operator turns the item between scans and one verdict comes from "
        "all of them (scanner/views.py); a frame sent to rescan does not count as a view.",
    )
    view_wait_seconds: float = _field(
        20.0,
        "With views of 2 or more: how long the next view of an item may keep it waiting; past that the item is "
        "judged from the views taken (and recorded), so a walk-away never joins two items (0: wait for ever).",
    )
    more_views_for: str = _field(
        "all",
        "With views of 2 or more, which items get the views after the first: all; suspect (only an item whose "
        "first view is `suspect`: the fewest genuine items flagged); or borderline (only a first view scored "
        "0.2-0.7, about a tenth of items: part of the gain for a tenth of the extra scans). scanner eval follows "
        "it too.",
    )
    fullscreen: bool = _field(True, "Fill the display (the Pi's screen); false gives a window.")

    def __post_init__(self) -> None:
        if self.views < 1:
            raise ConfigError("[live] views must be at least 1 (scans per item)")
        if self.view_wait_seconds < 0:
            raise ConfigError("[live] view_wait_seconds must be 0 (wait for ever) or more")
        if self.more_views_for not in MORE_VIEWS_FOR:
            raise ConfigError(
                f"[live] more_views_for must be one of {', '.join(MORE_VIEWS_FOR)}, not {self.more_views_for!r}"
            )


@dataclass(frozen=True)
class GpioConfig:
    enabled: bool = _field(True, "Use the trigger button, LEDs and buzzer when gpiozero and the pins are available.")
    trigger_pin: int = _field(17, "BCM pin of the trigger button (to ground; internal pull-up).")
    green_pin: int = _field(22, "BCM pin of the green LED (pass).")
    amber_pin: int = _field(27, "BCM pin of the amber LED (unknown, rescan).")
    red_pin: int = _field(23, "BCM pin of the red LED (suspect).")
    buzzer_pin: int = _field(24, "BCM pin of the active buzzer.")


@dataclass(frozen=True)
class DeviceConfig:
    id: str = _field("", "This device's name in scan records and at the hub (empty: the host name).")
    operator: str = _field("", "Who is scanning, recorded with every scan (--operator overrides).")


@dataclass(frozen=True)
class StoreConfig:
    path: str = _field("~/.local/share/scanner/scans.db", "Scan store SQLite file (every scan, with its image).")
    max_mb: int = _field(
        2048, "Store budget in MB: past it, images of synced or unflagged scans are dropped (0: none)."
    )
    flag_unknown: bool = _field(False, "Also queue `unknown` scans for the hub (suspect ones always are).")


@dataclass(frozen=True)
class HubConfig:
    url: str = _field("", "Hub base URL, e.g. https://hub.example:8443 (empty: no sync).")
    token: str = _field("", "This device's token from `scanner hub add-device`.")
    public_key: str = _field("", "Base64 Ed25519 key that signs brand-index updates (`scanner hub keygen` prints it).")
    sync_interval: float = _field(30.0, "Seconds between background syncs during `scanner run`.")


@dataclass(frozen=True)
class ScannerConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    locate: LocateConfig = field(default_factory=LocateConfig)
    match: MatchConfig = field(default_factory=MatchConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    device: DeviceConfig = field(default_factory=DeviceConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    hub: HubConfig = field(default_factory=HubConfig)


def load_config(path: Path | None = None) -> ScannerConfig:
    """Defaults, overridden by the TOML file at `path` when given."""
    if path is None:
        return ScannerConfig()
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    return _build(ScannerConfig, data, str(path))


def _build(cls: type, data: dict, where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    default = cls()
    values = {}
    for name, value in data.items():
        current = getattr(default, name)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{name}] must be a table")
            values[name] = _build(type(current), value, f"{where} [{name}]")
        else:
            values[name] = _coerce(value, current, f"{where}: {name}")
    return replace(default, **values)


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, tuple):
        if not isinstance(value, list) or len(value) != len(default) or not all(type(v) is int for v in value):
            raise ConfigError(f"{where} must be a list of {len(default)} integers, got {value!r}")
        return tuple(value)
    if isinstance(default, bool) or isinstance(value, bool):
        if not isinstance(value, bool) or not isinstance(default, bool):
            raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int | float):
        return float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
    return value


def describe(cls: type = ScannerConfig, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, default, description) for every leaf field: the source for documentation."""
    rows = []
    default = cls()
    for f in fields(cls):
        value = getattr(default, f.name)
        if is_dataclass(value):
            rows += describe(type(value), f"{prefix}{f.name}.")
        else:
            rows.append((f"{prefix}{f.name}", value, f.metadata.get("description", "")))
    return rows
