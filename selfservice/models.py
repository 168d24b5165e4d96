"""Persisted self-service flows (Kratos's login/registration/… flow rows), one-time codes and stored flow errors.

A flow is a database row with a UUID key, never session data; its state changes only through
`move_to`, and its UI container is stored as the JSON clients receive.
"""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.db import models

from identities.models import Timestamped
from selfservice.ui import UIContainer

class FlowType(models.TextChoices):
    API = "api"
    BROWSER = "browser"


class FlowState(models.TextChoices):
    CHOOSE_METHOD = "choose_method"
    SENT_EMAIL = "sent_email"
    PASSED_CHALLENGE = "passed_challenge"
    # Settings flows (Kratos selfservice/flow/settings/state.go).
    SHOW_FORM = "show_form"
    SUCCESS = "success"


# Login, registration, recovery and verification move forward only; settings may be saved again.
_CHALLENGE = {
    FlowState.CHOOSE_METHOD: {FlowState.CHOOSE_METHOD, FlowState.SENT_EMAIL, FlowState.PASSED_CHALLENGE},
    FlowState.SENT_EMAIL: {FlowState.SENT_EMAIL, FlowState.PASSED_CHALLENGE},
    FlowState.PASSED_CHALLENGE: set(),
}
_SETTINGS = {
    FlowState.SHOW_FORM: {FlowState.SHOW_FORM, FlowState.SUCCESS},
    FlowState.SUCCESS: {FlowState.SHOW_FORM, FlowState.SUCCESS},
}


class InvalidFlowTransition(RuntimeError):
    pass


class Flow(Timestamped):
    type = models.CharField(max_length=16, choices=FlowType.choices)
    state = models.CharField(max_length=32, choices=FlowState.choices, default=FlowState.CHOOSE_METHOD)
    expires_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    request_url = models.TextField()
    return_to = models.TextField(blank=True, default="")
    ui = models.JSONField()
    # The unmasked anti-CSRF token the flow was created with; never serialised (only the masked
    # form appears, in the `csrf_token` node).
    csrf_token = models.CharField(max_length=64, blank=True, default="")
    active = models.CharField(max_length=32, blank=True, default="")
    transient_payload = models.JSONField(null=True, blank=True)
    identity_schema = models.CharField(max_length=255, blank=True, default="")
    organization_id = models.UUIDField(null=True, blank=True)

    TRANSITIONS: ClassVar[dict[str, set[str]]] = _CHALLENGE

    class Meta(Timestamped.Meta):
        abstract = True

    @property
    def is_api(self) -> bool:
        return self.type == FlowType.API

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def move_to(self, state: str) -> None:
        if state not in self.TRANSITIONS[FlowState(self.state)]:
            raise InvalidFlowTransition(f"{self.state} → {state}")
        self.state = state

    @property
    def container(self) -> UIContainer:
        return UIContainer.from_json(self.ui)

    @container.setter
    def container(self, value: UIContainer) -> None:
        self.ui = value.to_json()


class LoginFlow(Flow):
    refresh = models.BooleanField(default=False)
    requested_aal = models.CharField(max_length=8, default="aal1")
    # The identity a refresh login must re-authenticate (Kratos keeps it in the flow's context).
    identity = models.ForeignKey("identities.Identity", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")

    class Meta(Flow.Meta):
        indexes = [models.Index(fields=["nid", "expires_at"], name="login_flow_nid_expires_idx")]


class RegistrationFlow(Flow):
    class Meta(Flow.Meta):
        indexes = [models.Index(fields=["nid", "expires_at"], name="reg_flow_nid_expires_idx")]


class SettingsFlow(Flow):
    TRANSITIONS = _SETTINGS

    identity = models.ForeignKey("identities.Identity", on_delete=models.CASCADE, related_name="+")

    class Meta(Flow.Meta):
        indexes = [models.Index(fields=["nid", "expires_at"], name="settings_flow_nid_expires_idx")]


class VerificationFlow(Flow):
    # Code submissions so far (Kratos's `submit_count`): past `max_submissions` no code is compared.
    submit_count = models.IntegerField(default=0)

    class Meta(Flow.Meta):
        indexes = [models.Index(fields=["nid", "expires_at"], name="verif_flow_nid_expires_idx")]


class RecoveryFlow(Flow):
    submit_count = models.IntegerField(default=0)
    recovered_identity = models.ForeignKey("identities.Identity", null=True, blank=True, on_delete=models.CASCADE,
                                           related_name="+")
    # Flows the admin API creates (`POST /admin/recovery/code`) are opened in a browser the flow was
    # never made for, so their anti-CSRF check is skipped (Kratos's DangerousSkipCSRFCheck).
    skip_csrf_check = models.BooleanField(default=False)

    class Meta(Flow.Meta):
        indexes = [models.Index(fields=["nid", "expires_at"], name="recovery_flow_nid_expires_idx")]


class CodePurpose(models.TextChoices):
    RECOVERY_CODE = "recovery_code"
    RECOVERY_LINK = "recovery_link"
    VERIFICATION_CODE = "verification_code"
    VERIFICATION_LINK = "verification_link"


class OneTimeCode(Timestamped):
    """A recovery or verification code (6 digits) or link token, stored only as its HMAC (`selfservice.codes`).

    It belongs to one flow (`flow_id`: a recovery or a verification flow, by `purpose`) and proves
    control of `verifiable_address` / `recovery_address`; an admin-issued recovery code has no address.
    """

    purpose = models.CharField(max_length=32, choices=CodePurpose.choices)
    flow_id = models.UUIDField()
    code_hmac = models.CharField(max_length=64)  # hex HMAC-SHA-512/256
    identity = models.ForeignKey("identities.Identity", on_delete=models.CASCADE, related_name="+")
    verifiable_address = models.ForeignKey("identities.VerifiableAddress", null=True, blank=True,
                                           on_delete=models.CASCADE, related_name="+")
    recovery_address = models.ForeignKey("identities.RecoveryAddress", null=True, blank=True,
                                         on_delete=models.CASCADE, related_name="+")
    issued_by_admin = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta(Timestamped.Meta):
        indexes = [
            models.Index(fields=["nid", "flow_id", "purpose"], name="otc_nid_flow_purpose_idx"),
            models.Index(fields=["nid", "expires_at"], name="otc_nid_expires_idx"),
        ]


class FlowError(Timestamped):
    """An error shown to a browser through the error UI (`GET /self-service/errors?id=`)."""

    error = models.JSONField()

    class Meta(Timestamped.Meta):
        indexes = [models.Index(fields=["nid", "created_at"], name="flow_error_nid_created_idx")]
