"""Public API (port 4433): self-service, sessions, schemas, health. No admin route lives here."""
from django.urls import path

from identities.api.schema_views import IdentitySchemaViewSet
from kratos_project import bench_baseline, health
from sessions_app.api.views import PublicSessionViewSet, whoami
from selfservice import pages
from selfservice import views as selfservice

handler404 = "kratos_project.errors.page_not_found"
handler500 = "kratos_project.errors.server_error"

urlpatterns = [
    path("health/alive", health.alive),
    path("health/ready", health.ready),
    path("schemas", IdentitySchemaViewSet.as_view({"get": "list"})),
    path("schemas/<str:pk>", IdentitySchemaViewSet.as_view({"get": "retrieve"})),
    path("sessions/whoami", whoami),
    path("sessions", PublicSessionViewSet.as_view({"get": "list", "delete": "destroy_others"})),
    path("sessions/<str:pk>", PublicSessionViewSet.as_view({"delete": "destroy"})),
    path("admin/identities/<str:pk>/sessions", PublicSessionViewSet.as_view({"delete": "redirect_to_admin"})),
]

urlpatterns += [
    path("self-service/logout/browser", selfservice.logout_browser_url),
    path("self-service/logout/api", selfservice.logout_native),
    path("self-service/logout", selfservice.logout),
    path("self-service/errors", selfservice.flow_error),
]
urlpatterns += [
    path("self-service/settings/browser", selfservice.settings_init_browser),
    path("self-service/settings/api", selfservice.settings_init_api),
    path("self-service/settings/flows", selfservice.get_flow_view, {"flow": "settings"}),
    path("self-service/settings", selfservice.settings_submit),
]
for flow in ("login", "registration"):
    urlpatterns += [
        path(f"self-service/{flow}/browser", selfservice.init_browser, {"flow": flow}),
        path(f"self-service/{flow}/api", selfservice.init_api, {"flow": flow}),
        path(f"self-service/{flow}/flows", selfservice.get_flow_view, {"flow": flow}),
        path(f"self-service/{flow}", selfservice.submit, {"flow": flow}),
    ]
for flow in ("recovery", "verification"):
    urlpatterns += [
        path(f"self-service/{flow}/browser", selfservice.init_browser, {"flow": flow}),
        path(f"self-service/{flow}/api", selfservice.init_api, {"flow": flow}),
        path(f"self-service/{flow}/flows", selfservice.get_flow_view, {"flow": flow}),
        path(f"self-service/{flow}", selfservice.submit_recovery_or_verification, {"flow": flow}),
    ]

# The default self-service pages (`/ui/…`), unless KRATOS_DEFAULT_PAGES=0.
urlpatterns += pages.urlpatterns()

# `GET /__bench/lookup`, bench/sessions.py's baseline, only with KRATOS_BENCH_BASELINE=1 (never by default).
urlpatterns += bench_baseline.urlpatterns()
