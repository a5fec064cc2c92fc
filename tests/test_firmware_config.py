"""Every file in firmware_config/ is checked: the TOML loads (test_config.py), the shell script parses,
the systemd unit restarts on failure as a non-root user, and config.txt enables the camera."""

import subprocess
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware_config"


def _unit(path: Path) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def test_every_file_is_covered():
    assert {p.name for p in FIRMWARE.iterdir()} == {"scanner.toml", "config.txt", "scanner.service", "install.sh"}


def test_install_script_parses():
    assert subprocess.run(["bash", "-n", str(FIRMWARE / "install.sh")]).returncode == 0
    text = (FIRMWARE / "install.sh").read_text()
    assert "--system-site-packages" in text and "python3-picamera2" in text
    assert "bookworm) RUNTIME=tflite" in text and "trixie)   RUNTIME=litert" in text


def test_service_restarts_as_a_non_root_user():
    unit = _unit(FIRMWARE / "scanner.service")
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"][0] not in ("", "root")
    assert "run --db" in unit["ExecStart"][0] and "--config /etc/scanner/scanner.toml" in unit["ExecStart"][0]


def test_config_txt_enables_the_camera_and_kms():
    lines = {line.strip() for line in (FIRMWARE / "config.txt").read_text().splitlines()}
    assert {"camera_auto_detect=1", "dtoverlay=vc4-kms-v3d"} <= lines


def test_model_files_named_in_the_device_config_ship_in_the_repository():
    """install.sh copies the repository to /opt/scanner, so every model the device config names must be here."""
    import tomllib

    config = tomllib.loads((FIRMWARE / "scanner.toml").read_text())
    named = [value for section in config.values() for value in section.values() if str(value).endswith(".tflite")]
    assert len(named) >= 2  # the embedder and the verifier
    for path in named:
        assert path.startswith("/opt/scanner/") and (FIRMWARE.parent / path.removeprefix("/opt/scanner/")).is_file()
