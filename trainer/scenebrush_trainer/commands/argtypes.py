"""argparse types that refuse values the trainer cannot use, so that `--batch-size 0` fails at once with
"argument --batch-size: ..." instead of a ZeroDivisionError some steps (or hours) later."""

import argparse
import math


def integer(low: int, high: int | None = None, hint: str = ""):
    """A whole number in [low, high]; `hint` says what the option means or what 0 does."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            allowed = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be {allowed}{hint}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def number(low: float, high: float | None = None, low_open: bool = False, high_open: bool = False, hint: str = ""):
    """A finite number in the range [low or (low, high] or high)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            lo = f"above {low}" if low_open else f"{low} or more"
            hi = "" if high is None else f" and {'below' if high_open else 'at most'} {high}"
            raise argparse.ArgumentTypeError(f"must be {lo}{hi}{hint}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def parsed_by(parse, name: str):
    """A value that `parse` normalises or refuses with a ValueError, whose message argparse then shows after the
    option's name (a plain ValueError would show only "invalid value")."""

    def check(text: str):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    check.__name__ = name
    return check
