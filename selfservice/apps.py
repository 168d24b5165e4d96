from django.apps import AppConfig


class SelfserviceConfig(AppConfig):
    """Self-service flows: login, registration, settings, recovery, verification, logout."""

    name = "selfservice"
    verbose_name = "Self-service flows"

    def ready(self) -> None:
        from kratos_project.cleanup import expired_rows, register
        from selfservice.models import (
            FlowError,
            LoginFlow,
            OneTimeCode,
            RecoveryFlow,
            RegistrationFlow,
            VerificationFlow,
        )

        register(expired_rows("login flows", LoginFlow))
        register(expired_rows("registration flows", RegistrationFlow))
        register(expired_rows("recovery flows", RecoveryFlow))
        register(expired_rows("verification flows", VerificationFlow))
        register(expired_rows("one-time codes", OneTimeCode))
        # Stored flow errors have no expiry; they go once older than the cleanup's cutoff.
        register(expired_rows("flow errors", FlowError, field="created_at"))
