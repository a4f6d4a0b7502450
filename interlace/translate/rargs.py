"""R's argument matching (``match.arg`` rules of ``?Arguments``), for the translation tables.

R matches the arguments of a call to the function's formals in three passes: exact names,
then unique partial names (only for formals before ``...``), then positional arguments in
order into the formals still free (again only before ``...``).  Whatever is left goes into
``...`` when the function has one, and is an error otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interlace.formula import ast

DOTS = "..."


@dataclass(frozen=True)
class MatchedCall:
    """The arguments of a call, keyed by the formal they matched.

    Attributes
    ----------
    matched : dict
        Formal name → argument (in the formals' order).
    dots : tuple of Argument
        Arguments that went into ``...``.
    """

    matched: dict[str, ast.Argument]
    dots: tuple[ast.Argument, ...]


class ArgumentMatchError(Exception):
    """A call whose arguments R would not accept; ``argument`` is the one at fault."""

    def __init__(self, message: str, argument: ast.Argument) -> None:
        super().__init__(message)
        self.argument = argument


def match_arguments(
    args: Sequence[ast.Argument], formals: Sequence[str], function: str
) -> MatchedCall:
    """Match a call's arguments to ``formals`` as R does.

    Parameters
    ----------
    args
        The call's arguments, in order.
    formals
        The function's formal names in order, ``"..."`` included where the function has it.
    function
        The function's name, for messages.

    Returns
    -------
    MatchedCall

    Raises
    ------
    ArgumentMatchError
        For an argument that matches no formal (and there is no ``...``), an ambiguous
        partial name, or a formal matched twice.
    """
    before_dots = list(formals[: formals.index(DOTS)]) if DOTS in formals else list(formals)
    named_formals = [f for f in formals if f != DOTS]
    matched: dict[str, ast.Argument] = {}
    pending: list[ast.Argument] = []
    for arg in args:  # pass 1: exact names
        if arg.name is not None and arg.name in named_formals:
            if arg.name in matched:
                raise ArgumentMatchError(f"{function}(): argument {arg.name!r} is given twice", arg)
            matched[arg.name] = arg
        else:
            pending.append(arg)
    rest: list[ast.Argument] = []
    for arg in pending:  # pass 2: partial names
        if arg.name is None:
            rest.append(arg)
            continue
        candidates = [f for f in before_dots if f.startswith(arg.name) and f not in matched]
        if len(candidates) > 1:
            raise ArgumentMatchError(
                f"{function}(): argument name {arg.name!r} matches several arguments "
                f"({', '.join(candidates)})",
                arg,
            )
        if candidates:
            matched[candidates[0]] = arg
        else:
            rest.append(arg)
    dots: list[ast.Argument] = []
    free = [f for f in before_dots if f not in matched]
    for arg in rest:  # pass 3: positions
        if arg.name is None and free:
            matched[free.pop(0)] = arg
        elif DOTS in formals:
            dots.append(arg)
        else:
            what = f"argument {arg.name!r}" if arg.name else "an extra positional argument"
            raise ArgumentMatchError(f"{function}() has no {what}", arg)
    order = {name: i for i, name in enumerate(named_formals)}
    ordered = dict(sorted(matched.items(), key=lambda item: order[item[0]]))
    return MatchedCall(ordered, tuple(dots))
