"""One error type per kind of refusal, each with its HTTP status and stable code.

Every refusal the platform gives a caller is one of these; ``http.error_body`` turns it into
the contract's ``{"error": {"code", "message"}}``. Messages are read by staff and citizens,
so they are in Chinese; codes are for machines and stay in English. No message may contain a
phone number, an ID number or a secret in clear.
"""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base of every refusal that is the caller's fault (a 4xx)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(PlatformError):
    status, code = 400, "bad_request"


class Unauthenticated(PlatformError):
    status, code = 401, "unauthenticated"


class Forbidden(PlatformError):
    status, code = 403, "forbidden"


class NotFound(PlatformError):
    status, code = 404, "not_found"


class Conflict(PlatformError):
    """The request clashes with the current state (a wrong amount, a used code, a stale version)."""

    status, code = 409, "conflict"


class Gone(PlatformError):
    """The thing existed but has lapsed or expired."""

    status, code = 410, "gone"


class PayloadTooLarge(PlatformError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(PlatformError):
    """The body is not JSON, the one media type the API reads."""

    status, code = 415, "unsupported_media_type"


class ValidationFailed(PlatformError):
    """The body or a value fails validation; ``details`` lists each field and why."""

    status, code = 422, "validation_failed"


class ContentRejected(ValidationFailed):
    """The text of a message breaks a content rule (length, URL, forbidden words)."""

    code = "content_rejected"


class RateLimited(PlatformError):
    status, code = 429, "rate_limited"
