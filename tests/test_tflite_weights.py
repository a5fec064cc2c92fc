"""Reading a shipped int8 model's weights back (tools/tflite_weights.py), so training can go on from the file
when its checkpoint is gone: the dequantized weights must compute what the interpreter computes."""

import sys

import numpy as np
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from tflite_weights import dequantize, quantized_layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Warning. Enabling .experimental_preserve_all_tensors.:UserWarning")
VERIFIER = ROOT / "models" / "verifier_v5_int8.tflite"


@pytest.fixture(scope="module")
def layers():
    return quantized_layers(VERIFIER)


@pytest.fixture(scope="module")
def ran():
    """An interpreter that ran one random pair and kept every intermediate tensor, with its ops and tensors."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(VERIFIER), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    pair = np.random.default_rng(0).integers(-128, 128, source["shape"], dtype=np.int16).astype(source["dtype"])
    interpreter.set_tensor(source["index"], pair)
    interpreter.invoke()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    return interpreter, interpreter._get_ops_details(), details


def _real(interpreter, details, index):
    return dequantize(interpreter.get_tensor(index), details[index])[0]


def _op_with_weight(ops, details, name, shape):
    return next(op for op in ops if op["op_name"] == name and tuple(details[op["inputs"][1]]["shape"]) == shape)


def test_each_layer_is_listed_once_in_the_order_the_graph_runs_it(layers):
    # The backbone runs twice (query, reference) on the same weights: 15 backbone layers, then the head's
    # two fusion convolutions, the cell map, the strided convolution and the decision.
    assert len(layers) == 20
    assert [layer.op for layer in layers[:3]] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"]
    assert layers[0].weight.shape == (32, 3, 3, 3) and layers[0].bias.shape == (32,)
    assert layers[15].weight.shape == (64, 3, 3, 126)  # 3 x 40 features + 6 colour channels
    assert layers[-1].op == "FULLY_CONNECTED" and layers[-1].weight.shape == (1, 192)
    assert all(layer.bias.shape == (layer.out_channels,) for layer in layers)
    # Symmetric int8 per channel: the coarsest step is the largest weight / 127, so rounding is half that.
    assert all(np.isclose(layer.weight_error, np.abs(layer.weight).max() / 254, rtol=0.01) for layer in layers)


def test_a_pointwise_convolution_recomputed_from_the_weights_matches_the_interpreter(ran, layers):
    interpreter, ops, details = ran
    op = _op_with_weight(ops, details, "CONV_2D", (40, 1, 1, 144))  # block 3's projection: no activation
    layer = next(layer for layer in layers if layer.weight.shape == (40, 1, 1, 144))
    x = _real(interpreter, details, op["inputs"][0])
    mine = x @ layer.weight[:, 0, 0, :].T + layer.bias
    theirs = _real(interpreter, details, op["outputs"][0])
    step = details[op["outputs"][0]]["quantization_parameters"]["scales"][0]
    assert np.abs(mine - theirs).max() <= 1.01 * step  # the output's own rounding
    assert np.abs(theirs).max() > 20 * step  # the layer is not idle on this input


def test_a_depthwise_convolution_recomputed_from_the_weights_matches_the_interpreter(ran, layers):
    interpreter, ops, details = ran
    op = _op_with_weight(ops, details, "DEPTHWISE_CONV_2D", (1, 3, 3, 144))  # stride 1, same padding, ReLU6
    layer = next(layer for layer in layers if layer.weight.shape == (1, 3, 3, 144))
    x = _real(interpreter, details, op["inputs"][0])[0]
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    height, width = x.shape[:2]
    mine = sum(
        padded[dy : dy + height, dx : dx + width] * layer.weight[0, dy, dx] for dy in range(3) for dx in range(3)
    )
    mine = np.clip(mine + layer.bias, 0, 6)
    theirs = _real(interpreter, details, op["outputs"][0])[0]
    step = details[op["outputs"][0]]["quantization_parameters"]["scales"][0]
    assert np.abs(mine - theirs).max() <= 1.01 * step


def test_the_decision_layer_recomputed_from_the_weights_gives_the_models_logit(ran, layers):
    interpreter, ops, details = ran
    op = next(op for op in ops if op["op_name"] == "FULLY_CONNECTED")
    pooled = _real(interpreter, details, op["inputs"][0])
    mine = pooled @ layers[-1].weight.T + layers[-1].bias
    theirs = _real(interpreter, details, op["outputs"][0])
    step = details[op["outputs"][0]]["quantization_parameters"]["scales"][0]
    assert np.abs(mine - theirs).max() <= 1.01 * step


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    bad = tmp_path / "notes.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError):
        quantized_layers(bad)
