"""Self-service errors that reach clients as Kratos envelopes (ids from shared/kratos/error-ids.json)."""
from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any

from kratos_project.errors import BadRequest, KratosError, NotFound
from kratos_project.jsontime import rfc3339


class FlowExpired(KratosError):
    """A submit after `expires_at`; Kratos has already created the replacement flow."""

    status = HTTPStatus.GONE
    error_id = "self_service_flow_expired"
    message = "self-service flow expired"

    def __init__(self, expired_at: datetime, now: datetime, replacement_id: Any = None,
                 details: dict[str, Any] | None = None) -> None:
        since = now - expired_at
        minutes = since.total_seconds() / 60
        super().__init__(f"The self-service flow expired {minutes:.2f} minutes ago, initialize a new one.",
                         details=details)
        self.expired_at, self.since, self.replacement_id = expired_at, since, replacement_id

    def top_level_fields(self) -> dict[str, Any]:
        if self.replacement_id is None:
            return {}
        return {"use_flow_id": str(self.replacement_id), "expired_at": rfc3339(self.expired_at),
                "since": int(self.since.total_seconds() * 1_000_000_000)}


class FlowGone(FlowExpired):
    """An expired settings, verification or browser recovery flow fetched by GET: 410 without an id."""

    error_id = None


class SessionAlreadyAvailable(BadRequest):
    error_id = "session_already_available"
    message = "you are already logged in"

    def __init__(self) -> None:
        super().__init__("A valid session was detected and thus login is not possible. "
                         "Did you forget to set `?refresh=true`?")


class RegistrationDisabled(BadRequest):
    error_id = "self_service_flow_disabled"
    message = "registration flow disabled"

    def __init__(self) -> None:
        super().__init__("Registration is not allowed because it was disabled.")


class ReturnToForbidden(BadRequest):
    error_id = "self_service_flow_return_to_forbidden"
    message = "The request was malformed or contained invalid parameters"

    def __init__(self, return_to: str) -> None:
        super().__init__(f'Requested return_to URL "{return_to}" is not allowed.')


class UnparsableReturnTo(ReturnToForbidden):
    """A `return_to` that is no URL at all: Kratos's plain 400, without an id. A kind of forbidden
    `return_to`, so whoever tolerates one (and falls back to the default URL) tolerates both."""

    error_id = None

    def __init__(self, error: ValueError) -> None:
        BadRequest.__init__(self, f"Unable to parse the return_to query parameter as an URL: {error}")


class CSRFViolation(KratosError):
    status = HTTPStatus.FORBIDDEN
    error_id = "security_csrf_violation"
    message = "the request was rejected to protect you from Cross-Site-Request-Forgery"

    def __init__(self, reject_reason: str) -> None:
        super().__init__(
            "Please retry the flow and optionally clear your cookies. The request was rejected to protect you "
            "from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal "
            "information, and other serious security issues.",
            details={"reject_reason": reject_reason},
        )


class SessionInactive(KratosError):
    status = HTTPStatus.UNAUTHORIZED
    error_id = "session_inactive"
    message = "request does not have a valid authentication session"

    def __init__(self) -> None:
        super().__init__("No active session was found in this request.")


class IdentityDisabled(KratosError):
    """A correct credential for an inactive identity (Kratos's ErrIdentityDisabled: 401, no id)."""

    status = HTTPStatus.UNAUTHORIZED
    message = "identity is disabled"

    def __init__(self, identity_id: Any) -> None:
        super().__init__("This account was disabled.", details={"identity_id": str(identity_id)})


class Forbidden(KratosError):
    status = HTTPStatus.FORBIDDEN
    message = "The requested action was forbidden"


class SessionAAL1Required(KratosError):
    status = HTTPStatus.UNAUTHORIZED
    error_id = "session_aal1_required"
    message = "aal2 and aal3 can only be requested if a session exists already"

    def __init__(self) -> None:
        super().__init__("You can not requested a higher AAL (AAL2/AAL3) without an active session.")


class SessionRefreshRequired(KratosError):
    """A settings change of credentials or identifiers after `privileged_session_max_age`."""

    status = HTTPStatus.FORBIDDEN
    error_id = "session_refresh_required"
    message = "The requested action was forbidden"

    def __init__(self, redirect_browser_to: str) -> None:
        super().__init__("The login session is too old and thus not allowed to update these fields. "
                         "Please re-authenticate.")
        self.redirect_browser_to = redirect_browser_to

    def top_level_fields(self) -> dict[str, Any]:
        return {"redirect_browser_to": self.redirect_browser_to}


class IdentityMismatch(KratosError):
    status = HTTPStatus.FORBIDDEN
    error_id = "security_identity_mismatch"
    message = "The requested action was forbidden"

    def __init__(self) -> None:
        super().__init__("The request was made for another identity and has been blocked for security reasons.")


class FlowReplaced(KratosError):
    """A verification step that restarted the flow: the new one (with the reason as a message) is `use_flow_id`."""

    status = HTTPStatus.GONE
    error_id = "self_service_flow_replaced"
    message = "self-service flow replaced"

    def __init__(self, replacement_id: Any, reason: str) -> None:
        super().__init__(reason)
        self.replacement_id = replacement_id

    def top_level_fields(self) -> dict[str, Any]:
        return {"use_flow_id": str(self.replacement_id)}


class BrowserLocationChangeRequired(KratosError):
    """A JSON client must navigate the browser (e.g. to the settings UI after a recovery)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    error_id = "browser_location_change_required"
    message = "browser location change required"

    def __init__(self, redirect_browser_to: str) -> None:
        super().__init__(f"In order to complete this flow please redirect the browser to: {redirect_browser_to}")
        self.redirect_browser_to = redirect_browser_to

    def top_level_fields(self) -> dict[str, Any]:
        return {"redirect_browser_to": self.redirect_browser_to}


class RecoverySessionAvailable(SessionAlreadyAvailable):
    """Recovery while signed in (Kratos's recovery ErrAlreadyLoggedIn: the generic 400 message, same id)."""

    message = BadRequest.message

    def __init__(self) -> None:
        BadRequest.__init__(self, "A valid session was detected and thus recovery is not possible.")


class FlowDisabled(BadRequest):
    """Recovery or verification switched off (`selfservice.flows.<flow>.enabled`): a plain 400, no id."""

    def __init__(self, flow: str) -> None:
        super().__init__(f"{flow.capitalize()} is not allowed because it was disabled.")


class EndpointDisabled(NotFound):
    """An admin endpoint of a disabled method (Kratos `selfservice/strategy/handler.go`)."""

    def __init__(self) -> None:
        super().__init__("This endpoint was disabled by system administrator. Please check your url or contact "
                         "the system administrator to enable it.")
