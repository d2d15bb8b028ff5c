"""One Cloud Run LogEntry read: its service, log, redacted message line, normalised text, addresses, status."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from driftcheck.errors import InputError
from driftcheck.redact import redact_text

_QUERY = re.compile(r"(?<=[\w/])\?[^\s\"'#<>]*")  # a URL's (or a path's) query string: where keys and tokens ride
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
)
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"
_ADDRESS = re.compile(rf"(?P<ip>{_IPV4})(?::(?P<port>\d{{1,5}})\b)?")
_PORT_AFTER = re.compile(r"\bport\s+(?P<port>\d{1,5})\b", re.I)  # psycopg2: host "10.20.0.3" ... on port 5432?
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b|\b0x[0-9a-fA-F]+\b")
_NUMBER = re.compile(r"(?<![\w<])\d+(?:\.\d+)?(?![\w>])")
_SPACE = re.compile(r"\s+")
_TRACEBACK = "Traceback (most recent call last)"
_MESSAGE_KEYS = ("message", "msg", "error", "err", "exception", "stack_trace", "stackTrace", "textPayload")


def resource_label(labels: Any, name: str) -> str | None:
    value = labels.get(name) if isinstance(labels, dict) else None
    return value if isinstance(value, str) and value else None


def service_of(entry: dict[str, Any], label: str) -> str:
    labels = entry["resource"].get("labels") or {}
    name = labels.get("service_name") if isinstance(labels, dict) else None
    if not isinstance(name, str) or not name:
        raise InputError("a Cloud Run log entry names no service", file=label, where="resource.labels.service_name")
    return name


def parse_entry(entry: dict[str, Any], label: str) -> tuple[str, str, list[str], int | None, float | None]:
    """(log, redacted message line, addresses named, HTTP status, latency in seconds) of one entry."""
    log_name = str(entry.get("logName", ""))
    request = entry.get("httpRequest") if isinstance(entry.get("httpRequest"), dict) else None
    text = _payload_text(entry)
    if log_name.endswith(("%2Frequests", "/requests")) or (request and not text):
        request = request or {}
        status = _status(request.get("status"), label)
        method = str(request.get("requestMethod") or "").upper()
        path = _path_of(str(request.get("requestUrl") or ""))
        line = " ".join(part for part in ("HTTP", str(status) if status else "", method, path) if part)
        line += f": {headline(text)}" if text else ""
        safe = _safe(line)
        return "request", safe, _addresses(_safe(text)) if text else [], status, _latency(request.get("latency"))
    log = "system" if log_name.endswith(("%2Fvarlog%2Fsystem", "/varlog/system")) else "app"
    safe_text = _safe(text[:4000])
    return log, _safe(headline(text)), _addresses(safe_text), None, None


def headline(text: str) -> str:
    """The line that says what happened: a Python traceback's last line, else the first non-blank one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith(_TRACEBACK):
        unindented = [line for line in text.splitlines() if line.strip() and not line[:1].isspace()]
        return unindented[-1].strip() if unindented else lines[-1]
    return lines[0]


def normalise(line: str) -> str:
    """The words of a line, its particulars as placeholders: what lines saying the same thing share."""
    text = _TIME.sub("<time>", line)
    text = _UUID.sub("<uuid>", text)
    text = _EMAIL.sub("<email>", text)
    text = _ADDRESS.sub(lambda m: "<ip>:<port>" if m["port"] else "<ip>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


def _safe(text: str) -> str:
    """Redacted, a URL's query string dropped, on one line."""
    return _SPACE.sub(" ", redact_text(_QUERY.sub("", text))).strip()


def _payload_text(entry: dict[str, Any]) -> str:
    text = entry.get("textPayload")
    if isinstance(text, str):
        return text
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        for key in _MESSAGE_KEYS:
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                return value
        return ""
    proto = entry.get("protoPayload")
    if isinstance(proto, dict):
        status = proto.get("status")
        message = status.get("message") if isinstance(status, dict) else None
        return str(message or proto.get("methodName") or "")
    return ""


def _addresses(text: str) -> list[str]:
    """The IPv4 addresses a message names, with the port beside it (or `port N` later in the message)."""
    later = _PORT_AFTER.search(text)
    found = []
    for match in _ADDRESS.finditer(text):
        port = match["port"] or (later["port"] if later and later.start() > match.end() else None)
        found.append(f"{match['ip']}:{port}" if port else match["ip"])
    return list(dict.fromkeys(found))


def _path_of(url: str) -> str:
    """A request URL's path, without scheme, host or query string: what requests to one route share."""
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    except ValueError:  # a malformed host ("[..."): its path is still after the first single slash
        path = "/" + url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    return path or "/"


def _status(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InputError(f"not an HTTP status: {value!r:.20}", file=label, where="httpRequest.status")
    return int(value)


def _latency(value: Any) -> float | None:
    """`30.001234s` (the API's Duration) or {"seconds": 30, "nanos": ...}."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return round(float(value[:-1]), 3)
        except ValueError:
            return None
    if isinstance(value, dict):
        return round(float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9, 3)
    return None
