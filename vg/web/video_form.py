"""The intro video from a plain HTML form (multipart/form-data, no script needed),
parsed as it streams in: the video part goes straight into the pod's chunked
encryption, so no plaintext lands in a temporary file (Starlette's own form parser
would spool it to disk).

The form puts its CSRF field before the file field, and browsers send fields in
the form's order: the token is checked before the first byte of video is written.
Every other part is small and bounded; the body as a whole is bounded by the
application's body limit for this address."""

from __future__ import annotations

from typing import Callable

from python_multipart.multipart import MultipartParser, parse_options_header

from .auth import CsrfRejected
from .refusals import FormError

FIELD_LIMIT = 256  # bytes of a non-file field
MAX_PARTS = 4


class VideoFormError(FormError):
    """The form is not a video upload this page accepts (``key`` says how)."""


class VideoForm:
    """Feed the request body with ``write``; ``finish`` checks that a video came,
    of at least one byte. The form has the CSRF field and one video part: any
    other part makes it not this form.

    ``token_valid`` checks the CSRF field; ``open_writer(media_type)`` returns the
    pod's encrypting writer (with ``write``) once the video part starts."""

    def __init__(self, content_type: str, csrf_field: str,
                 token_valid: Callable[[str], bool],
                 open_writer: Callable[[str], object], media_types: tuple[str, ...]):
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise VideoFormError("video.not_a_form")
        self._csrf_field = csrf_field
        self._token_valid = token_valid
        self._open_writer = open_writer
        self._media_types = media_types
        self._fields: dict[str, bytearray] = {}
        self._parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""
        self._target: bytearray | None = None
        self.writer = None
        self.media_type: str | None = None
        self._done_video = False
        self._video_bytes = 0
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        })

    def write(self, data: bytes) -> None:
        self._parser.write(data)

    def finish(self) -> None:
        self._parser.finalize()
        if not self._done_video or not self._video_bytes:
            raise VideoFormError("video.no_file")

    # -- parser callbacks -------------------------------------------------------------

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise VideoFormError("video.not_a_form")
        self._headers = {}
        self._target = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("latin-1")
        if name != "video":
            if name in self._fields or name != self._csrf_field:
                raise VideoFormError("video.not_a_form")
            self._target = self._fields[name] = bytearray()
            return
        if self.writer is not None:
            raise VideoFormError("video.not_a_form")
        token = self._fields.get(self._csrf_field, b"").decode("ascii", "replace")
        if not self._token_valid(token):
            raise CsrfRejected()
        media_type = self._headers.get(b"content-type", b"").decode("latin-1")
        if media_type not in self._media_types:
            raise VideoFormError("video.wrong_type")
        self.media_type = media_type
        self.writer = self._open_writer(media_type)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target is not None:
            self._target += data[start:end]
            if len(self._target) > FIELD_LIMIT:
                raise VideoFormError("video.not_a_form")
        else:
            self._video_bytes += end - start
            self.writer.write(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._target is None and self.writer is not None:
            self._done_video = True
