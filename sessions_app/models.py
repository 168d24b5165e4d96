"""Sessions (Kratos `session/session.go`): one row per sign-in, found by the hash of its token."""
from __future__ import annotations

from datetime import datetime

from django.db import models

from identities.models import Identity, IdentityState, Timestamped

TOKEN_HASH_LENGTH = 64  # hex SHA-256


class AAL(models.TextChoices):
    AAL0 = "aal0"
    AAL1 = "aal1"
    AAL2 = "aal2"
    AAL3 = "aal3"


class Session(Timestamped):
    """No logout token is stored: it is derived from the session token (`tokens.logout_token_for`),
    which the logout request's cookie carries, so a stored copy would add nothing."""

    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="sessions", db_index=False)
    token_hash = models.CharField(max_length=TOKEN_HASH_LENGTH)
    active = models.BooleanField(default=True)
    expires_at = models.DateTimeField()
    authenticated_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    aal = models.CharField(max_length=4, choices=AAL.choices, default=AAL.AAL1)
    # [{"method", "aal", "completed_at"}]: written once per sign-in step, always read whole.
    authentication_methods = models.JSONField(default=list)
    # [{"id", "ip_address", "user_agent", "location"}]: on the row (Kratos has a table) so that
    # whoami reads a session in one query.
    devices = models.JSONField(default=list)

    class Meta(Timestamped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["nid", "token_hash"], name="session_nid_token_uniq"),
        ]
        indexes = [
            # GET /admin/sessions: WHERE nid = ? AND (created_at, id) after the token ORDER BY created_at DESC, id.
            models.Index(fields=["nid", "created_at", "id"], name="session_nid_created_idx"),
            # An identity's sessions, newest first; also serves the cascade when an identity is deleted.
            models.Index(fields=["identity", "created_at"], name="session_identity_created_idx"),
            # `manage.py cleanup` deletes the oldest expired rows of every network.
            models.Index(fields=["expires_at"], name="session_expires_idx"),
        ]

    def __str__(self) -> str:
        return str(self.id)

    def is_active(self, now: datetime, *, check_identity: bool = True) -> bool:
        """Kratos's IsActive: not revoked, not expired and (when loaded) its identity active.

        Kratos ignores the identity's state when the identity was not loaded (admin reads without
        `expand=identity`); `check_identity=False` mirrors that without a query.
        """
        if not self.active or self.expires_at <= now:
            return False
        return not check_identity or self.identity.state == IdentityState.ACTIVE
