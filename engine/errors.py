"""Domain errors: a stable code and a Chinese message, turned into CLI or HTTP output in one place each."""
from __future__ import annotations

from typing import Any


class DubanError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(DubanError):
    code = "not_found"
    http_status = 404


class Forbidden(DubanError):
    code = "forbidden"
    http_status = 403


class Conflict(DubanError):
    code = "conflict"
    http_status = 409


class InvalidData(DubanError):
    """Form or start data that does not satisfy its JSON Schema; details maps field -> Chinese messages,
    `translations` maps a locale ("en") to the same fields' messages in that language."""

    code = "invalid_data"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None,
                 translations: dict[str, dict[str, list[str]]] | None = None) -> None:
        super().__init__(message, code=code, details=details)
        self.translations = translations or {}

    def details_in(self, locale: str) -> dict[str, list[str]]:
        """The field messages in `locale` where known, else the Chinese ones."""
        return self.translations.get(locale) or self.details or {}

    def one_line(self) -> str:
        fields = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in (self.details or {}).items())
        return f"{self.message}: {fields}" if fields else self.message


class StepFailed(DubanError):
    """The engine could not run the step (a handler or expression failed); nothing was written."""

    code = "step_failed"
    http_status = 422


class ValidationFailed(DubanError):
    """BPMN files that did not pass validation; details is the list of problems."""

    code = "validation_failed"
    http_status = 400
