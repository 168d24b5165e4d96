from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    name = "strategies"
    verbose_name = "Authentication strategies"

    def ready(self) -> None:
        from strategies import profile
        from strategies.code import strategy as code
        from strategies.link import strategy as link
        from strategies.password import strategy as password
        from strategies.registry import registry

        # The order is the dispatch order: the first strategy whose method matches handles a
        # submission. A new method is a new package plus one entry here; the flows stay untouched.
        registry.populate(module.Strategy() for module in (password, profile, code, link))
