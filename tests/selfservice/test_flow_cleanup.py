"""`manage.py cleanup` also removes expired login and registration flows."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from kratos_project import clock
from selfservice.models import LoginFlow, RegistrationFlow
from tests.selfservice.conftest import Flows

pytestmark = pytest.mark.django_db


def test_expired_flows_are_deleted_and_live_ones_kept():
    app = Flows("api")
    old_login, old_registration = app.start("login"), app.start("registration")
    clock.advance(timedelta(hours=2))
    fresh = app.start("login")
    out = StringIO()

    call_command("cleanup", stdout=out, stderr=StringIO())

    assert {str(i) for i in LoginFlow.all_networks.values_list("id", flat=True)} == {fresh["id"]}
    assert not RegistrationFlow.all_networks.filter(id=old_registration["id"]).exists()
    assert "deleted 1 expired login flows" in out.getvalue() and old_login["id"] != fresh["id"]
