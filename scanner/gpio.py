"""Trigger button, verdict LEDs and buzzer through gpiozero.

`make_indicator()` gives a `GpioIndicator` on a Pi (or under gpiozero's MockFactory in tests) and a
`NullIndicator` wherever gpiozero or the pins are missing, so the same loop runs on a laptop.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

from .config import GpioConfig
from .verdict import Verdict

logger = logging.getLogger(__name__)

# Buzzer pattern per verdict: (on seconds, off seconds, beeps). Distinct by ear without looking.
BEEPS = {
    Verdict.PASS: (0.08, 0.0, 1),
    Verdict.SUSPECT: (0.35, 0.15, 3),
    Verdict.UNKNOWN: (0.08, 0.12, 2),
    Verdict.RESCAN: (0.08, 0.12, 2),
}
VIEW_TAKEN = (0.03, 0.0, 1)  # one click: a view of the item is in, turn it for the next ([live] views)


def _made(made: list, device):  # type: ignore[no-untyped-def,type-arg]
    made.append(device)
    return device


class NullIndicator:
    """No hardware: verdicts are only shown on screen or printed."""

    def on_trigger(self, callback: Callable[[], None]) -> None:
        pass

    def show(self, verdict: Verdict | None) -> None:
        pass

    def view_taken(self) -> None:
        """A view of an item scanned from several is in and the next is due (no verdict yet)."""

    def close(self) -> None:
        pass

    def __enter__(self) -> NullIndicator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GpioIndicator(NullIndicator):
    def __init__(self, config: GpioConfig) -> None:
        from gpiozero import LED, Button, Buzzer

        made: list = []  # type: ignore[type-arg]
        try:
            self.button = _made(made, Button(config.trigger_pin, pull_up=True, bounce_time=0.05))
            self.leds = {name: _made(made, LED(getattr(config, f"{name}_pin"))) for name in ("green", "amber", "red")}
            self.buzzer = _made(made, Buzzer(config.buzzer_pin))
        except Exception:
            for device in made:  # release the pins already claimed, or a retry finds them busy
                device.close()
            raise

    def on_trigger(self, callback: Callable[[], None]) -> None:
        self.button.when_pressed = callback

    def show(self, verdict: Verdict | None) -> None:
        """Light the verdict's LED (the others off) and play its beep pattern in the background."""
        lit = {Verdict.PASS: "green", Verdict.SUSPECT: "red"}.get(verdict, "amber") if verdict else None
        for name, led in self.leds.items():
            led.on() if name == lit else led.off()
        if verdict is not None:
            on, off, count = BEEPS[verdict]
            self.buzzer.beep(on_time=on, off_time=off, n=count, background=True)

    def view_taken(self) -> None:
        """Every LED off (no verdict yet: the last one belonged to the item before) and one click."""
        for led in self.leds.values():
            led.off()
        on, off, count = VIEW_TAKEN
        self.buzzer.beep(on_time=on, off_time=off, n=count, background=True)

    def close(self) -> None:
        for device in (self.button, self.buzzer, *self.leds.values()):
            device.close()


def make_indicator(config: GpioConfig) -> NullIndicator:
    if not config.enabled:
        return NullIndicator()
    try:
        import gpiozero  # noqa: F401
    except ImportError:
        logger.warning("gpiozero is not installed: no button, LEDs or buzzer")
        return NullIndicator()
    try:
        with warnings.catch_warnings():
            # gpiozero warns once per pin library it cannot load before it gives up; one line below says it all.
            warnings.simplefilter("ignore")
            return GpioIndicator(config)
    except Exception as err:  # gpiozero raises several kinds when no pin factory or pin is usable
        logger.warning("GPIO unavailable (%s): no button, LEDs or buzzer", err)
    return NullIndicator()
