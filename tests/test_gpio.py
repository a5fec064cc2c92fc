import threading
import time

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from scanner.config import GpioConfig
from scanner.gpio import GpioIndicator, NullIndicator, make_indicator
from scanner.verdict import Verdict

CONFIG = GpioConfig()


@pytest.fixture
def factory():
    previous = Device.pin_factory
    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = previous


@pytest.fixture
def indicator(factory):
    with make_indicator(CONFIG) as ind:
        assert isinstance(ind, GpioIndicator)
        yield ind


def _leds(factory) -> dict[str, bool]:
    return {name: factory.pin(getattr(CONFIG, f"{name}_pin")).state for name in ("green", "amber", "red")}


@pytest.mark.parametrize(
    ("verdict", "lit"),
    [(Verdict.PASS, "green"), (Verdict.SUSPECT, "red"), (Verdict.UNKNOWN, "amber"), (Verdict.RESCAN, "amber")],
)
def test_one_led_per_verdict(indicator, factory, verdict, lit):
    indicator.show(verdict)
    assert _leds(factory) == {name: name == lit for name in ("green", "amber", "red")}


def _beeps(factory, after: float) -> int:
    time.sleep(after)
    states = [s.state for s in factory.pin(CONFIG.buzzer_pin).states]
    return sum(1 for a, b in zip(states, states[1:], strict=False) if not a and b)


def test_suspect_beeps_three_times(indicator, factory):
    indicator.show(Verdict.SUSPECT)
    assert _beeps(factory, 1.7) == 3


def test_pass_beeps_once(indicator, factory):
    indicator.show(Verdict.PASS)
    assert _beeps(factory, 0.3) == 1


def test_no_verdict_turns_leds_off(indicator, factory):
    indicator.show(Verdict.SUSPECT)
    indicator.show(None)
    assert not any(_leds(factory).values())


def test_trigger_button_calls_back(indicator, factory):
    pressed = threading.Event()
    indicator.on_trigger(pressed.set)
    pin = factory.pin(CONFIG.trigger_pin)
    pin.drive_low()  # button to ground, internal pull-up
    assert pressed.wait(1.0)
    pin.drive_high()


def test_disabled_gpio_is_a_null_indicator(factory):
    assert type(make_indicator(GpioConfig(enabled=False))) is NullIndicator


def test_pin_conflict_falls_back_with_a_warning(factory, caplog):
    clash = GpioConfig(green_pin=17)  # the trigger button already holds GPIO17
    ind = make_indicator(clash)
    assert type(ind) is NullIndicator and "GPIO unavailable" in caplog.text


def test_a_view_taken_clears_the_last_verdict_and_clicks_once(indicator, factory):
    """[live] views = 2: between an item's views no LED may still show the verdict of the item before."""
    indicator.show(Verdict.SUSPECT)
    time.sleep(1.7)  # the suspect's three beeps are over
    before = len(factory.pin(CONFIG.buzzer_pin).states)
    indicator.view_taken()
    assert _leds(factory) == {"green": False, "amber": False, "red": False}
    time.sleep(0.2)
    states = [s.state for s in factory.pin(CONFIG.buzzer_pin).states][before - 1 :]
    assert sum(1 for a, b in zip(states, states[1:], strict=False) if not a and b) == 1
