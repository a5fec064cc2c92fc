"""The one place that knows about TFLite runtimes.

Two interchangeable interpreters exist: `ai-edge-litert` (LiteRT, maintained, numpy 2, fast int8 kernels on
x86 and Arm) and `tflite-runtime` 2.14 (the last release; Python <= 3.11, numpy < 2). Both expose the same
`Interpreter` class. `runtime="auto"` takes LiteRT when installed, else tflite-runtime.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .exc import ModelError, RuntimeMissingError

logger = logging.getLogger(__name__)

RUNTIME_MODULES = {"litert": "ai_edge_litert.interpreter", "tflite": "tflite_runtime.interpreter"}
TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier at byte offset 4


def available_runtimes() -> list[str]:
    """Names of the installed runtimes, in order of preference."""
    found = []
    for name, module in RUNTIME_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        found.append(name)
    return found


def interpreter_class(runtime: str = "auto") -> tuple[str, Any]:
    """Return (runtime name, Interpreter class) for `runtime` ("auto", "litert" or "tflite")."""
    if runtime not in ("auto", *RUNTIME_MODULES):
        raise RuntimeMissingError(f"unknown runtime {runtime!r}: use auto, litert or tflite")
    names = list(RUNTIME_MODULES) if runtime == "auto" else [runtime]
    for name in names:
        try:
            module = importlib.import_module(RUNTIME_MODULES[name])
        except ImportError:
            continue
        return name, module.Interpreter
    wanted = "ai-edge-litert or tflite-runtime" if runtime == "auto" else RUNTIME_MODULES[runtime].split(".")[0]
    raise RuntimeMissingError(
        f"no TFLite runtime found ({wanted}): install one, e.g. `pip install 'scanner[litert]'` "
        "(or 'scanner[tflite]' on Raspberry Pi OS Bookworm)"
    )


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: type
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0


class TFLiteModel:
    """A loaded .tflite model with one input and one output; quantization handled at the boundary."""

    def __init__(self, path: Path, num_threads: int = 1, runtime: str = "auto") -> None:
        self.path = Path(path)
        _check_model_file(self.path)
        self.runtime, interpreter_cls = interpreter_class(runtime)
        try:
            self._interpreter = interpreter_cls(model_path=str(self.path), num_threads=num_threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"cannot load model {self.path}: {err}. Reinstall the shipped file from models/") from err
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{self.path} has {len(inputs)} inputs and {len(outputs)} outputs; expected 1 and 1")
        self._input_index = inputs[0]["index"]
        self._output_index = outputs[0]["index"]
        self.input = _spec(inputs[0])
        self.output = _spec(outputs[0])
        logger.info("loaded %s with %s (%d threads)", self.path.name, self.runtime, num_threads)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run on one input batch (already in the input's dtype, or float to be quantized); float32 out."""
        if batch.dtype != self.input.dtype:
            batch = quantize(batch, self.input)
        self._interpreter.set_tensor(self._input_index, batch)
        self._interpreter.invoke()
        return dequantize(self._interpreter.get_tensor(self._output_index), self.output)


def _spec(details: dict) -> TensorSpec:
    scale, zero_point = details["quantization"]
    return TensorSpec(tuple(int(d) for d in details["shape"]), details["dtype"], float(scale), int(zero_point))


def quantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    if not spec.quantized:
        return values.astype(spec.dtype)
    info: np.iinfo = np.iinfo(spec.dtype)
    q = np.round(values.astype(np.float32) / spec.scale) + spec.zero_point
    return np.clip(q, info.min, info.max).astype(spec.dtype)


def dequantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    if not spec.quantized:
        return values.astype(np.float32)
    return (values.astype(np.float32) - spec.zero_point) * spec.scale


def _check_model_file(path: Path) -> None:
    if not path.is_file():
        raise ModelError(f"model file not found: {path}. Point --model (or [model] path in scanner.toml) at a .tflite")
    with path.open("rb") as fh:
        head = fh.read(8)
    if len(head) < 8 or head[4:8] != TFLITE_MAGIC:
        raise ModelError(f"{path} is not a TFLite model (bad header). Restore it from models/ or re-export it")
