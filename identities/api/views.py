"""Admin identity API (Kratos `identity/handler.go`), thin: parse, call one service, render."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from identities import services
from identities.api.serializers import (
    BatchPatchIn,
    CreateIdentityIn,
    UpdateIdentityIn,
    draft_from_create_body,
    identity_json,
)
from identities.credentials import ALL_TYPES
from identities.models import Identity, with_relations
from kratos_project.config import get_config
from kratos_project.errors import BadRequest, as_kratos_error
from kratos_project.jsonbody import request_json
from kratos_project.pagination import (
    KeysetRequest,
    keyset_link_header,
    page_link_header,
    parse_keyset_or_page,
)

NIL_UUID = "00000000-0000-0000-0000-000000000000"
MAX_ID_FILTER = 500


def _declassified(request: Request) -> list[str]:
    requested = request.query_params.getlist("include_credential")
    for value in requested:
        if value not in ALL_TYPES:
            raise BadRequest(f"Invalid value `{value}` for parameter `include_credential`.")
    return requested


def _render(identity: Identity, declassify: list[str], *, credentials: str = "no_config") -> dict[str, Any]:
    return identity_json(identity, admin=True, credentials="declassified" if declassify else credentials,
                         declassify=declassify)


def _parse_uuid(value: str, parameter: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as error:
        raise BadRequest(f"Invalid UUID value `{value}` for parameter `{parameter}`.") from error


def _list_filter(request: Request) -> services.IdentityFilter:
    query = request.query_params
    ids = tuple(_parse_uuid(v, "ids") for v in query.getlist("ids"))
    if len(ids) > MAX_ID_FILTER:
        raise BadRequest("The number of ids to filter must not exceed 500.")
    organization = query.get("organization_id")
    criteria = services.IdentityFilter(
        ids=ids,
        credentials_identifier=query.get("credentials_identifier", ""),
        identifier_similar=query.get("preview_credentials_identifier_similar", ""),
        organization_id=_parse_uuid(organization, "organization_id") if organization else None,
    )
    used = [bool(criteria.ids), bool(criteria.credentials_identifier), bool(criteria.identifier_similar),
            bool(criteria.organization_id)]
    if sum(used) > 1:
        raise BadRequest("You cannot combine multiple filters in this API")
    return criteria


class IdentityViewSet(ViewSet):
    def list(self, request: Request) -> Response:
        criteria = _list_filter(request)
        declassify = _declassified(request)
        with_credentials = bool(declassify or criteria.credentials_identifier or criteria.identifier_similar)
        queryset: QuerySet[Identity] = with_relations(services.identities_matching(criteria))
        paging = parse_keyset_or_page(request.query_params)
        headers: dict[str, str] = {}
        if isinstance(paging, KeysetRequest):
            rows = services.identities_after(queryset, paging.token, paging.size + 1)
            page, is_last = rows[: paging.size], len(rows) <= paging.size
            headers["Link"] = keyset_link_header(request, size=paging.size, first_token=NIL_UUID,
                                                 next_token=None if is_last else str(page[-1].id))
        else:
            start = paging.page * paging.per_page
            page = list(queryset.order_by("id")[start:start + paging.per_page])
            total = queryset.count()
            headers["Link"] = page_link_header(request, page=paging.page, per_page=paging.per_page, total=total)
            headers["X-Total-Count"] = str(total)
        mode = "no_config" if with_credentials else "none"
        return Response([_render(i, declassify, credentials=mode) for i in page], headers=headers)

    def create(self, request: Request) -> Response:
        body = CreateIdentityIn(data=request.data)
        body.is_valid(raise_exception=True)
        identity = services.create_identity(body.draft())
        location = f"{get_config().admin.base_url}identities/{identity.id}"
        rendered = identity_json(identity, admin=True, credentials="no_config")
        return Response(rendered, status=status.HTTP_201_CREATED, headers={"Location": location})

    def retrieve(self, request: Request, pk: str) -> Response:
        declassify = _declassified(request)
        return Response(_render(services.get_identity(pk), declassify))

    def retrieve_by_external_id(self, request: Request, external_id: str) -> Response:
        if not external_id:
            raise BadRequest("The external ID must not be empty.")
        declassify = _declassified(request)
        return Response(_render(services.get_identity_by_external_id(external_id), declassify))

    def update(self, request: Request, pk: str) -> Response:
        identity = services.get_identity(pk)
        body = UpdateIdentityIn(data=request.data)
        body.is_valid(raise_exception=True)
        identity = services.update_identity(identity, body.draft())
        return Response(identity_json(identity, admin=True, credentials="no_config"))

    def partial_update(self, request: Request, pk: str) -> Response:
        identity = services.patch_identity(services.get_identity(pk), request_json(request))
        return Response(identity_json(identity, admin=True, credentials="no_config"))

    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_identity(services.get_identity(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def batch(self, request: Request) -> Response:
        body = BatchPatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        items = [(p.get("patch_id"), p["create"]) for p in body.validated_data["identities"]]
        results = services.create_identities(items, build=draft_from_create_body)
        return Response({"identities": [_batch_result_json(r) for r in results]})

    def destroy_credential(self, request: Request, pk: str, credential_type: str) -> Response:
        identity = services.get_identity(pk)
        services.delete_credential(identity, credential_type, request.query_params.get("identifier", ""))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _batch_result_json(result: services.BatchResult) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.identity is not None:
        body = {"action": "create", "identity": str(result.identity.id)}
    else:
        body = {"action": "error", "error": as_kratos_error(result.error).body()["error"]}
    if result.patch_id:
        body["patch_id"] = str(result.patch_id)
    return body
