"""Train the authenticity pair verifier (models/verifier_v2_int8.tflite) and export it as a full-integer int8 .tflite.

    python tools/train_verifier.py --data build/verifier_set.npz --out models/verifier_v2_int8.tflite \
        [--minutes 30] [--checkpoint build/verifier_v2.pt]
    python tools/train_verifier.py --data build/verifier_set.npz build/verifier_set_s1.npz \
        --init build/verifier_v2.pt --lr-scale 0.5 --checkpoint build/verifier_v3.pt ...    # fine-tune on more pairs
    python tools/train_verifier.py --data ... --init build/verifier_v5.pt --device cuda --loader-workers 14 \
        --validation-brands build/verifier_v5.validation.txt --no-export ...     # on a GPU; export here afterwards

Model (PairNet): both images of an aligned pair (the query warped onto the reference, and the reference)
go through the same EfficientNet-Lite0 stem and first five blocks (ImageNet weights; stride 8, 40
channels; the stem and first three blocks frozen). The fusion head sees, per 8x8-pixel cell, the query's
and the reference's features, their absolute difference and both images' mean colour, and gives a
deviation logit per cell and, after one more strided convolution and global average and max pooling, one
authenticity logit. With `--context`, the fused inputs averaged over the whole crop are also added to every
cell after the first convolution (a cell can then judge its colour against the whole photo's). Loss: binary
cross-entropy on the logit (genuine = 1) plus 0.5 x binary cross-entropy of the cells against the share of
each cell the counterfeit changed (tools/make_verifier_set.py).

Data: pairs from tools/make_verifier_set.py (several sets, e.g. other seeds, are used as one); 5% of the
brands are kept apart for validation (brands, not photos, so validation measures unseen marks). The brands kept
apart are written beside the checkpoint (`<checkpoint>.validation.txt`); `--validation-brands` reads such a
list, so a model continued on new pairs is still validated on brands it never trained on. The checkpoint
keeps the weights of the evaluation with the best validation AUC. `--hard-genuine S` draws the share S of
genuine training pairs that the `--init` model scores lowest `--hard-boost` times as often (hard-example
mining of the print styles and lighting it forgives least). Batches are built (augmented) in
`--loader-workers` processes when a GPU would otherwise wait for them.
Augmentation: brightness, contrast and saturation of the query, a shift of up to `--shift` pixels at 128 px
(alignment error, 3 by default; the same share of the side at other sizes), and both images flipped together.
The pair set's alignment (tools/make_verifier_set.py --align) is written to the model's `<model>.json`, so
the scanner aligns the way the model was trained. The network
is fully convolutional, so `--init` may start a pair set of another side (v4: 224 px) from a checkpoint
trained at 128 px; the deviation map then has side / 8 cells per side. The learning rate follows one cosine
cycle fitted to the time budget; `--init` starts from a trained checkpoint (validated once before the first
step). Curves (loss; validation AUC and counterfeit detection at 3% of genuine flagged) go to a PNG beside the
checkpoint.
Export: litert-torch float, then ai-edge-quantizer static int8 calibrated on 200 training pairs
(tools/export_embedder.py's recipe).
"""

from __future__ import annotations

import argparse
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

from effnet_lite import load_pretrained  # noqa: E402
from tflite_weights import QuantizedLayer, quantized_layers  # noqa: E402
from training import (  # noqa: E402
    choose_validation_brands,
    edge_correlations,
    hard_genuine_weights,
    load_pair_sets,
    plot_curves,
    train_for,
)

from scanner.embed import record_calibration  # noqa: E402
from scanner.pair_model import pair_input  # noqa: E402

SHARED_BLOCKS = 5  # EfficientNet-Lite0 blocks 0-4 end at stride 8 with 40 channels
FROZEN_BLOCKS = 3
FEATURES = 40
VALIDATION_SHARE = 0.05
FLAG_RATE = 0.03  # genuine photos wrongly flagged at the operating point the curves report
# The int8 output's range, in logits: beyond it sigmoid is saturated (0.99995 and 0.00005) anyway.
OUTPUT_RANGE = (-10.0, 10.0)


class PairNet(nn.Module):
    """(N, 6, S, S) levelled BGR pair, 0..255 -> (N, 1 + (S/8)^2): authenticity logit, then deviation logits."""

    def __init__(self, pretrained: bool = True, frozen_blocks: int = FROZEN_BLOCKS, context: bool = False) -> None:
        super().__init__()
        from effnet_lite import EfficientNetLite0

        backbone = load_pretrained() if pretrained else EfficientNetLite0()
        # The scanner's pixels are BGR and the ImageNet weights expect RGB: reverse the stem's input channels
        # once here rather than the image in the graph (a REVERSE op that not every int8 runtime has).
        backbone._conv_stem.weight.data = backbone._conv_stem.weight.data.flip(1)
        self.stem = nn.Sequential(backbone._conv_stem, backbone._bn0, nn.ReLU6())
        self.blocks = nn.Sequential(*backbone._blocks[:SHARED_BLOCKS])
        self.frozen = [self.stem, *self.blocks[:frozen_blocks]] if frozen_blocks >= 0 else []
        for module in self.frozen:
            for parameter in module.parameters():
                parameter.requires_grad = False
        fused = 3 * FEATURES + 6
        self.fuse = nn.Sequential(
            nn.Conv2d(fused, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU6(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU6(),
        )  # fmt: skip
        # Global context (--context): the pair's fused inputs averaged over the whole crop, added to every cell
        # after the first convolution, so a cell can judge its colour against the whole photo's (white balance,
        # an embossed mark with no ink anywhere) rather than its neighbours' alone. Zero at the start, so a
        # checkpoint without it continues exactly where it was.
        self.context = nn.Linear(fused, 64) if context else None
        if self.context is not None:
            nn.init.zeros_(self.context.weight)
            nn.init.zeros_(self.context.bias)
        self.cells = nn.Conv2d(64, 1, 1)
        self.down = nn.Sequential(nn.Conv2d(64, 96, 3, stride=2, padding=1), nn.BatchNorm2d(96), nn.ReLU6())
        self.decide = nn.Linear(2 * 96, 1)

    def train(self, mode: bool = True) -> PairNet:
        super().train(mode)
        for module in self.frozen:  # frozen layers keep their ImageNet batch-norm statistics
            module.eval()
        return self

    def features(self, bgr: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem((bgr - 127.0) / 128.0))

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        query, reference = pair[:, :3], pair[:, 3:]
        fq, fr = self.features(query), self.features(reference)
        colour = F.avg_pool2d(pair, 8) / 128.0 - 1.0
        inputs = torch.cat([fq, fr, (fq - fr).abs(), colour], dim=1)
        x = self.fuse[0](inputs)
        if self.context is not None:
            x = x + self.context(inputs.mean(dim=(2, 3)))[:, :, None, None]
        x = self.fuse[1:](x)
        cells = self.cells(x).flatten(1)
        y = self.down(x)
        pooled = torch.cat([y.mean(dim=(2, 3)), y.amax(dim=(2, 3))], dim=1)
        return torch.cat([self.decide(pooled), cells], dim=1)


def load_init(model: PairNet, checkpoint: Path) -> None:
    """Start from a trained checkpoint; one trained without the global context may start a model with it
    (the context layer then starts at zero), never the other way round."""
    state = torch.load(checkpoint, map_location="cpu")["model"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not key.startswith("context.") for key in missing):
        raise SystemExit(f"{checkpoint} does not fit this network: missing {missing}, unexpected {unexpected}")


def build_pairs(
    data: dict, index: np.ndarray, rng: np.random.Generator | None = None, shift: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """((N, S, S, 6) float32 pairs, (N,) which were flipped); augmented when rng is given."""
    out, flipped = [], []
    for i in index:
        query = data["aligned"][i]
        reference = data["references"][data["reference_index"][i]]
        flip = False
        if rng is not None:
            query, reference, flip = _augment(query, reference, rng, shift)
        out.append(pair_input(query, reference))
        flipped.append(flip)
    return np.stack(out), np.array(flipped)


def _augment(query: np.ndarray, reference: np.ndarray, rng: np.random.Generator, shift: float) -> tuple:
    q = query.astype(np.float32) * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20)
    grey = q.mean(axis=2, keepdims=True)
    q = grey + (q - grey) * rng.uniform(0.75, 1.25)
    reach = round(shift * q.shape[0] / 128)  # alignment error in pixels at 128 px, the same share at any side
    dx, dy = rng.integers(-reach, reach + 1, 2)
    q = cv2.warpAffine(q, np.float32([[1, 0, dx], [0, 1, dy]]), q.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    q = np.clip(q, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        return q[:, ::-1].copy(), reference[:, ::-1].copy(), True
    return q, reference, False


def _flip_targets(target: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    return np.where(flipped[:, None, None], target[:, :, ::-1], target)


def to_tensor(pairs: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pairs).permute(0, 3, 1, 2).contiguous()


class Batches(torch.utils.data.IterableDataset):
    """Endless augmented training batches: (pairs (N, 6, S, S), cell targets, genuine); each loader worker
    draws from its own random stream."""

    def __init__(
        self,
        data: dict,
        index: np.ndarray,
        targets: np.ndarray,
        batch: int,
        shift: float,
        seed: int,
        weights: np.ndarray | None = None,
    ):
        super().__init__()
        self.data, self.index, self.targets = data, index, targets
        self.batch, self.shift, self.seed = batch, shift, seed
        self.weights = weights  # drawing probability of each of `index` (None: uniform)

    def __iter__(self):  # type: ignore[no-untyped-def]
        worker = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, worker.id if worker else 0])
        while True:
            index = rng.choice(self.index, self.batch, p=self.weights)
            pairs, flipped = build_pairs(self.data, index, rng, self.shift)
            target = torch.from_numpy(_flip_targets(self.targets[index], flipped))
            yield to_tensor(pairs), target, torch.from_numpy(self.data["genuine"][index].astype(np.float32))


def loss_of(output: torch.Tensor, genuine: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    decision = F.binary_cross_entropy_with_logits(output[:, 0], genuine)
    cells = F.binary_cross_entropy_with_logits(output[:, 1:], target.flatten(1))
    return decision + 0.5 * cells


@torch.no_grad()
def scores(model: PairNet, data: dict, index: np.ndarray, batch: int = 128) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    out = [torch.sigmoid(model(to_tensor(build_pairs(data, index[i : i + batch])[0]).to(device))[:, 0]).cpu().numpy()
           for i in range(0, len(index), batch)]  # fmt: skip
    model.train()
    return np.concatenate(out)


def auc(genuine_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """Probability that a genuine pair scores above a counterfeit one."""
    both = np.concatenate([genuine_scores, fake_scores])
    ranks = both.argsort().argsort() + 1
    n_g, n_f = len(genuine_scores), len(fake_scores)
    return float((ranks[:n_g].sum() - n_g * (n_g + 1) / 2) / (n_g * n_f))


def validation_metrics(model: PairNet, data: dict, index: np.ndarray) -> dict[str, float]:
    s = scores(model, data, index)
    genuine = data["genuine"][index]
    threshold = float(np.quantile(s[genuine], FLAG_RATE))  # flags FLAG_RATE of genuine pairs
    metrics = {"auc": auc(s[genuine], s[~genuine]), "detection": float((s[~genuine] < threshold).mean())}
    # Pairs judged against a photo of genuine goods (make_verifier_set.py --photo-references) and against artwork,
    # each on its own: their scores sit at different levels, which one AUC over both mixes.
    photo = data["reference_is_photo"][data["reference_index"][index]]
    if photo.any() and (~photo).any():
        for name, part in (("photo_auc", photo), ("artwork_auc", ~photo)):
            metrics[name] = auc(s[part & genuine], s[part & ~genuine])
    return metrics


def export(model: PairNet, data: dict, out: Path, float_path: Path, size: int, calibration: int = 200) -> None:
    from export_embedder import quantize, sha256, to_float_tflite

    to_float_tflite(model.eval(), (1, size, size, 6), float_path)
    rng = np.random.default_rng(1)
    pairs, _ = build_pairs(data, rng.choice(len(data["genuine"]), calibration, replace=False))
    samples = []
    for pair in pairs:
        pair = pair.copy()
        pair[0, 0], pair[-1, -1] = 0, 255  # pin the input range: int8 input scale 1, zero point -128
        samples.append(pair[None])
    quantize(float_path, out, samples, OUTPUT_RANGE)
    record_calibration(
        out,
        {
            "alignment": str(data["alignment"]),
            "colourways": bool(data["colourways"] > 0),
            "photo_references": bool(data["reference_is_photo"].any()),
            "emboss_light": str(data["emboss_light"]),
        },
    )
    print(
        f"int8: {out} ({out.stat().st_size / 1e6:.1f} MB) sha256 {sha256(out)}; float32: {float_path}", file=sys.stderr
    )


def _weighted_modules(model: PairNet) -> list[tuple[nn.Module, nn.BatchNorm2d | None]]:
    """Each convolution and linear layer with the batch norm after it, in the order the exported graph runs
    them (the order tflite_weights.quantized_layers lists them)."""
    modules: list[tuple[nn.Module, nn.BatchNorm2d | None]] = [(model.stem[0], model.stem[1])]
    for block in model.blocks:
        if block.has_expand:
            modules.append((block._expand_conv, block._bn0))
        modules += [(block._depthwise_conv, block._bn1), (block._project_conv, block._bn2)]
    return modules + [
        (model.fuse[0], model.fuse[1]), (model.fuse[3], model.fuse[4]), (model.cells, None),
        (model.down[0], model.down[1]), (model.decide, None),
    ]  # fmt: skip


def _folded(conv: nn.Module, norm: nn.BatchNorm2d | None) -> np.ndarray:
    """The layer's weight with its batch norm's scale folded in, as the exporter folds it (torch layout)."""
    weight = conv.weight.detach().numpy()
    if norm is None:
        return weight
    scale = (norm.weight / torch.sqrt(norm.running_var + norm.eps)).detach().numpy()
    return weight * scale[:, None, None, None]


def _torch_layout(layer: QuantizedLayer) -> np.ndarray:
    if layer.op == "CONV_2D":
        return layer.weight.transpose(0, 3, 1, 2)  # OHWI -> OIHW
    if layer.op == "DEPTHWISE_CONV_2D":
        return layer.weight.transpose(3, 0, 1, 2)  # 1HWC -> C1HW
    return layer.weight


@torch.no_grad()
def init_from_tflite(model: PairNet, path: Path, data: dict, index: np.ndarray) -> int:
    """Start from an exported int8 verifier when its checkpoint is gone: each layer's dequantized weights
    (tools/tflite_weights.py), with every folded batch norm unfolded again so that training can go on.
    Layers that already match the model's ImageNet weights to within the int8 rounding keep the exact ones.
    Returns how many layers were taken from the file.

    Unfolding: the file holds W' = W x gamma / sigma and b' per channel. The convolution gets W', and its
    batch norm the statistics of W'x measured on `index`'s pairs (mean m, variance v), gamma = sqrt(v + eps)
    and beta = b' + m: in evaluation that is exactly W'x + b', and a training batch, normalised by its own
    statistics, sees nearly the same."""
    layers = quantized_layers(path)
    modules = _weighted_modules(model)
    if model.context is not None or len(layers) != len(modules):
        raise SystemExit(f"{path} has {len(layers)} weighted layers, this network {len(modules)}: not its export")
    recovered: list[tuple[nn.BatchNorm2d, QuantizedLayer]] = []  # the unfolded layers' batch norms
    taken = 0
    for (layer_module, norm), layer in zip(modules, layers, strict=True):
        weight = _torch_layout(layer)
        if weight.shape != tuple(layer_module.weight.shape):
            raise SystemExit(f"{path}: a {layer.op} of shape {weight.shape} where this network has "
                             f"{tuple(layer_module.weight.shape)}: not its export")  # fmt: skip
        if np.abs(_folded(layer_module, norm) - weight).max() <= 1.01 * layer.weight_error:
            continue  # the ImageNet weights it was exported from: keep them exact
        layer_module.weight.copy_(torch.from_numpy(weight.copy()))
        taken += 1
        if norm is None:
            layer_module.bias.copy_(torch.from_numpy(layer.bias))
            continue
        if layer_module.bias is not None:
            layer_module.bias.zero_()
        norm.running_mean.zero_()
        norm.running_var.fill_(1 - norm.eps)
        norm.weight.fill_(1.0)
        norm.bias.copy_(torch.from_numpy(layer.bias))
        recovered.append((norm, layer))

    # The statistics of each unfolded layer's output, before its batch norm (which is still the identity
    # plus b', so every later layer already sees what the exported model computes).
    sums: dict[nn.Module, list] = {}

    def record(norm: nn.Module, inputs: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        x = inputs[0].transpose(0, 1).flatten(1).double()
        total, squares, count = sums.get(norm, (0.0, 0.0, 0))
        sums[norm] = [total + x.sum(1), squares + (x * x).sum(1), count + x.shape[1]]

    hooks = [norm.register_forward_hook(record) for norm, _ in recovered]
    model.eval()
    for start in range(0, len(index), 128):
        model(to_tensor(build_pairs(data, index[start : start + 128])[0]))
    for hook in hooks:
        hook.remove()
    for norm, layer in recovered:
        total, squares, count = sums[norm]
        mean = total / count
        variance = (squares / count - mean * mean).clamp(min=0)
        norm.running_mean.copy_(mean.float())
        norm.running_var.copy_(variance.float())
        norm.weight.copy_(torch.sqrt(variance + norm.eps).float())
        norm.bias.copy_(torch.from_numpy(layer.bias) + mean.float())
    model.train()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="one or more pair sets, used together")
    parser.add_argument("--out", type=Path, required=True, help="int8 .tflite to write")
    parser.add_argument("--checkpoint", type=Path, default=Path("build/verifier_v2.pt"))
    parser.add_argument("--float-out", type=Path, default=Path("build/verifier_v2_float32.tflite"))
    parser.add_argument("--minutes", type=float, default=30.0, help="training time budget")
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export-only", action="store_true", help="export --checkpoint again without training")
    parser.add_argument(
        "--init", type=Path, help="a trained verifier to start from: its checkpoint (.pt) or its int8 export (.tflite)"
    )
    parser.add_argument("--lr-scale", type=float, default=1.0, help="scales the learning rate (fine-tuning: 0.5)")
    parser.add_argument("--shift", type=float, default=3.0, help="augmentation shift, pixels at 128 px")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda")
    parser.add_argument("--loader-workers", type=int, default=0, help="processes building batches (0: this one)")
    parser.add_argument("--validation-brands", type=Path, help="brands to validate on, one per line")
    parser.add_argument(
        "--frozen-blocks",
        type=int,
        default=FROZEN_BLOCKS,
        help="backbone blocks kept at their weights, with the stem; -1 trains the stem too",
    )
    parser.add_argument(
        "--hard-genuine",
        type=float,
        default=0.0,
        help="share of genuine training pairs the --init model scores lowest, drawn --hard-boost times as often",
    )
    parser.add_argument("--hard-boost", type=float, default=3.0)
    parser.add_argument(
        "--drop-misaligned",
        type=float,
        help="train and validate only on pairs whose edges correlate at least this well (failed alignments out)",
    )
    parser.add_argument("--context", action="store_true", help="add the global context to the fusion head")
    parser.add_argument("--no-export", action="store_true", help="save the checkpoint only (export with --export-only)")
    args = parser.parse_args(argv)
    if args.export_only:
        state = torch.load(args.checkpoint, map_location="cpu")
        model = PairNet(pretrained=False, context=bool(state.get("context", False)))
        model.load_state_dict(state["model"])
        export(model, load_pair_sets(args.data), args.out, args.float_out, int(state["size"]))
        return 0

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    data = load_pair_sets(args.data)
    size = data["aligned"].shape[1]
    validation_brands = choose_validation_brands(data["brand"], rng, VALIDATION_SHARE, args.validation_brands)
    is_val = np.array([b in validation_brands for b in data["brand"]])
    usable = np.ones(len(is_val), bool)
    if args.drop_misaligned is not None:
        usable = edge_correlations(data) >= args.drop_misaligned
        print(f"dropped {(~usable).sum()} pairs whose alignment failed (edge correlation under "
              f"{args.drop_misaligned})", file=sys.stderr)  # fmt: skip
    train_index, val_index = np.nonzero(~is_val & usable)[0], np.nonzero(is_val & usable)[0]
    targets = data["target"].astype(np.float32) / 255.0
    print(f"{len(train_index)} training pairs, {len(val_index)} validation pairs, {size} px", file=sys.stderr)

    args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    args.checkpoint.with_suffix(".validation.txt").write_text("".join(f"{b}\n" for b in sorted(validation_brands)))

    # A checkpoint holds every weight, the frozen ones too.
    from_export = args.init is not None and args.init.suffix == ".tflite"
    model = PairNet(pretrained=args.init is None or from_export, frozen_blocks=args.frozen_blocks, context=args.context)
    if from_export:
        sample = np.random.default_rng(args.seed + 1).choice(train_index, min(1024, len(train_index)), False)
        taken = init_from_tflite(model, args.init, data, sample)
        print(f"{taken} layers taken from {args.init}, the rest are the ImageNet weights", file=sys.stderr)
    elif args.init:
        load_init(model, args.init)
    model.to(args.device).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=2e-3 * args.lr_scale, weight_decay=1e-4)
    history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "auc": [], "detection": []}
    best: dict = {"auc": -1.0}

    def evaluate(step: int) -> None:
        metrics = validation_metrics(model, data, val_index)
        history["eval_step"].append(step)
        history["auc"].append(metrics["auc"])
        history["detection"].append(metrics["detection"])
        # Against artwork and against photos apart, where the validation pairs hold both.
        apart = (
            f" (against artwork {metrics['artwork_auc']:.3f}, photos {metrics['photo_auc']:.3f})"
            if "photo_auc" in metrics
            else ""
        )
        print(
            f"step {step}: validation AUC {metrics['auc']:.3f}{apart}, detection {metrics['detection']:.3f}",
            file=sys.stderr,
        )
        if metrics["auc"] > best["auc"]:
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            best.update(auc=metrics["auc"], step=step, state=state)
            # Saved as it improves: a run cut off by its machine's time limit still leaves its best weights.
            torch.save({"model": state, "size": size, "steps": step, "context": args.context}, args.checkpoint)

    weights = None
    if args.hard_genuine:
        if not args.init:
            raise SystemExit("--hard-genuine needs --init: the hard pairs are those a trained model scores lowest")
        genuine = data["genuine"][train_index]
        weights = hard_genuine_weights(
            genuine, scores(model, data, train_index[genuine]), args.hard_genuine, args.hard_boost
        )
        print(f"hard genuine pairs: {(weights > weights.min()).sum()} drawn x{args.hard_boost:g}", file=sys.stderr)

    # The loader workers fork from here: one OpenCV thread each, set before the fork (cv2.setNumThreads in a
    # forked child can hang on the parent's thread pool; tools/make_verifier_set.py).
    cv2.setNumThreads(1)
    loader = torch.utils.data.DataLoader(
        Batches(data, train_index, targets, args.batch, args.shift, args.seed, weights),
        batch_size=None,
        num_workers=args.loader_workers,
        pin_memory=args.device != "cpu",
    )
    batches = iter(loader)

    def step_loss() -> torch.Tensor:
        pairs, target, genuine = (t.to(args.device, non_blocking=True) for t in next(batches))
        return loss_of(model(pairs), genuine, target)

    if args.init:
        evaluate(0)  # where the checkpoint starts, on the same validation brands
    step, minutes = train_for(args.minutes, optimizer, step_loss, history, evaluate, args.eval_every, overhead=1.1)
    model.load_state_dict(best["state"])
    model.cpu()
    history["best_step"] = [best["step"]]
    args.checkpoint.with_suffix(".json").write_text(json.dumps(history))
    plot_curves(
        history,
        args.checkpoint.with_suffix(".png"),
        "loss (decision + 0.5 x cells)",
        [("auc", "o-", "validation AUC"), ("detection", "s-", f"detection at {FLAG_RATE:.0%} genuine flagged")],
        "validation brands (never trained on)",
    )
    print(
        f"saved {args.checkpoint}: step {best['step']} of {step} (validation AUC {best['auc']:.3f}), {minutes:.1f} min",
        file=sys.stderr,
    )
    if not args.no_export:
        export(model, data, args.out, args.float_out, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
