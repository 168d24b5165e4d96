"""WSGI entrypoint of the public API."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratos_project.settings")

from kratos_project.entrypoints import wsgi_for  # noqa: E402

application = wsgi_for("public")
