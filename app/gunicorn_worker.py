"""gunicorn's sync worker, answering a request it cannot parse in Chinese.

gunicorn answers a request line over ``limit_request_line`` (4 KB), oversized headers or a
malformed request itself, before the app sees it, with an English page ("Bad Request /
Request Line is too large"). Residents and staff read Chinese: this worker gives the same
status codes (400, 403, 414, 417, 431, 501) with a short Chinese page. Every other error is
gunicorn's own handling.
"""
from __future__ import annotations

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.sync import SyncWorker

_MALFORMED = (errors.InvalidRequestLine, errors.InvalidRequestMethod, errors.InvalidHTTPVersion,
              errors.InvalidHeaderName, errors.ObsoleteFolding, errors.InvalidChunkSize,
              errors.ChunkMissingTerminator, errors.InvalidChunkExtension, errors.InvalidProxyLine,
              errors.InvalidProxyHeader, errors.InvalidSchemeHeaders, errors.InvalidH2CPreface)


def chinese_error(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, reason, message) for a request gunicorn could not read; None: not a client's mistake."""
    if isinstance(exc, errors.LimitRequestLine):
        return 414, "URI Too Long", "网址太长，无法处理。请检查链接是否完整，或回到首页重新打开。"
    if isinstance(exc, errors.LimitRequestHeaders):
        return 431, "Request Header Fields Too Large", "请求头过大，无法处理。请清除本站的浏览器缓存（Cookie）后重试。"
    if isinstance(exc, (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)):
        return None   # the application's fault: gunicorn answers 500 and logs it
    if isinstance(exc, errors.ExpectationFailed):
        return 417, "Expectation Failed", "请求中的 Expect 要求无法满足。请去掉该请求头后重试。"
    if isinstance(exc, errors.UnsupportedTransferCoding):
        return 501, "Not Implemented", "不支持该传输编码（Transfer-Encoding），请改用普通或分块（chunked）上传。"
    if isinstance(exc, errors.ForbiddenProxyRequest):
        return 403, "Forbidden", "该代理地址不在允许范围内，请求被拒绝。"
    if isinstance(exc, (errors.InvalidHeader, *_MALFORMED)):
        return 400, "Bad Request", "请求格式不正确，无法处理。请检查链接或重新打开页面。"
    return None


def error_response(status: int, reason: str, message: str) -> bytes:
    body = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>无法处理的请求</title></head>"
            f"<body><h1>无法处理的请求（{status}）</h1><p>{message}</p></body></html>").encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    return head + body


class Worker(SyncWorker):
    def handle_error(self, req, client, addr, exc):
        found = chinese_error(exc)
        if found is None:
            return super().handle_error(req, client, addr, exc)
        status, reason, message = found
        self.log.debug("unreadable request from %s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, error_response(status, reason, message))
        except OSError:
            pass   # the client has gone: nothing to tell it
