"""Verification by link (Kratos `selfservice/strategy/link/strategy_verification.go`).

`{"method": "link", "email": …}` emails a link, `GET /self-service/verification?flow=&token=`, to a
known address; opening it verifies the address. A wrong, used or expired token restarts the flow
in the browser with Kratos's message.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from identities.models import AddressVia, VerifiableAddress, VerifiableAddressStatus
from kratos_project.config import get_config
from selfservice import codes
from selfservice.flows import verification
from selfservice.flows.common import ensure_submittable
from selfservice.models import CodePurpose, FlowState, FlowType, VerificationFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer
from strategies import sending
from strategies.base import FlowStep, NotResponsible
from strategies.link.form import METHOD, add_email_form, lifespan_minutes, show_sent, token_of


class LinkVerification:
    def add_verification_nodes(self, flow: VerificationFlow, ui: UIContainer) -> None:
        add_email_form(ui)

    def verify(self, request: HttpRequest, flow: VerificationFlow, payload: Mapping[str, Any]) -> FlowStep:
        if token := token_of(payload):
            return self._use_verification_link(request, flow, token)
        if payload.get("method") != METHOD:
            raise NotResponsible()
        if flow.state == FlowState.PASSED_CHALLENGE:
            return verification.restarted(request, flow.type, METHOD, ui_text(4070002))
        email = sending.required_email(payload)
        ensure_submittable(request, flow, payload)
        if (address := sending.find_verifiable_address(email)) is not None:
            self.send_verification(flow, address)
        else:
            sending.notify_stranger("verification", flow, email, "verification_invalid")
        return show_sent(flow, email, 1080001)

    def send_verification(self, flow: VerificationFlow, address: VerifiableAddress) -> None:
        token = codes.issue(CodePurpose.VERIFICATION_LINK, flow.id, address.identity,
                            expires_in=codes.lifespan(METHOD), verifiable_address=address)
        url = f"{get_config().public.base_url}self-service/verification?{urlencode({'flow': flow.id, 'token': token})}"
        sending.send(AddressVia.EMAIL, address.value, "verification_valid", sending.template_data(
            flow, address.identity, verification_url=url, expires_in_minutes=lifespan_minutes()))
        address.status = VerifiableAddressStatus.SENT
        address.save(update_fields=["status", "updated_at"])

    def _use_verification_link(self, request: HttpRequest, flow: VerificationFlow, token: str) -> FlowStep:
        try:
            used = codes.use_token(CodePurpose.VERIFICATION_LINK, flow.id, token)
        except (codes.CodeNotFound, codes.CodeAlreadyUsed):
            # A link is opened in a browser: the new flow is a browser flow whatever the old one was.
            return verification.restarted(request, FlowType.BROWSER, METHOD, ui_text(4070001))
        except codes.CodeExpired as expired:
            return verification.restarted(request, FlowType.BROWSER, METHOD, expired.flow_expired_text(4070005))
        return verification.complete(request, flow, used.verifiable_address)
