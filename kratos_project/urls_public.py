"""Public API (port 4433): self-service, sessions, schemas, health. No admin route lives here."""
from django.urls import path

from identities.api.schema_views import IdentitySchemaViewSet
from kratos_project import health

handler404 = "kratos_project.errors.page_not_found"
handler500 = "kratos_project.errors.server_error"

urlpatterns = [
    path("health/alive", health.alive),
    path("health/ready", health.ready),
    path("schemas", IdentitySchemaViewSet.as_view({"get": "list"})),
    path("schemas/<str:pk>", IdentitySchemaViewSet.as_view({"get": "retrieve"})),
]
