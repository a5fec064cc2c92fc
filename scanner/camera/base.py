"""The camera interface every frame source implements."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    image: np.ndarray  # BGR frame for the pipeline (the Pi camera's lores stream)
    preview: np.ndarray  # BGR frame for the screen (the main stream); may be the same array
    index: int
    timestamp: float = field(default_factory=time.monotonic)


class Camera(abc.ABC):
    """Open once per process and use as a context manager; `read()` returns None when a finite source ends."""

    #: True for a live camera (frames keep coming); False for files and videos (they end).
    live: bool = True
    #: Frames per second the source is meant to be shown at (None when unknown or not applicable).
    fps: float | None = None

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._count = 0

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def _grab(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(image, preview) of the next frame, or None at the end of a finite source."""

    def read(self) -> Frame | None:
        grabbed = self._grab()
        if grabbed is None:
            return None
        self._count += 1
        return Frame(grabbed[0], grabbed[1], self._count - 1)

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
