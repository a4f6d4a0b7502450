"""Translate R analysis code into Python that uses interlace.

Public functions: :func:`translate` (R source → Python source) and :func:`r` (fit one pasted
R model call).  Errors are :class:`TranslationError` (``file:line:column`` and a caret);
notes about R semantics come as :class:`~interlace.errors.TranslationWarning`.
See ``docs/translate.md``.
"""

from __future__ import annotations

from interlace.translate.api import r, translate
from interlace.translate.errors import FitterUnavailableError, TranslationError

__all__ = ["FitterUnavailableError", "TranslationError", "r", "translate"]
