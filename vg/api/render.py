"""Fast JSON responses: json.dumps straight to bytes, skipping FastAPI's generic
encoder, which costs about 4x on nested documents (notes/performance.md section 4)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(body: Any, status: int = 200,
                  media_type: str = "application/json") -> Response:
    return Response(json_bytes(body), status_code=status, media_type=media_type)
