"""`GET /schemas` and `GET /schemas/{id}`, on both ports."""
from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from identities.schemas import all_schemas, schema_by_public_id
from kratos_project.pagination import PageRequest, page_link_header, parse_keyset_or_page


class IdentitySchemaViewSet(ViewSet):
    def list(self, request: Request) -> Response:
        schemas = all_schemas()
        paging = parse_keyset_or_page(request.query_params, default_size=250, max_size=1000)
        page = paging.page if isinstance(paging, PageRequest) else 0
        per_page = paging.per_page if isinstance(paging, PageRequest) else paging.size
        chunk = schemas[page * per_page:(page + 1) * per_page]
        headers = {
            "Link": page_link_header(request, page=page, per_page=per_page, total=len(schemas)),
            "X-Total-Count": str(len(schemas)),
        }
        return Response([{"id": s.id, "schema": s.document} for s in chunk], headers=headers)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(schema_by_public_id(pk).document)
