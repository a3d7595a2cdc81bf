"""ExpressionError, the only error the interpreter raises, and the codes it carries.

Every failure, from a refused construct to a ZeroDivisionError raised by task data, reaches the
caller as one type with a stable code and a Chinese message.
"""
from __future__ import annotations


class ExpressionError(Exception):
    """A refused, malformed, failing or over-limit expression; the only error the interpreter raises."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)  # args[0] stays a str: SpiffWorkflow concatenates it
        self.code, self.message, self.line = code, message, line

    def __str__(self) -> str:
        return f"{self.message} (第 {self.line} 行)" if self.line else self.message

    def __reduce__(self):  # pickling/copying despite the 3-argument constructor
        return (type(self), (self.code, self.message, self.line))


def refused(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.refused", msg, line)


def over_limit(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.limit", msg, line)


def run_error(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.runtime", msg, line)


_ERROR_LABELS = ((ZeroDivisionError, "除数为零"), (KeyError, "键不存在"), (IndexError, "索引超出范围"),
                 (TypeError, "类型错误"), (ValueError, "值错误"), (OverflowError, "数值溢出"))


def as_expression_error(exc: Exception, line: int | None) -> ExpressionError:
    """Turn a Python error raised by user data into a readable ExpressionError."""
    if isinstance(exc, (RecursionError, MemoryError)):
        return over_limit(f"超出资源限制 ({type(exc).__name__})", line)
    label = next((text for typ, text in _ERROR_LABELS if isinstance(exc, typ)), "运行错误")
    return run_error(f"{label} ({type(exc).__name__}: {str(exc)[:200]})", line)
