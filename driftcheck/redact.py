"""Credential-looking values never leave driftcheck: they become fingerprints, and URLs lose their passwords.

What counts as a credential, by the name of the key that holds it (env vars, JSON keys):
- the name is split into words (`DB_PASSWORD`, `dbPassword` and `db-password` all give db + password);
- it names a credential when a word contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, CREDENTIAL, APIKEY,
  ACCESSKEY or PRIVATEKEY, or is exactly PASS, PWD, KEY or PSK (whole words only, so BYPASS_CACHE, COMPASS_URL
  and KEYCLOAK_URL stay readable);
- unless its last word says the value is about the credential rather than the credential itself: TOKEN_URL,
  SECRET_NAME, KEY_PATH, PASSWORD_FILE, JWT_SECRET_VERSION (see `HARMLESS_LAST_WORDS`). Those values still go
  through `redact_text`, so a password inside a TOKEN_URL is masked all the same.
In free text (status messages, args, any string of a report), `redact_text` masks the password of
scheme://user:password@host, the value of key=value / key: value pairs whose key names a credential, and
Bearer/Basic tokens. A URL with a port and an '@' later in its path loses its port too: over, never under.

Over-redacting costs a reader one value (its change is still reported); under-redacting leaks a credential into
an incident document, so every doubt goes to redaction.

Values are masked in two places: sources keep only a fingerprint of a credential (so a change is still seen by
the compare), and `redact_tree` masks every string of a report once more just before any output.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable
from typing import Any

from driftcheck.model import Redacted

MASK = "[REDACTED]"
PROVENANCE_KEY = "source"
_CREDENTIAL_STEMS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "ACCESSKEY",
                     "PRIVATEKEY")  # fmt: skip
_CREDENTIAL_WORDS = frozenset({"PASS", "PWD", "KEY", "PSK"})
HARMLESS_LAST_WORDS = frozenset({"URL", "URI", "HOST", "HOSTNAME", "PORT", "NAME", "PATH", "FILE", "DIR",
                                 "TTL", "TIMEOUT", "EXPIRY", "LENGTH", "HEADER", "ENDPOINT", "VERSION",
                                 "ENABLED"})  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")

# scheme://user:password@host — keep the user, drop the password (which may hold '/', '#', '?': not all are encoded).
URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<password>[^@\s]+)(?=@)", re.I)
# key=value, key: value and "key": "value" inside free text (condition messages, JDBC options, args); a Secret
# Manager resource name after "secret:" is a name, not a value, and is the clue an access error gives.
INLINE_PAIR = re.compile(
    r"(?P<key>\b\w*(?:password|passwd|pwd|secret|token|(?:api|access|private)[-_]?key|credentials?)\w*\b"
    r"[\"']?\s*[=:]\s*)"
    r"(?!projects/)(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.I,
)
BEARER = re.compile(r"\b(?P<scheme>bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})", re.I)
# What a password inside an env value (URL, key=value) becomes in the model: distinct per password within a run,
# so a rotated one still differs; never output.
_MARKER = re.compile(r"\[REDACTED:[0-9a-f]+\]")

# Per-process key: fingerprints tell values apart within one run and cannot be looked up across runs.
_FINGERPRINT_KEY = os.urandom(16)


def is_credential_key(key: str) -> bool:
    words = [w.upper() for w in _WORD.findall(key)]
    if not words or (len(words) > 1 and words[-1] in HARMLESS_LAST_WORDS):
        return False
    return any(w in _CREDENTIAL_WORDS or any(s in w for s in _CREDENTIAL_STEMS) for w in words)


def fingerprint(value: str) -> Redacted:
    digest = hmac.new(_FINGERPRINT_KEY, value.encode(), hashlib.sha256).hexdigest()[:12]
    return Redacted(digest)


def redact_text(text: str) -> str:
    """Mask passwords inside URLs, key=value pairs and bearer tokens in a free-text string."""
    return _mask(_MARKER.sub(MASK, text), lambda _: MASK)


def redact_env_value(name: str, value: str) -> str | Redacted:
    """An env value as the model keeps it: a fingerprint for credential keys, else the text with markers.

    A password inside a URL (or a key=value pair) becomes a marker carrying its fingerprint, so a changed password
    still differs in the compare; `redact_text` turns every marker into the plain mask before any output.
    """
    if is_credential_key(name) and value:
        return fingerprint(value)
    return _mask(value, lambda secret: f"[REDACTED:{fingerprint(secret).fingerprint}]")


def _mask(text: str, mask: Callable[[str], str]) -> str:
    text = URL_PASSWORD.sub(lambda m: m["prefix"] + mask(m["password"]), text)
    text = INLINE_PAIR.sub(lambda m: m["key"] + mask(m["value"]), text)
    return BEARER.sub(lambda m: f"{m['scheme']} {mask(m['value'])}", text)


def redact_tree(value: Any) -> Any:
    """Last line of defence before any output: mask every string in a JSON-like tree.

    Except provenance: where a value came from (`file:field`, `snap.json#secret:db-password:iam`) is written by
    driftcheck from file names and field paths, holds no value, and would read as `password: iam`.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: v if _is_provenance(k, v) else _redact_item(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value


def _redact_item(key: str, value: Any) -> Any:
    return MASK if isinstance(value, str) and value and is_credential_key(key) else redact_tree(value)


def _is_provenance(key: object, value: Any) -> bool:
    """A `source` that is a string, or a {baseline, target} pair of them: the only shapes driftcheck writes."""
    if key != PROVENANCE_KEY:
        return False
    sides = list(value.values()) if isinstance(value, dict) and set(value) <= {"baseline", "target"} else [value]
    return all(side is None or isinstance(side, str) for side in sides)
