"""`scanner hub ...`: run the hub, register devices, list received scans, sign and publish brand indexes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..exc import ScannerError

data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Hub data folder (SQLite database, signing key, published indexes).",
)
url_option = click.option("--database-url", help="postgresql://user:pass@host/db instead of SQLite in --data.")


def _clean(fn):  # type: ignore[no-untyped-def]
    from ..cli import fail_cleanly

    return fail_cleanly(fn)


def _storage(data_dir: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    try:
        from .storage import HubStorage
    except ImportError as err:
        raise ScannerError("the hub needs its extra: pip install 'scanner[hub]'") from err
    return HubStorage.open(data_dir, database_url)


@click.group()
def hub() -> None:
    """The central hub: receives flagged scans from devices and publishes signed brand-index updates."""


@hub.command()
@data_option
@url_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8443, show_default=True, help="Port to listen on.")
@_clean
def serve(data_dir: Path, database_url: str | None, host: str, port: int) -> None:
    """Serve the hub API (docs/sync.md) until stopped. Put TLS in front of it (a reverse proxy) off loopback."""
    import uvicorn

    from .app import create_app

    storage = _storage(data_dir, database_url)
    uvicorn.run(create_app(storage, data_dir), host=host, port=port, log_level="info")


@hub.command("add-device")
@click.argument("name")
@data_option
@url_option
@_clean
def add_device(name: str, data_dir: Path, database_url: str | None) -> None:
    """Register device NAME and print its token (shown once; the hub keeps only its hash)."""
    click.echo(_storage(data_dir, database_url).add_device(name))


@hub.command("add-reviewer")
@click.argument("name")
@data_option
@url_option
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@_clean
def add_reviewer(name: str, data_dir: Path, database_url: str | None, password_stdin: bool) -> None:
    """Create reviewer NAME for the web console, or set a new password (stored as an scrypt hash)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise ScannerError("use a password of at least 10 characters")
    _storage(data_dir, database_url).add_reviewer(name, password)
    click.echo(f"reviewer {name!r} can log in at the hub's /login")


@hub.command("list")
@data_option
@url_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=click.IntRange(1), help="Newest first, at most this many.")
@_clean
def list_scans(data_dir: Path, database_url: str | None, as_json: bool, limit: int | None) -> None:
    """List the scans received from devices, newest first."""
    for row in _storage(data_dir, database_url).list_scans(limit):
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(
                f"{row['uuid']}  {row['received_at'][:19]}  {row['device']:<12} {row['verdict'] or '-':<8} "
                f"{row['brand'] or '-'}"
            )


@hub.command()
@data_option
@_clean
def keygen(data_dir: Path) -> None:
    """Create the hub's Ed25519 index-signing key and print the public key for devices' [hub] public_key."""
    from .. import signing
    from .publish import KEY_FILE

    path = data_dir / KEY_FILE
    if path.exists():
        raise ScannerError(f"{path} exists: a new key would orphan every device configured with the old one")
    click.echo(signing.generate_key(path))


@hub.command("publish-index")
@click.argument("db", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@data_option
@_clean
def publish_index(db: Path, data_dir: Path) -> None:
    """Publish brand index DB as the next version, with a signed manifest devices verify before installing."""
    from .publish import publish_index as publish

    click.echo(json.dumps(publish(db, data_dir), indent=2))
