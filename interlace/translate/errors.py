"""Errors of the translator: where in the R script, with a caret under the problem."""

from __future__ import annotations

from dataclasses import dataclass

from interlace.errors import InterlaceError


@dataclass(frozen=True)
class Location:
    """A position in a script: 1-based ``line`` and ``column``, and that line's text."""

    filename: str
    line: int
    column: int
    text: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"

    def caret(self) -> str:
        """The source line and a caret under ``column`` (tabs shown as spaces)."""
        shown = self.text.expandtabs(1)
        return f"  {shown}\n  {' ' * (self.column - 1)}^"


def locate(source: str, position: int, filename: str = "<string>") -> Location:
    """The :class:`Location` of the 0-based character offset ``position`` in ``source``.

    Parameters
    ----------
    source
        The whole script.
    position
        Offset into ``source`` (clipped to its length).
    filename
        Shown in front of ``line:column``.

    Returns
    -------
    Location
    """
    position = max(0, min(position, len(source)))
    start = source.rfind("\n", 0, position) + 1
    end = source.find("\n", position)
    line_text = source[start : end if end >= 0 else len(source)].rstrip("\r")
    return Location(filename, source.count("\n", 0, position) + 1, position - start + 1, line_text)


class TranslationError(InterlaceError, ValueError):
    """R code that the translator cannot turn into equivalent Python.

    The message starts with ``file:line:column`` and ends with the source line and a caret
    under the offending construct.

    Attributes
    ----------
    location : Location
        Where the problem is.
    reason : str
        The message without the location and caret.
    """

    code = "translation"

    def __init__(
        self, reason: str, source: str, position: int, *, filename: str = "<string>"
    ) -> None:
        self.location = locate(source, position, filename)
        self.reason = reason
        super().__init__(f"{self.location}: {reason}\n{self.location.caret()}")


class FitterUnavailableError(InterlaceError, NotImplementedError):
    """The R model function has a translation, but its interlace fitter is not available yet."""

    code = "fitter-unavailable"
