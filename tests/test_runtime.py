import numpy as np
import pytest

from scanner.config import DEFAULT_MODEL
from scanner.embed import Embedder, read_calibration
from scanner.exc import ModelError, RuntimeMissingError
from scanner.runtime import TFLiteModel, available_runtimes, interpreter_class

RUNTIMES = available_runtimes()
MODELS = DEFAULT_MODEL.parent


def test_at_least_one_runtime_is_installed():
    assert RUNTIMES


def test_unknown_runtime_name():
    with pytest.raises(RuntimeMissingError, match="unknown runtime"):
        interpreter_class("onnx")


SHIPPED = {
    "embedder_v0_int8.tflite": (224, 1280),
    "embedder_v1_int8.tflite": (128, 128),
    "embedder_v2_int8.tflite": (128, 128),
}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_models_are_full_integer(runtime, name):
    model = TFLiteModel(MODELS / name, runtime=runtime)
    size, dim = SHIPPED[name]
    assert model.runtime == runtime
    assert model.input.shape == (1, size, size, 3) and model.output.shape == (1, dim)
    assert model.input.dtype == np.int8 and (model.input.scale, model.input.zero_point) == (1.0, -128)
    assert model.output.dtype == np.int8


def test_every_shipped_model_has_a_calibrated_threshold():
    for name in SHIPPED:
        assert 0.0 < read_calibration(MODELS / name)["unknown_threshold"] < 1.0


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_embedding_is_unit_length_and_deterministic(runtime, embedder):
    other = Embedder(DEFAULT_MODEL, runtime=runtime)
    crop = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    first, second = other.embed(crop), other.embed(crop)
    assert first.shape == (other.dim,) and first.dtype == np.float32
    assert np.isclose(np.linalg.norm(first), 1.0, atol=1e-5)
    assert np.array_equal(first, second)


@pytest.mark.skipif(len(RUNTIMES) < 2, reason="needs both ai-edge-litert and tflite-runtime")
def test_both_runtimes_agree_on_the_shipped_model():
    crop = np.random.default_rng(1).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    litert = Embedder(DEFAULT_MODEL, runtime="litert").embed(crop)
    tflite = Embedder(DEFAULT_MODEL, runtime="tflite").embed(crop)
    # The two runtimes' int8 kernels round differently: measured cosine 0.9989 for v1 (0.9999 for v0).
    assert float(litert @ tflite) > 0.995


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        TFLiteModel(tmp_path / "nope.tflite")


def test_not_a_model_file(tmp_path):
    path = tmp_path / "fake.tflite"
    path.write_bytes(b"this is not a flatbuffer at all")
    with pytest.raises(ModelError, match="not a TFLite model"):
        TFLiteModel(path)


def test_truncated_model_file(tmp_path):
    path = tmp_path / "cut.tflite"
    path.write_bytes(DEFAULT_MODEL.read_bytes()[:50_000])
    with pytest.raises(ModelError):
        TFLiteModel(path)
