"""Credential-looking values never leave driftcheck: they become fingerprints, and URLs lose their passwords."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any

from driftcheck.model import Redacted

# Keys whose value is a credential whatever it looks like.
CREDENTIAL_KEY = re.compile(r"PASS(WORD|WD)?|SECRET|TOKEN|(^|_)KEY($|_)|APIKEY|CREDENTIAL", re.I)
# scheme://user:password@host — keep the user, drop the password.
URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<password>[^@\s/]+)(?=@)", re.I)
# key=value and "key": "value" pairs inside free text (condition messages, JDBC options).
INLINE_PAIR = re.compile(
    r"(?P<key>\b\w*(?:password|passwd|secret|token|apikey|api_key|credentials?)\w*\b\s*[=:]\s*)(?P<value>[^\s&;,'\"]+)",
    re.I,
)
MASK = "[REDACTED]"

# Per-process key: fingerprints tell values apart within one run and cannot be looked up across runs.
_FINGERPRINT_KEY = os.urandom(16)


def is_credential_key(key: str) -> bool:
    return bool(CREDENTIAL_KEY.search(key))


def fingerprint(value: str) -> Redacted:
    digest = hmac.new(_FINGERPRINT_KEY, value.encode(), hashlib.sha256).hexdigest()[:12]
    return Redacted(digest)


def redact_text(text: str) -> str:
    """Mask passwords inside URLs and key=value pairs in a free-text string."""
    text = URL_PASSWORD.sub(lambda m: m.group("prefix") + MASK, text)
    return INLINE_PAIR.sub(lambda m: m.group("key") + MASK, text)


def redact_env_value(name: str, value: str) -> str | Redacted:
    """An env value as the model keeps it: a fingerprint for credential keys, else the text minus passwords."""
    if is_credential_key(name) and value:
        return fingerprint(value)
    return redact_text(value)


def redact_tree(value: Any) -> Any:
    """Last line of defence before any output: mask every string in a JSON-like tree."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(v, str) and v and is_credential_key(str(k)) else redact_tree(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
