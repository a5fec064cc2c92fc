"""Train the logo embedder (v1, v2): metric learning on EfficientNet-Lite0 ImageNet weights, CPU-sized.

    python tools/train_embedder.py --data build/train_set_v2.npz --refs build/allrefs --out build/embedder_v2.pt \
        --minutes 60 [--probe build/heldout-cal] [--init build/embedder_v1.pt]

`--data` takes several sets of the same brands (tools/make_train_set.py runs, e.g. handheld photos and
whole scenes); `--init` starts from a trained embedder's weights instead of ImageNet's, each brand's
class centre in the loss at its artwork's embedding (each set's first crop of a brand is its artwork).

Model: the EfficientNet-Lite0 backbone (stem and first 6 blocks frozen: generic edges and textures) with a
linear 1280 -> 128 head; the scanner L2-normalises the output. Loss: CosFace (additive cosine margin,
scale 30, margin 0.2) over the training brands, one class per brand. Data: tools/make_train_set.py crops
(rich synthetic photos plus clean artwork, cropped by the scanner's own locate stage), with light
augmentation (crop jitter, brightness, contrast, saturation, grey). The learning rate follows one cosine
cycle fitted to the time budget. Every eval interval it measures, on held-out brands only, brand top-1
(one artwork enrolled per brand) and open-set separation (the demo brands, or the split given by --probe);
the curves go to --curves as a PNG.

`--device cuda --loader-workers N` trains on a GPU with the augmentation in N loader processes
(tools/gpu_embedder_run.sh). The checkpoint is saved at every evaluation, so a run cut off by its machine's
time limit still leaves its weights.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from effnet_lite import FEATURE_DIM, load_pretrained  # noqa: E402
from training import plot_curves, train_for  # noqa: E402

EMBED_DIM = 128
FROZEN_BLOCKS = 6


class LogoEmbedder(nn.Module):
    """RGB 0..255 (NCHW) in, un-normalised EMBED_DIM vector out."""

    def __init__(self, dim: int = EMBED_DIM, pretrained: bool = True) -> None:
        super().__init__()
        from effnet_lite import EfficientNetLite0

        self.backbone = load_pretrained() if pretrained else EfficientNetLite0()
        self.head = nn.Linear(FEATURE_DIM, dim)
        self._frozen = [self.backbone._conv_stem, self.backbone._bn0, *self.backbone._blocks[:FROZEN_BLOCKS]]
        for module in self._frozen:
            for parameter in module.parameters():
                parameter.requires_grad = False

    def train(self, mode: bool = True) -> LogoEmbedder:
        super().train(mode)
        for module in self._frozen:  # frozen layers keep their ImageNet batch-norm statistics
            module.eval()
        return self

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone.features((rgb - 127.0) / 128.0))


class CosFace(nn.Module):
    def __init__(self, dim: int, classes: int, scale: float = 30.0, margin: float = 0.2) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.scale, self.margin = scale, margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cosine = F.normalize(embeddings) @ F.normalize(self.weight).t()
        logits = self.scale * (cosine - self.margin * F.one_hot(labels, cosine.shape[1]))
        return F.cross_entropy(logits, labels), cosine.argmax(1)


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(batch)
    size = batch.shape[1]
    for i, image in enumerate(batch):
        scale = rng.uniform(0.82, 1.0)
        side = int(size * scale)
        x, y = rng.integers(0, size - side + 1, 2)
        patch = cv2.resize(image[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_LINEAR)
        patch = patch.astype(np.float32) * rng.uniform(0.75, 1.25) + rng.uniform(-25, 25)
        grey = patch.mean(axis=2, keepdims=True)
        patch = grey + (patch - grey) * (0.0 if rng.random() < 0.1 else rng.uniform(0.6, 1.4))
        out[i] = np.clip(patch, 0, 255).astype(np.uint8)
    return out


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float()


class Batches(torch.utils.data.IterableDataset):
    """Endless augmented training batches (images NCHW float, labels); each loader worker draws from its own
    random stream."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch: int, seed: int) -> None:
        super().__init__()
        self.images, self.labels, self.batch, self.seed = images, labels, batch, seed

    def __iter__(self):  # type: ignore[no-untyped-def]
        worker = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, worker.id if worker else 0])
        while True:
            index = rng.integers(0, len(self.images), self.batch)
            yield to_tensor(augment(self.images[index], rng)), torch.from_numpy(self.labels[index]).long()


@torch.no_grad()
def embed(model: LogoEmbedder, images: np.ndarray, batch: int = 128) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    vectors = [
        F.normalize(model(to_tensor(images[i : i + batch]).to(device))).cpu().numpy()
        for i in range(0, len(images), batch)
    ]
    model.train()
    return np.concatenate(vectors)


def held_out_probe(size: int, all_refs: Path, per_brand: int = 3) -> dict[str, np.ndarray]:
    """Crops of held-out brands: demo brands enrolled from artwork and photographed; other held-out brands as
    unknowns. Generated with seeds of their own, never trained on."""
    from make_eval_set import SPLITS
    from make_train_set import artwork_crop_rgb, located_crop_rgb
    from splits import DEMO_BRANDS
    from synth_photos import make_photo

    refs = TOOLS.parent / "samples" / "brands"
    crop_rgb = functools.partial(located_crop_rgb, size=size)
    enrol = [artwork_crop_rgb(refs / b / "logo.png", size) for b in DEMO_BRANDS]
    queries, labels = [], []
    for i, brand in enumerate(DEMO_BRANDS):
        for n in range(per_brand):
            queries.append(crop_rgb(make_photo(refs / brand / "logo.png", "genuine", 99_000 + 31 * i + n, rich=True)))
            labels.append(i)
    unknown = SPLITS["calibration"][1].split(",")
    unknowns = [
        crop_rgb(make_photo(all_refs / u / "logo.png", "genuine", 77_000 + i, rich=True))
        for i, u in enumerate(unknown)
        for _ in range(per_brand)
    ]
    return {
        "enrol": np.stack(enrol),
        "queries": np.stack(queries),
        "labels": np.array(labels),
        "unknowns": np.stack(unknowns),
    }


def calibration_probe(size: int, eval_set: Path) -> dict[str, np.ndarray]:
    """A harder probe than the demo brands: a split written by tools/make_heldout_set.py (brands never trained
    on, each enrolled from its artwork; its genuine photos as queries, its unknown-brand photos as unknowns)."""
    from make_train_set import artwork_crop_rgb, located_crop_rgb

    from scanner.imageio import read_image

    crop_rgb = functools.partial(located_crop_rgb, size=size)
    brands = sorted(p.name for p in (eval_set / "refs").iterdir() if (p / "logo.png").exists())
    enrol = [artwork_crop_rgb(eval_set / "refs" / b / "logo.png", size) for b in brands]
    queries, labels, unknowns = [], [], []
    with (eval_set / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["expected"] == "pass":
                queries.append(crop_rgb(read_image(eval_set / row["file"])))
                labels.append(brands.index(row["brand"]))
            elif row["expected"] == "unknown":
                unknowns.append(crop_rgb(read_image(eval_set / row["file"])))
    return {
        "enrol": np.stack(enrol),
        "queries": np.stack(queries),
        "labels": np.array(labels),
        "unknowns": np.stack(unknowns),
    }


def probe_metrics(model: LogoEmbedder, probe: dict[str, np.ndarray]) -> dict[str, float]:
    refs, queries, unknowns = (embed(model, probe[k]) for k in ("enrol", "queries", "unknowns"))
    known_sim = queries @ refs.T
    top1 = float((known_sim.argmax(1) == probe["labels"]).mean())
    best_known, best_unknown = known_sim.max(1), (unknowns @ refs.T).max(1)
    threshold = float(np.percentile(best_known, 2))  # keep 98% of genuine photos
    return {"top1": top1, "unknown_rejection_at_98": float((best_unknown < threshold).mean()), "threshold": threshold}


def load_sets(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, brands) of one or more training sets, which must list the same brands in the same order."""
    sets = [np.load(path) for path in paths]
    brands = sets[0]["brands"]
    for path, data in zip(paths[1:], sets[1:], strict=True):
        if not np.array_equal(data["brands"], brands):
            raise SystemExit(f"{path} has other brands than {paths[0]}: make both with the same REFS_DIR and --limit")
    images = np.concatenate([data["images"] for data in sets])
    return images, np.concatenate([data["labels"] for data in sets]), brands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--refs", type=Path, required=True, help="all simple-icons brands (for the held-out probe)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--curves", type=Path, help="training-curve PNG (default: beside --out)")
    parser.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--eval-every", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda")
    parser.add_argument("--loader-workers", type=int, default=0, help="augmenting processes (0: in this one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, help="a trained embedder checkpoint (.pt) to start from")
    parser.add_argument("--lr-scale", type=float, default=1.0, help="scales both learning rates (fine-tuning: 0.5)")
    parser.add_argument(
        "--probe",
        type=Path,
        help="a held-out split (tools/make_heldout_set.py --split calibration) for the curves, instead of the "
        "demo brands (which v1 saturated at 1.0)",
    )
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    images, labels, brands = load_sets(args.data)
    size = images.shape[1]
    print(f"{len(images)} crops, {len(brands)} brands, {size} px", file=sys.stderr)
    probe = calibration_probe(size, args.probe) if args.probe else held_out_probe(size, args.refs)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    model = LogoEmbedder()
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True)["model"])
    model.to(args.device).train()
    loss_fn = CosFace(EMBED_DIM, len(brands)).to(args.device)
    if args.init:  # each brand's class centre starts at its artwork's embedding: no random restart of the loss
        first = np.array([np.flatnonzero(labels == c)[0] for c in range(len(brands))])
        with torch.no_grad():
            loss_fn.weight.copy_(torch.from_numpy(embed(model, images[first])).to(args.device))
    backbone = [p for p in model.backbone.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": backbone, "lr": 6e-4 * args.lr_scale},
            {"params": [*model.head.parameters(), *loss_fn.parameters()], "lr": 3e-3 * args.lr_scale},
        ],
        weight_decay=1e-4,
    )
    history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "top1": [], "unknown_rejection_at_98": []}

    def save(step: int, minutes: float | None = None) -> None:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        checkpoint = {"model": state, "size": size, "dim": EMBED_DIM, "brands": len(brands), "steps": step}
        torch.save({**checkpoint, "minutes": minutes}, args.out)

    def evaluate(step: int) -> None:
        metrics = probe_metrics(model, probe)
        save(step)
        history["eval_step"].append(step)
        history["top1"].append(metrics["top1"])
        history["unknown_rejection_at_98"].append(metrics["unknown_rejection_at_98"])
        print(
            f"step {step}: held-out top-1 {metrics['top1']:.3f}, unknown rejection "
            f"{metrics['unknown_rejection_at_98']:.3f} at threshold {metrics['threshold']:.3f}",
            file=sys.stderr,
        )

    evaluate(0)

    # The loader workers fork from here: one OpenCV thread each, set before the fork (tools/train_verifier.py).
    cv2.setNumThreads(1)
    loader = torch.utils.data.DataLoader(
        Batches(images, labels, args.batch, args.seed),
        batch_size=None,
        num_workers=args.loader_workers,
        pin_memory=args.device != "cpu",
    )
    batches = iter(loader)

    def step_loss() -> torch.Tensor:
        batch, target = (t.to(args.device, non_blocking=True) for t in next(batches))
        loss, _ = loss_fn(model(batch), target)
        return loss

    step, minutes = train_for(args.minutes, optimizer, step_loss, history, evaluate, args.eval_every, overhead=1.08)
    save(step, minutes)
    args.out.with_suffix(".json").write_text(json.dumps(history))
    plot_curves(
        history,
        args.curves or args.out.with_suffix(".png"),
        "CosFace loss",
        [("top1", "o-", "held-out brand top-1"), ("unknown_rejection_at_98", "s-", "unknown rejection @98% kept")],
        "held-out brands (never trained on)",
    )
    print(f"saved {args.out} after {step} steps, {minutes:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
