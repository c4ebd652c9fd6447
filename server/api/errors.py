"""Every error leaves the API as {"error": code, "detail": text} with a 4xx (or 500) status:
the code for programs, the sentence for people."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

log = logging.getLogger("smsbridge.server.api")


class ErrorBody(msgspec.Struct, frozen=True):
    error: str
    detail: str


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} does not exist")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def conflict(error: str, detail: str) -> ApiError:
    return ApiError(409, error, detail)


def unprocessable(error: str, detail: str) -> ApiError:
    return ApiError(422, error, detail)


# Litestar's own status codes mapped to our error codes.
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _body(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(ErrorBody(error, detail), status_code=status, headers=headers)


def _validation_detail(exc: ValidationException) -> str:
    extra: Any = exc.extra
    if isinstance(extra, list) and extra:
        parts = []
        for item in extra:
            if isinstance(item, dict):
                where = item.get("key") or item.get("source") or ""
                parts.append(f"{where}: {item.get('message', '')}".strip(": "))
        if parts:
            return "; ".join(parts)
    return exc.detail or "the request is not valid"


def handle_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _body(exc.status, exc.error, exc.detail)


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        return _body(400, "invalid_request", _validation_detail(exc))
    if status >= 500:
        return _body(status, "internal", "the server failed; see its log")
    # Keep Litestar's headers: a 405 must say which methods are allowed (`Allow`).
    headers = dict(exc.headers) if exc.headers else None
    return _body(status, _HTTP_CODES.get(status, "error"), exc.detail or "request refused", headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "the server failed; see its log")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}


_MEANING = {
    400: "The request is malformed: bad JSON, a wrong type, an unknown field",
    401: "No token, or not a known one",
    403: "The caller's rights do not allow this",
    404: "No such thing, or not visible to the caller",
    409: "Conflicts with what exists (a taken name, a reused Idempotency-Key)",
    422: "Well-formed but not acceptable (bad number, config, too long, unknown reference)",
    410: "Gone: the events after this cursor are past the retention",
    429: "Too many requests from this client (or for this account): try again later",
}


def documented(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a handler can answer, all in the {error, detail} shape."""
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=_MEANING[code], generate_examples=False
        )
        for code in codes
    }


# Every handler that needs a token says so (the health and metrics endpoints do not).
AUTH: list[dict[str, list[str]]] = [{"token": []}]
