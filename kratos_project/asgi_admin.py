"""ASGI entrypoint of the admin API."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratos_project.settings")

from kratos_project.entrypoints import asgi_for  # noqa: E402

application = asgi_for("admin")
