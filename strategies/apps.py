from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    name = "strategies"
    verbose_name = "Authentication strategies"

    def ready(self) -> None:
        from strategies.registry import registry

        # The order is the dispatch order and the UI node order, as in Kratos. Strategies join this
        # tuple as the self-service issues add them.
        registry.populate(())
