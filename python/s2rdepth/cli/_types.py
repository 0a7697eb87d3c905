"""argparse value types shared by the subcommands: each raises ``ArgumentTypeError`` with a
message naming what was expected, which argparse prints as ``argument --x: <message>``."""
from __future__ import annotations

import argparse
from typing import Callable


def int_at_least(minimum: int, what: str = "value") -> Callable[[str], int]:
    """An integer >= ``minimum`` (``minimum`` 1: "positive", 0: "non-negative")."""
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")

    def convert(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be {kind}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be {kind}, got {v}")
        return v

    return convert


def positive_float(text: str) -> float:
    """``"0.5"`` or a fraction ``"1/256"`` → a positive float."""
    try:
        if "/" in text:
            a, b = text.split("/", 1)
            v = float(a) / float(b)
        else:
            v = float(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a positive number or fraction, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def size_hw(text: str) -> tuple[int, int]:
    """``"192x640"`` → ``(192, 640)`` (pixels, height first)."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or min(int(p) for p in parts) < 1:
        raise argparse.ArgumentTypeError(f"size must be HxW with positive integers (e.g. 192x640), got {text!r}")
    return int(parts[0]), int(parts[1])
