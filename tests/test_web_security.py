"""Issue #15, findings 18 and 19: the launched page refuses uploads and sends security headers,
checked with a plain HTTP client against the real app."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
UPLOAD_BYTES = 64 * 1024  # refused before it is read; more would meet a closed socket


def request(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def uploaded_files(marker: str) -> list[Path]:
    folder = Path(get_upload_folder())
    return [p for p in folder.rglob(f"*{marker}*")] if folder.exists() else []


@pytest.mark.parametrize("path", ["/gradio_api/upload", "//gradio_api//upload/", "/gradio_api/upload?upload_id=x"])
def test_the_upload_route_refuses_files_even_from_a_foreign_origin(app_url, path):
    marker = uuid.uuid4().hex
    body, content_type = multipart(f"{marker}.bin", os.urandom(UPLOAD_BYTES))
    status, headers, answer = request(app_url.rstrip("/") + path, body,
                                      {"Content-Type": content_type, "Origin": "https://evil.example"})
    assert status == 403, (status, answer[:200])
    assert b"takes no files" in answer
    assert uploaded_files(marker) == []


@pytest.mark.parametrize("path", ["/", "/gradio_api/info", "/config"])
def test_every_response_carries_the_security_headers(app_url, path):
    status, headers, _ = request(app_url.rstrip("/") + path)
    assert status == 200, status
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", "")


def test_api_answers_carry_the_headers_and_still_answer(app_url):
    body = json.dumps({"data": ["Which Russian weapons were sold to China?"]}).encode()
    status, headers, answer = request(app_url.rstrip("/") + "/gradio_api/call/ask", body,
                                      {"Content-Type": "application/json"})
    assert status == 200 and "event_id" in json.loads(answer)
    assert headers.get("x-frame-options") == "DENY"
    event_id = json.loads(answer)["event_id"]
    status, headers, stream = request(f"{app_url.rstrip('/')}/gradio_api/call/ask/{event_id}")
    assert status == 200 and b"event: complete" in stream and "S-400".encode() in stream
    assert headers.get("x-content-type-options") == "nosniff"
