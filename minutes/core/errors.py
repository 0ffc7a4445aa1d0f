"""Domain errors that views turn into messages and the API into JSON errors."""


class DomainError(Exception):
    """Base for errors a user can act on; the message is Chinese and shown as is."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)


class RuleViolation(DomainError):
    """A business rule refuses the change (for example the 2-working-day rule)."""

    status = 409
    code = "rule_violation"


class ValidationFailed(DomainError):
    """The input is incomplete or malformed; `fields` maps field name to message."""

    status = 422
    code = "validation_failed"


class PermissionDenied(DomainError):
    """The acting user may not do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """The object does not exist or is invisible to the acting user."""

    status = 404
    code = "not_found"


class StaleEdit(DomainError):
    """The object changed since the user loaded it; the edit is refused, not merged."""

    status = 409
    code = "stale"


def describe_error(exc: Exception) -> str:
    """What a person reads of a failure: our own refusals (a platform down, a setting missing) by their message
    alone; anything else (SMTP, the network, a bug) with its kind, which is all the hint there is."""
    return exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
