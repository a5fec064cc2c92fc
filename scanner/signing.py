"""Ed25519 signatures on brand-index manifests: the hub signs, devices verify before they install an index."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .exc import IndexUpdateError, ScannerError


def canonical(manifest: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def generate_key(path: Path) -> str:
    """Write a new private key (PEM, mode 0600) and return the public key as base64 for device configs."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(pem)
    return public_key_b64(key)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError as err:
        raise ScannerError(f"no signing key at {path}: run `scanner hub keygen` first") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ScannerError(f"{path} is not an Ed25519 key")
    return key


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.sign(canonical(manifest))).decode()


def verify(manifest: dict[str, Any], signature_b64: str, public_key_b64_text: str) -> None:
    """Raise IndexUpdateError unless `signature_b64` is the configured key's signature of `manifest`."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64_text, validate=True))
    except ValueError as err:
        raise IndexUpdateError(f"the configured hub public key is not a base64 Ed25519 key: {err}") from err
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), canonical(manifest))
    except (InvalidSignature, ValueError) as err:
        raise IndexUpdateError("index update signature does not verify with the configured hub key: rejected") from err
