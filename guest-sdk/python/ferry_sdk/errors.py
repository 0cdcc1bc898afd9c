"""Errors a connector raises, and what the queue does with each kind."""

from __future__ import annotations

from typing import Optional

#: The same work may succeed later (remote down, timeout, rate limit): retried with backoff.
RETRYABLE = "retryable"
#: Trying again will not help (bad data, refused by the remote, a bug): the job fails at once.
FINAL = "final"
#: What was asked for does not exist (record, link, unit, job).
NOT_FOUND = "not-found"
#: The manifest does not grant this (host, secret, capability).
DENIED = "denied"

KINDS = (RETRYABLE, FINAL, NOT_FOUND, DENIED)


class Error(Exception):
    """An error with a kind that decides what the queue does next.

    Raise one of the constructors (``Error.retryable("shop is down")``,
    ``Error.fatal("no name")``…); any other exception a connector lets
    escape becomes a final error with its message.
    """

    def __init__(self, kind: str, message: str, retry_after_ms: Optional[int] = None):
        if kind not in KINDS:
            raise ValueError(f"error kind {kind!r}: expected one of {', '.join(KINDS)}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after_ms = retry_after_ms

    @classmethod
    def retryable(cls, message: str, retry_after_ms: Optional[int] = None) -> "Error":
        """Try again later (after ``retry_after_ms`` when the remote said so)."""
        return cls(RETRYABLE, message, retry_after_ms)

    @classmethod
    def fatal(cls, message: str) -> "Error":
        """Fail the job now: another try would fail the same way."""
        return cls(FINAL, message)

    @classmethod
    def not_found(cls, message: str) -> "Error":
        """What was asked for does not exist."""
        return cls(NOT_FOUND, message)

    @classmethod
    def denied(cls, message: str) -> "Error":
        """The manifest does not grant this."""
        return cls(DENIED, message)

    def __repr__(self) -> str:
        return f"Error({self.kind!r}, {self.message!r})"


def from_host(err: object) -> Error:
    """The SDK's error for an error record the host returned (``Err(error)``)."""
    value = getattr(err, "value", err)
    kind = getattr(getattr(value, "kind", None), "name", "FINAL").lower().replace("_", "-")
    message = getattr(value, "message", str(value))
    return Error(kind if kind in KINDS else FINAL, message, getattr(value, "retry_after_ms", None))
