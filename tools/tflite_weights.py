"""Read the weights back out of an int8 .tflite: the layers a trained checkpoint can be rebuilt from.

    layers = quantized_layers(Path("models/verifier_v5_int8.tflite"))
    layers[0].op, layers[0].weight.shape, layers[0].bias.shape      # "CONV_2D", (32, 3, 3, 3), (32,)

A training checkpoint lives in build/ and is lost with the machine that made it; the shipped .tflite is the
model that lasts. Each convolution and fully connected layer's int8 weights and int32 bias are dequantized
(value = scale x (q - zero point), per output channel), in the order the graph first runs them; a layer the
graph runs twice (the pair verifier's backbone sees the query and the reference) is listed once. The weights
are as exported: each batch norm already folded into the convolution before it (tools/train_verifier.py
`init_from_tflite` unfolds them again). Torch-free, so the scanner's own environment can read a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scanner.runtime import interpreter_class

WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass
class QuantizedLayer:
    op: str  # one of WEIGHTED_OPS
    weight: np.ndarray  # float32, TFLite layout: OHWI (conv), 1HWC (depthwise), (out, in) (fully connected)
    bias: np.ndarray  # float32 (out,)
    weight_error: float  # largest rounding error of a weight: half its channel's step

    @property
    def out_channels(self) -> int:
        return _out_channels(self.op, self.weight)


def _out_channels(op: str, weight: np.ndarray) -> int:
    """Output channels of a WEIGHTED_OPS weight in its TFLite layout (depthwise: 1HWC, the others: O first)."""
    return int(weight.shape[3] if op == "DEPTHWISE_CONV_2D" else weight.shape[0])


def _interpreter(path: Path):  # type: ignore[no-untyped-def]
    interpreter = interpreter_class("auto")[1](model_path=str(path))  # whichever runtime the scanner would use
    interpreter.allocate_tensors()
    return interpreter


def dequantize(values: np.ndarray, details: dict) -> tuple[np.ndarray, float]:
    """(float32 values, the largest rounding error: half the coarsest step) of a quantized constant tensor."""
    params = details["quantization_parameters"]
    scales, zeros = np.asarray(params["scales"], np.float32), np.asarray(params["zero_points"], np.float32)
    if scales.size == 0:  # a float tensor
        return values.astype(np.float32), 0.0
    axis = params["quantized_dimension"] if scales.size > 1 else 0
    shape = [1] * values.ndim
    shape[axis] = -1 if scales.size > 1 else 1
    real = (values.astype(np.float32) - zeros.reshape(shape)) * scales.reshape(shape)
    return real, float(scales.max() / 2)


def quantized_layers(path: Path) -> list[QuantizedLayer]:
    """The weighted layers of a .tflite, dequantized, in the order its graph first runs them."""
    interpreter = _interpreter(path)
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    layers, seen = [], set()
    for op in interpreter._get_ops_details():  # noqa: SLF001 - the public API has no op list
        if op["op_name"] not in WEIGHTED_OPS or op["inputs"][1] in seen:
            continue
        weight_index, bias_index = op["inputs"][1], op["inputs"][2]
        seen.add(weight_index)
        weight, error = dequantize(interpreter.get_tensor(weight_index), details[weight_index])
        bias = (
            dequantize(interpreter.get_tensor(bias_index), details[bias_index])[0]
            if bias_index >= 0
            else np.zeros(_out_channels(op["op_name"], weight), np.float32)
        )
        layers.append(QuantizedLayer(op["op_name"], weight, bias, error))
    return layers
