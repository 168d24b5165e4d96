"""ASGI entrypoint of the public API."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratos_project.settings")

from kratos_project.entrypoints import asgi_for  # noqa: E402

application = asgi_for("public")
