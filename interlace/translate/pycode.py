"""Python source fragments with their precedence, so that emitted code needs few parentheses.

:class:`Py` is a piece of Python expression text and the precedence of its outermost
operator (Python's table, ``lambda`` lowest, atoms highest).  The combinators here add
parentheses exactly where Python needs them; comparisons are always parenthesised inside
other comparisons, because Python chains ``a < b < c`` and R does not.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LOWEST = 0
OR = 2
AND = 3
NOT = 4
COMPARE = 5
BIT_OR = 6
BIT_AND = 8
ADD = 10
MUL = 11
UNARY = 12
POWER = 13
ATOM = 15

_BINARY = {
    "or": OR,
    "and": AND,
    "|": BIT_OR,
    "&": BIT_AND,
    "+": ADD,
    "-": ADD,
    "*": MUL,
    "/": MUL,
    "//": MUL,
    "%": MUL,
    "**": POWER,
    "==": COMPARE,
    "!=": COMPARE,
    "<": COMPARE,
    ">": COMPARE,
    "<=": COMPARE,
    ">=": COMPARE,
}


@dataclass(frozen=True)
class Py:
    """A Python expression: its source ``text`` and the precedence ``prec`` of its top operator.

    A call also keeps its ``head`` (``interlace.lmer``), its argument ``parts`` and, per
    part, the keyword prefix and value (``None`` for a ``**{...}`` part), so that
    :func:`line` can lay a long call out one argument per line, and a long argument that is
    itself a call the same way.
    """

    text: str
    prec: int = ATOM
    head: str = ""
    parts: tuple[str, ...] = ()
    values: tuple[tuple[str, Py] | None, ...] = ()

    def at_least(self, prec: int) -> str:
        """The text, parenthesised if it binds less tightly than ``prec``."""
        return self.text if self.prec >= prec else f"({self.text})"

    def attr(self, name: str) -> Py:
        """``self.name``."""
        return Py(f"{self.at_least(ATOM)}.{name}")

    def item(self, key: Py) -> Py:
        """``self[key]``."""
        return Py(f"{self.at_least(ATOM)}[{key.text}]")

    def method(self, name: str, *args: Py, **kwargs: Py) -> Py:
        """``self.name(args, key=value)``."""
        return call(f"{self.at_least(ATOM)}.{name}", args, kwargs)


def binary(op: str, left: Py, right: Py) -> Py:
    """``left op right`` with the parentheses Python needs."""
    prec = _BINARY[op]
    if op == "**":  # right-associative; unary minus on the right is fine
        return Py(f"{left.at_least(prec + 1)} ** {right.at_least(UNARY)}", prec)
    if prec == COMPARE:
        return Py(f"{left.at_least(prec + 1)} {op} {right.at_least(prec + 1)}", prec)
    return Py(f"{left.at_least(prec)} {op} {right.at_least(prec + 1)}", prec)


def plus_one(value: Py) -> Py:
    """``value + 1``, folded when ``value`` is an integer literal."""
    if value.text.lstrip("-").isdigit():
        return Py(str(int(value.text) + 1), UNARY if value.text.startswith("-") else ATOM)
    return binary("+", value, Py("1"))


def unary(op: str, operand: Py) -> Py:
    """``-x``, ``+x`` or ``not x``."""
    if op == "not":
        return Py(f"not {operand.at_least(NOT)}", NOT)
    return Py(f"{op}{operand.at_least(UNARY)}", UNARY)


def call(func: str, args: Iterable[Py] = (), kwargs: dict[str, Py] | None = None) -> Py:
    """``func(args..., key=value...)``; keys that are not identifiers go through ``**{...}``."""
    values: list[tuple[str, Py] | None] = [("", a) for a in args]
    odd: list[str] = []
    for key, value in (kwargs or {}).items():
        if key.isidentifier() and not keyword.iskeyword(key):
            values.append((f"{key}=", value))
        else:
            odd.append(f"{string(key).text}: {value.text}")
    parts = [f"{v[0]}{v[1].text}" for v in values if v is not None]
    if odd:
        parts.append("**{" + ", ".join(odd) + "}")
        values.append(None)
    return Py(f"{func}({', '.join(parts)})", head=func, parts=tuple(parts), values=tuple(values))


def string(value: str) -> Py:
    """A Python string literal, double-quoted where that needs no escapes."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return Py(text)


def sequence(items: Sequence[Py]) -> Py:
    """A list display ``[a, b]``."""
    return Py("[" + ", ".join(i.text for i in items) + "]")


def mapping(items: dict[str, Py]) -> Py:
    """A dict display ``{"a": x}``."""
    return Py("{" + ", ".join(f"{string(k).text}: {v.text}" for k, v in items.items()) + "}")


LINE_LENGTH = 100
_MAX_HEAD = 60  # a longer call head is left on one line: splitting it reads worse


def line(prefix: str, value: Py, suffix: str = "", max_head: int = _MAX_HEAD) -> list[str]:
    """``prefix + value + suffix`` as one line, or a long call with one argument per line
    (an argument that is a long call too is laid out the same way, whatever its head)."""
    text = f"{prefix}{value.text}{suffix}"
    if len(text) <= LINE_LENGTH or not value.parts or len(prefix + value.head) > max_head:
        return [text]
    indent = prefix[: len(prefix) - len(prefix.lstrip(" "))]
    inner = indent + "    "
    lines = [f"{prefix}{value.head}("]
    for part, keyed in zip(value.parts, value.values, strict=True):
        if keyed is None:
            lines.append(f"{inner}{part},")
        else:
            lines += line(f"{inner}{keyed[0]}", keyed[1], ",", LINE_LENGTH - 1)
    return [*lines, f"{indent}){suffix}"]


_INVALID = re.compile(r"\W")


def identifier(r_name: str) -> str:
    """A Python identifier for an R name: ``fm.null`` → ``fm_null``, ``class`` → ``class_``."""
    name = _INVALID.sub("_", r_name)
    if not name or name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


#: Names the emitted code itself uses.
_RESERVED = frozenset({"interlace", "pd", "np", "print", "len", "list", "dict", "range"})
