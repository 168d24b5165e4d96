"""Verification by code (Kratos `selfservice/strategy/code/strategy_verification.go`).

`{"method": "code", "email": …}` sends a code (and a link carrying it) to a known address, and
nothing to an unknown one unless `notify_unknown_recipients`; the answer is the same either way.
`{"method": "code", "code": …}` uses it. Opening the emailed link (`GET …?flow=&code=`) only fills
the code in and shows the flow in the browser, which then submits it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from identities.models import AddressVia, VerifiableAddress, VerifiableAddressStatus
from kratos_project import clock
from kratos_project.config import get_config
from selfservice import codes, csrf
from selfservice.errors import FlowExpired
from selfservice.flows import verification
from selfservice.flows.common import ensure_submittable
from selfservice.models import CodePurpose, FlowState, FlowType, VerificationFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer, input_node, submit_node
from strategies import sending
from strategies.base import FlowStep, NotResponsible

METHOD = "code"


class CodeVerification:
    def add_verification_nodes(self, flow: VerificationFlow, ui: UIContainer) -> None:
        # Kratos lists the anti-CSRF node last, and gives it to browser flows only.
        token = ui.find("csrf_token")
        ui.nodes = []
        if flow.state == FlowState.SENT_EMAIL:
            ui.nodes += [input_node("method", METHOD, type="hidden", value=METHOD),
                         input_node("code", METHOD, required=True, label=ui_text(1070011)),
                         submit_node("method", METHOD, METHOD, ui_text(1070009))]
            ui.messages = [ui_text(1080003)]
        else:
            ui.nodes += [input_node("email", METHOD, type="email", required=True, label=ui_text(1070007)),
                         submit_node("method", METHOD, METHOD, ui_text(1070009))]
        if token is not None and flow.type == FlowType.BROWSER:
            ui.nodes.append(token)

    def verify(self, request: HttpRequest, flow: VerificationFlow, payload: Mapping[str, Any]) -> FlowStep:
        code = payload.get("code") if isinstance(payload.get("code"), str) else ""
        if (payload.get("method") or (METHOD if code else "")) != METHOD:
            raise NotResponsible()
        if flow.state == FlowState.PASSED_CHALLENGE:
            raise verification.replaced(request, flow, ui_text(4070002), "An error occured, please use the new flow.")
        if code:
            if request.method == "GET":
                return self._fill_in_verification_code(request, flow, code)
            return self._use_verification_code(request, flow, code)
        email = sending.required_email(payload)
        ensure_submittable(request, flow, payload)
        self._send_verification_code_to(flow, email)
        flow.move_to(FlowState.SENT_EMAIL)
        ui = flow.container
        self.add_verification_nodes(flow, ui)
        ui.nodes.append(submit_node("email", email, METHOD, ui_text(1070008)))  # resend
        flow.container = ui
        flow.save()
        return FlowStep(flow)

    def send_verification(self, flow: VerificationFlow, address: VerifiableAddress) -> None:
        lifespan = codes.lifespan(METHOD)
        code = codes.issue(CodePurpose.VERIFICATION_CODE, flow.id, address.identity, expires_in=lifespan,
                           verifiable_address=address)
        data = sending.template_data(flow, address.identity, verification_code=code,
                                     expires_in_minutes=sending.minutes(lifespan))
        if address.via == AddressVia.EMAIL:
            # Go's url.Values sorts its keys: the code comes first.
            query = urlencode({"code": code, "flow": flow.id})
            data["verification_url"] = f"{get_config().public.base_url}self-service/verification?{query}"
        sending.send(address.via, address.value, "verification_code_valid", data)
        address.status = VerifiableAddressStatus.SENT
        address.save(update_fields=["status", "updated_at"])

    def _send_verification_code_to(self, flow: VerificationFlow, email: str) -> None:
        """A new code for a known address (earlier ones stop working); for an unknown one, at most a notice."""
        codes.delete_flow_codes(CodePurpose.VERIFICATION_CODE, flow.id)
        if (address := sending.find_verifiable_address(email)) is not None:
            self.send_verification(flow, address)
        else:
            sending.notify_stranger("verification", flow, email, "verification_code_invalid")

    def _fill_in_verification_code(self, request: HttpRequest, flow: VerificationFlow, code: str) -> FlowStep:
        """The emailed link, opened: the code is filled in and the flow shown in this browser, which it
        now belongs to (the email could not carry an anti-CSRF token)."""
        flow.csrf_token = csrf.request_token(request)
        ui = flow.container
        if (node := ui.find("code")) is not None:
            node["attributes"]["value"] = code
        ui.set_csrf(csrf.mask(flow.csrf_token))
        flow.container = ui
        flow.save()
        return FlowStep(flow, redirect_to=verification.VERIFICATION.ui_url_for(flow.id))

    def _use_verification_code(self, request: HttpRequest, flow: VerificationFlow, submitted: str) -> FlowStep:
        try:
            used = codes.use_code(CodePurpose.VERIFICATION_CODE, flow, submitted)
        except codes.CodeNotFound:
            ui = flow.container
            ui.messages = [ui_text(4070006)]
            flow.container = ui
            flow.save()
            return FlowStep(flow)
        except codes.CodeExpired as expired:
            # An expired code expires the flow (Kratos's VerificationCode.Validate).
            replacement = verification.restart_with(request, flow.type, METHOD, expired.flow_expired_text(4070005))
            raise FlowExpired(expired.expired_at, clock.now(), replacement_id=replacement.id) from None
        except (codes.CodeAlreadyUsed, codes.CodeSubmittedTooOften) as refused:
            raise verification.replaced(request, flow, ui_text(4000001, reason=refused.reason),
                                        "An error occured, please retry the flow.") from None
        return verification.complete(request, flow, used.verifiable_address)
