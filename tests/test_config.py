from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from scanner.config import ScannerConfig, describe, load_config
from scanner.exc import ConfigError

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware_config"


def test_defaults_without_a_file():
    assert load_config(None) == ScannerConfig()


@pytest.mark.parametrize("path", sorted(FIRMWARE.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_file_loads(path):
    assert isinstance(load_config(path), ScannerConfig)


def test_shipped_scanner_toml_restates_the_defaults():
    """The device file documents the defaults; only the install paths may differ."""
    loaded = load_config(FIRMWARE / "scanner.toml")
    default = ScannerConfig()
    for section in fields(ScannerConfig):
        for key in fields(getattr(default, section.name)):
            if (section.name, key.name) in (("model", "path"), ("verify", "model"), ("store", "path")):
                continue
            assert getattr(getattr(loaded, section.name), key.name) == getattr(getattr(default, section.name), key.name)


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[match]\nunknown_treshold = 0.5\n")
    with pytest.raises(ConfigError, match="unknown_treshold"):
        load_config(path)


def test_unknown_section_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[camera]\nindex = 0\n")
    with pytest.raises(ConfigError, match="camera"):
        load_config(path)


def test_wrong_type_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nthreads = "two"\n')
    with pytest.raises(ConfigError, match="threads must be int"):
        load_config(path)


def test_int_is_accepted_for_float(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text("[verify]\nsuspect_threshold = 1\n")
    assert load_config(path).verify.suspect_threshold == 1.0


def test_malformed_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[match\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_every_field_is_described():
    rows = describe()
    assert rows and all(description for _, _, description in rows)
    assert not any(is_dataclass(default) for _, default, _ in rows)
