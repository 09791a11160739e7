"""The exceptions jitexpr raises.

Every error from the core crate becomes a subclass of :class:`JitexprError` that is
also the built-in exception a numexpr user expects (``SyntaxError``, ``KeyError``/
``NameError``, ``TypeError``, ``ValueError``, ``NotImplementedError``), so existing
``except`` clauses keep working. ``str(err)`` is the caret diagnostic the core
renders; ``err.message``, ``err.kind``, ``err.span`` and ``err.expression`` hold
the parts.
"""

from __future__ import annotations

import re

__all__ = [
    "JitexprError",
    "JitexprSyntaxError",
    "JitexprNameError",
    "JitexprTypeError",
    "JitexprShapeError",
    "JitexprValueError",
    "JitexprUnsupportedError",
    "JitexprLimitError",
    "JitexprInternalError",
]


class JitexprError(Exception):
    """Base class: a jitexpr error with its caret diagnostic.

    Attributes: ``kind`` (``"Syntax"``, ``"Name"``, ``"Type"``, ``"Shape"``, ``"Value"``,
    ``"Unsupported"``, ``"Limit"``, ...), ``message`` (one line), ``span`` (byte
    offsets ``(start, end)`` into the expression, or ``None``), ``expression``.
    """

    def __init__(self, rendered, *, kind=None, message=None, span=None, expression=None):
        super().__init__(rendered)
        self.kind = kind
        self.message = message if message is not None else rendered
        self.span = span
        self.expression = expression

    def __str__(self):
        return self.args[0] if self.args else ""


class JitexprSyntaxError(JitexprError, SyntaxError):
    """The text is not a valid expression. ``offset`` is the 1-based column, like SyntaxError's."""

    def __init__(self, rendered, **kw):
        super().__init__(rendered, **kw)
        self.msg = rendered
        self.filename = "<expr>"
        expression, span = kw.get("expression"), kw.get("span")
        if expression is not None and span is not None:
            raw = expression.encode()
            start, end = span
            before = raw[:start].decode(errors="replace")
            self.lineno = before.count("\n") + 1
            line_start = before.rfind("\n") + 1
            self.offset = len(before) - line_start + 1
            self.end_lineno = self.lineno
            self.end_offset = self.offset + len(raw[start:max(end, start)].decode(errors="replace"))
            self.text = expression.splitlines()[self.lineno - 1] if expression else ""


class JitexprNameError(JitexprError, NameError, KeyError):
    """An unknown variable or function. Also a ``KeyError``, as in numexpr."""

    def __init__(self, rendered, **kw):
        super().__init__(rendered, **kw)
        found = re.search(r"`([^`]*)`", kw.get("message") or "")
        self.name = found.group(1) if found else None


class JitexprTypeError(JitexprError, TypeError):
    """An operation does not take these dtypes, or a call has the wrong arguments."""


class JitexprShapeError(JitexprError, ValueError):
    """Shapes do not broadcast, an axis is out of range, or ``out`` has the wrong shape."""


class JitexprValueError(JitexprError, ValueError):
    """An invalid value (a literal out of range, ``min`` of an empty array, ...)."""


class JitexprUnsupportedError(JitexprError, NotImplementedError):
    """Valid syntax or a request that jitexpr does not support (yet)."""


class JitexprLimitError(JitexprError, ValueError):
    """A size or nesting limit was exceeded."""


class JitexprInternalError(JitexprError, RuntimeError):
    """A bug in jitexpr, or a cancelled evaluation."""


class JitexprIOError(JitexprError, OSError):
    """A file could not be read or written."""


_BY_KIND = {
    "Syntax": JitexprSyntaxError,
    "Name": JitexprNameError,
    "Type": JitexprTypeError,
    "Shape": JitexprShapeError,
    "Value": JitexprValueError,
    "Unsupported": JitexprUnsupportedError,
    "Limit": JitexprLimitError,
    "Io": JitexprIOError,
}


def from_core(kind, message, rendered, span, expression):
    """The exception for a core error (called by the extension module)."""
    cls = _BY_KIND.get(kind, JitexprInternalError)
    return cls(rendered, kind=kind, message=message, span=span, expression=expression)


def error(kind, message, help=None):
    """An exception of ``kind`` raised by the Python layer, rendered like the core's."""
    rendered = f"Error: {message}"
    if help:
        rendered += f"\nhelp: {help}"
    return from_core(kind, message, rendered, None, None)
