from django.apps import AppConfig


class CourierConfig(AppConfig):
    """Courier: messages queued by the flows and sent by `manage.py courier_watch`."""

    name = "courier"
    verbose_name = "Courier"
