"""UUIDs in URL paths, rejected the way Kratos rejects them (gofrs/uuid's error texts)."""
from __future__ import annotations

import json
from uuid import UUID

from kratos_project.errors import BadRequest


def parse_path_uuid(value: str) -> UUID:
    """A path id; a malformed one is herodot's 400 carrying gofrs/uuid's error text as the message."""
    try:
        return UUID(value)
    except ValueError as error:
        quoted = json.dumps(value)
        if len(value) in (32, 36, 38, 41, 45):
            raise BadRequest(message=f"uuid: incorrect UUID format in string {quoted}") from error
        raise BadRequest(message=f"uuid: incorrect UUID length {len(value)} in string {quoted}") from error
