"""Admin API (port 4434). Never mounted on the public port.

Kratos serves every admin route under `/admin/…` and rewrites paths that lack the prefix, so
`/identities` and `/admin/identities` are the same; both prefixes are mounted here. The Django admin
(the operator console) lives at `/console/` on this port only.
"""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from courier.api.views import CourierMessageViewSet
from identities.api.schema_views import IdentitySchemaViewSet
from identities.api.views import IdentityViewSet
from kratos_project import console, health
from selfservice.api.views import AdminRecoveryCodeView, AdminRecoveryLinkView
from sessions_app.api.views import AdminIdentitySessionViewSet, AdminSessionViewSet

# The console names itself, and links to no "site": this port has none to view.
admin.site.site_header = admin.site.site_title = "Operator console"
admin.site.index_title = "Identities, sessions and courier messages"
admin.site.site_url = None

handler404 = "kratos_project.errors.page_not_found"
handler500 = "kratos_project.errors.server_error"

api = [
    path("health/alive", health.alive),
    path("health/ready", health.ready),
    path("version", health.version),
    path("schemas", IdentitySchemaViewSet.as_view({"get": "list"})),
    path("schemas/<str:pk>", IdentitySchemaViewSet.as_view({"get": "retrieve"})),
    path("identities", IdentityViewSet.as_view({"get": "list", "post": "create", "patch": "batch"})),
    path("identities/by/external/<path:external_id>",
         IdentityViewSet.as_view({"get": "retrieve_by_external_id"})),
    path("identities/<str:pk>", IdentityViewSet.as_view(
        {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})),
    path("identities/<str:pk>/credentials/<str:credential_type>",
         IdentityViewSet.as_view({"delete": "destroy_credential"})),
    path("sessions", AdminSessionViewSet.as_view({"get": "list", "delete": "redirect_to_public"})),
    path("sessions/<str:pk>", AdminSessionViewSet.as_view({"get": "retrieve", "delete": "destroy"})),
    path("sessions/<str:pk>/extend", AdminSessionViewSet.as_view({"patch": "extend"})),
    path("identities/<str:pk>/sessions", AdminIdentitySessionViewSet.as_view({"get": "list", "delete": "destroy"})),
    path("recovery/code", AdminRecoveryCodeView.as_view()),
    path("recovery/link", AdminRecoveryLinkView.as_view()),
    path("courier/messages", CourierMessageViewSet.as_view({"get": "list"})),
    path("courier/messages/<str:pk>", CourierMessageViewSet.as_view({"get": "retrieve"})),
]

urlpatterns = [
    path(f"{settings.STATIC_URL.lstrip('/')}<path:path>", console.static_file),
    path("console/", admin.site.urls),
    path("admin/", include(api)),
    path("", include(api)),
]
