from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "identities"
    verbose_name = "Identities"
    default_auto_field = "django.db.models.BigAutoField"
