"""Turning the command line's text into values: numbers, lists, grid axes, search spaces."""

from __future__ import annotations

import argparse
import ast


def number(text: str):
    """Reads a number or a bool from text, else keeps the text.

    ``"1e-3"`` → 0.001, ``"3"`` → 3, ``"nan"`` → nan, ``"true"`` → True; other text stays text.
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        try:  # "nan", "inf": numbers, refused by the name they are given for, not as text
            return float(text)
        except ValueError:
            return text.strip()
    return value if isinstance(value, (int, float)) else text.strip()


def assignment(text: str) -> tuple:
    """Reads ``NAME=VALUE[,VALUE...]``: ``"b1=0.8,0.9"`` → ``("b1", [0.8, 0.9])``."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE[,VALUE...], got {text!r}")
    name, values = text.split("=", 1)
    parsed = [number(v) for v in values.split(",") if v.strip()]
    if not name.strip() or not parsed:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE[,VALUE...], got {text!r}")
    return name.strip(), parsed


def int_list(text: str) -> list:
    """Reads comma-separated integers, at least one."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def positive_int(text: str) -> int:
    """Reads an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def dimension(text: str) -> tuple:
    """Reads a search space's dimension, ``NAME=SPEC``.

    ``"learning_rate=log:1e-5:1"`` → ``("learning_rate", jh.log_uniform(1e-5, 1))``;
    ``"b1=0.5:0.999"`` → a uniform; ``"nesterov=true,false"`` → a choice.
    """
    import jaxopt_hw as jh

    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"expected NAME=log:LOW:HIGH, NAME=LOW:HIGH or NAME=V1,V2,..., got {text!r}"
        )
    name, spec = (part.strip() for part in text.split("=", 1))
    try:
        if spec.startswith("log:"):
            low, high = (float(v) for v in spec[4:].split(":"))
            return name, jh.log_uniform(low, high)
        if ":" in spec:
            low, high = (float(v) for v in spec.split(":"))
            return name, jh.uniform(low, high)
        return name, jh.choice([number(v) for v in spec.split(",") if v.strip()])
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def by_name(flag: str, assignments) -> dict:
    """Gathers a repeatable ``flag``'s ``[(name, values), ...]`` into a dict.

    A name given twice is refused.
    """
    merged = {}
    for name, values in assignments:
        if name in merged:
            raise ValueError(
                f"{flag} {name} is given twice; list its values once: {flag} {name}=V1,V2,..."
            )
        merged[name] = values
    return merged


def fixed_values(args, axes_flag: str) -> dict:
    """Returns the ``--fixed NAME=VALUE`` options as ``{name: value}``, refusing a list."""
    fixed = by_name("--fixed", args.fixed or [])
    for name, values in fixed.items():
        if len(values) != 1:
            raise ValueError(
                f"--fixed {name} takes one value, got {values}; put a list in {axes_flag}"
            )
    return {name: values[0] for name, values in fixed.items()}
