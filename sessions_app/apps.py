from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    """Sessions: tokens, the session cookie, whoami and the session APIs."""

    name = "sessions_app"
    verbose_name = "Sessions"

    def ready(self) -> None:
        from kratos_project.cleanup import expired_rows, register
        from sessions_app.models import Session

        register(expired_rows("sessions", Session))
