"""Domain exceptions. Each message says what went wrong and how to fix it; the CLI prints it without a traceback."""


class ScannerError(Exception):
    """Base class for every error the scanner reports to a user."""


class ConfigError(ScannerError):
    """The configuration file is missing, malformed, or has an unknown key or a bad value."""


class RuntimeMissingError(ScannerError):
    """Neither TFLite runtime (ai-edge-litert or tflite-runtime) is installed."""


class ModelError(ScannerError):
    """The model file is missing, is not a TFLite flatbuffer, or has the wrong inputs or outputs."""


class BrandIndexError(ScannerError):
    """The brand index file is missing, corrupt, or not a brand index."""


class IndexModelMismatchError(BrandIndexError):
    """The brand index was built with a different embedder than the one loaded."""


class ImageError(ScannerError):
    """An image file is unreadable, empty, truncated or not an image."""


class CameraError(ScannerError):
    """The camera cannot be opened or stopped delivering frames."""


class StoreError(ScannerError):
    """The scan store cannot be opened or written (disk full, newer schema, not a scan store)."""


class SyncError(ScannerError):
    """The hub cannot be reached, refused the device's token, or sent something invalid."""


class HubUnavailableError(SyncError):
    """The hub cannot be reached or refuses this device's token: no scan can go now, so a batch stops."""


class IndexUpdateError(ScannerError):
    """A brand-index update from the hub failed verification; the installed index was kept."""
