from django.apps import AppConfig


class CourierConfig(AppConfig):
    """Courier: no models yet; later issues fill this app."""

    name = "courier"
    verbose_name = "Courier"
