from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    """Sessions: no models yet; later issues fill this app."""

    name = "sessions_app"
    verbose_name = "Sessions"
