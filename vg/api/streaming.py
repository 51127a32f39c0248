"""A request body handed on in pieces as it arrives, so memory stays at about one
piece whatever the body's size (binary uploads, the intro video, its form)."""

from __future__ import annotations

from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

UPLOAD_PIECE = 256 * 1024


async def stream_into(request: Request, write: Callable[[bytearray], None]) -> None:
    """Call ``write`` (in the thread pool: it encrypts and writes files) with each
    piece of the body, the last one possibly short or empty."""
    piece = bytearray()
    async for data in request.stream():
        piece += data
        if len(piece) >= UPLOAD_PIECE:
            # Handed over whole, not copied: the loop starts a new piece.
            await run_in_threadpool(write, piece)
            piece = bytearray()
    await run_in_threadpool(write, piece)
