from django.apps import AppConfig


class SelfserviceConfig(AppConfig):
    """Self-service flows: no models yet; later issues fill this app."""

    name = "selfservice"
    verbose_name = "Self-service flows"
