"""Credential-looking values never leave driftcheck: they become fingerprints, and URLs lose their passwords.

What counts as a credential, by the name of the key that holds it (env vars, JSON keys):
- the name is split into words (`DB_PASSWORD`, `dbPassword` and `db-password` all give db + password);
- it names a credential when a word contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, CREDENTIAL, APIKEY,
  ACCESSKEY or PRIVATEKEY, or is exactly PASS, PWD, KEY or PSK (whole words only, so BYPASS_CACHE, COMPASS_URL
  and KEYCLOAK_URL stay readable);
- unless its last word says the value is about the credential rather than the credential itself: TOKEN_URL,
  SECRET_NAME, KEY_PATH, PASSWORD_FILE, JWT_SECRET_VERSION (see `HARMLESS_LAST_WORDS`). Those values still go
  through `redact_text`, so a password inside a TOKEN_URL is masked all the same;
- and a value that is a bare flag word (true, false, yes, no, on, off, enabled, disabled, 0, 1: `FLAG_WORDS`) is
  no credential whatever its name: SECRETS_ACCESS_GRANTED=true stays readable; nor is a whole number under a name
  that counts (MAX, MIN, LIMIT, COUNT, NUM, SIZE: `QUANTITY_WORDS`): MAX_BATCH_TOKENS=4096.
Names are never values: a Secret Manager secret's name (`db-password`), a variable's name and a secret reference
(`db-password:2` after `--update-secrets`, `projects/P/secrets/S:3`) stay readable.
In free text (status messages, args, any string of a report), `redact_text` masks the password of
scheme://user:password@host, the value of key=value / key: value pairs whose key names a credential, and
Bearer/Basic tokens. A URL with a port and an '@' later in its path loses its port too: over, never under.

Over-redacting costs a reader one value (its change is still reported); under-redacting leaks a credential into
an incident document, so every doubt goes to redaction.

Values are masked in two places: sources keep only a fingerprint of a credential (so a change is still seen by
the compare), and `redact_tree` masks every string of a report once more just before any output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from typing import Any

from driftcheck.model import Redacted, SecretRef, Volume, secret_reference

MASK = "[REDACTED]"
PROVENANCE_KEY = "source"
_CREDENTIAL_STEMS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "ACCESSKEY",
                     "PRIVATEKEY")  # fmt: skip
_CREDENTIAL_WORDS = frozenset({"PASS", "PWD", "KEY", "PSK"})
HARMLESS_LAST_WORDS = frozenset({"URL", "URI", "HOST", "HOSTNAME", "PORT", "NAME", "PATH", "FILE", "DIR",
                                 "TTL", "TIMEOUT", "EXPIRY", "LENGTH", "HEADER", "ENDPOINT", "VERSION",
                                 "ENABLED"})  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
FLAG_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "0", "1"})
QUANTITY_WORDS = frozenset({"MAX", "MIN", "LIMIT", "COUNT", "NUM", "NUMBER", "SIZE"})
_PLACEHOLDERS = frozenset({"VALUE"})  # what a fix writes for a value it must not show: `--update-env-vars KEY=VALUE`

# scheme://user:password@host — keep the user, drop the password (which may hold '/', '#', '?': not all are encoded).
URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<password>[^@\s]+)(?=@)", re.I)
# key=value, key: value and "key": "value" inside free text (condition messages, JDBC options, args); a Secret
# Manager resource name after "secret:" is a name, not a value, and is the clue an access error gives.
INLINE_PAIR = re.compile(
    r"(?P<key>\b(?P<name>\w*(?:password|passwd|pwd|secret|token|(?:api|access|private)[-_]?key|credentials?)\w*)\b"
    r"[\"']?\s*[=:]\s*)"
    r"(?!projects/)(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.I,
)
# A secret reference names a secret and a version, never a value, though `smtp-password:2` reads like a pair:
# gcloud's `--set-secrets`/`--update-secrets` lists (`DB_PASSWORD=db-password:2,...`) and `--remove-secrets`
# lists (`DB_PASSWORD,/etc/secrets`), a secret's resource path
# (`projects/P/secrets/S:3`, `.../versions/3`) and Terraform's `secret_key_ref { secret = "S" }`. Only these exact
# shapes; a version is a number or `latest`, or in gcloud's list whatever the service names (a Knative `key` such
# as `database-url`): gcloud reads SECRET:VERSION there, never a value. Anything else around them is masked.
_SECRET_ID = r"[A-Za-z0-9_-]{1,255}"
_SECRET_PATH = r"projects/[\w.:-]+/secrets/" + _SECRET_ID  # \w: a PROJECT_NUMBER placeholder too
_VERSION = r"(?:\d+|latest|VERSION)"  # VERSION: the placeholder a fix writes when no version is enabled
_REFERENCE_END = r"(?=$|[\s;&'\"),\]}])"
_SECRET_ITEM = rf"[\w./-]+=(?:{_SECRET_PATH}|{_SECRET_ID}):[\w.-]{{1,255}}"
SECRET_REFERENCE = re.compile(
    rf"--(?:set|update)-secrets[= ]{_SECRET_ITEM}(?:,{_SECRET_ITEM})*{_REFERENCE_END}"
    rf"|--remove-secrets[= ][\w./-]+(?:,[\w./-]+)*{_REFERENCE_END}"  # env var names and mount paths
    rf"|\b{_SECRET_PATH}(?::{_VERSION}|/versions/{_VERSION})?{_REFERENCE_END}"
    rf"|\bsecret_key_ref\s*\{{[^{{}}]*?\bsecret\s*=\s*\"(?:{_SECRET_PATH}|{_SECRET_ID})\"{_REFERENCE_END}"
)
SECRET_NAME = re.compile(rf"^(?:{_SECRET_PATH}|{_SECRET_ID})$")
_VERSION_ONLY = re.compile(rf"^{_VERSION}$")
# The model's shapes whose `secret` is a secret's name: a reference {secret, version} and a secret volume.
_SECRET_REF_FIELDS = frozenset(f.name for f in dataclasses.fields(SecretRef))
_VOLUME_FIELDS = frozenset(f.name for f in dataclasses.fields(Volume))
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


def is_flag_value(value: str) -> bool:
    """`true`, `off`, `1`...: a switch, never a credential, whatever the name of the key that holds it."""
    return value.lower() in FLAG_WORDS


def is_readable_value(name: str, value: str) -> bool:
    """A value no credential can be, whatever its key: a flag word, or a whole number under a name that counts
    (MAX_TOKENS=4096; DB_PASSWORD=123456 stays masked)."""
    if is_flag_value(value):
        return True
    return value.isdigit() and any(w.upper() in QUANTITY_WORDS for w in _WORD.findall(name))


def _about_a_credential(name: str) -> bool:
    """SECRET_NAME, TOKEN_URL, KEY_PATH: the last word says the value is about a credential, not the credential."""
    words = [w.upper() for w in _WORD.findall(name)]
    return len(words) > 1 and words[-1] in HARMLESS_LAST_WORDS


def fingerprint(value: str) -> Redacted:
    digest = hmac.new(_FINGERPRINT_KEY, value.encode(), hashlib.sha256).hexdigest()[:12]
    return Redacted(digest)


def redact_text(text: str) -> str:
    """Mask passwords inside URLs, key=value pairs and bearer tokens in a free-text string."""
    return _mask(_MARKER.sub(MASK, text), lambda _: MASK)


def redact_env_value(name: str, value: str) -> str | Redacted:
    """An env value as the model keeps it: a fingerprint for credential keys, else the text with markers.

    A password inside a URL (or a key=value pair) becomes a marker carrying its fingerprint, so a changed password
    still differs in the compare; `redact_text` turns every marker into the plain mask before any output. A value
    that is a Secret Manager reference (`DB_PASSWORD=sm://db-password`) names the secret, so it stays readable.
    """
    if is_credential_key(name) and value and not is_readable_value(name, value) and secret_reference(value) is None:
        return fingerprint(value)
    return _mask(value, lambda secret: f"[REDACTED:{fingerprint(secret).fingerprint}]")


def _mask(text: str, mask: Callable[[str], str]) -> str:
    text = URL_PASSWORD.sub(lambda m: m["prefix"] + mask(m["password"]), text)
    text = _outside_references(text, lambda part: _mask_pairs(part, mask))
    return BEARER.sub(lambda m: f"{m['scheme']} {mask(m['value'])}", text)


def _mask_pairs(text: str, mask: Callable[[str], str]) -> str:
    """key=value pairs whose key names a credential; a flag word, or a value under SECRET_NAME, stays (a pair
    inside that value is masked all the same)."""

    def pair(match: re.Match[str]) -> str:
        value = match["value"].strip("\"'")
        if is_readable_value(match["name"], value) or value in _PLACEHOLDERS or _about_a_credential(match["name"]):
            return match["key"] + _mask_pairs(match["value"], mask)
        return match["key"] + mask(match["value"])

    return INLINE_PAIR.sub(pair, text)


def _outside_references(text: str, transform: Callable[[str], str]) -> str:
    """`transform` applied to the text between secret references, which stay as they are."""
    parts, start = [], 0
    for match in SECRET_REFERENCE.finditer(text):
        parts += [transform(text[start : match.start()]), match.group()]
        start = match.end()
    return "".join([*parts, transform(text[start:])])


def redact_tree(value: Any) -> Any:
    """Last line of defence before any output: mask every string in a JSON-like tree.

    Except provenance: where a value came from (`file:field`, `snap.json#secret:db-password:iam`) is written by
    driftcheck from file names and field paths, holds no value, and would read as `password: iam`.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        names = _secret_names(value)
        return {k: v if k in names or _is_provenance(k, v) else _redact_item(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value


def _redact_item(key: str, value: Any) -> Any:
    if isinstance(value, str) and value and is_credential_key(key) and not is_readable_value(key, value):
        return MASK
    return redact_tree(value)


def _secret_names(tree: dict[Any, Any]) -> set[str]:
    """The members of a secret reference ({secret, version}) or a secret volume that name a secret and its
    versions: `secret` under a name like `NEXTAUTH_SECRET` is `nextauth-secret`, no value. Only the model's exact
    shapes, and only a secret id or path and version numbers: anything else is redacted as usual."""
    fields = set(tree)
    if fields == _SECRET_REF_FIELDS:
        kept = {"secret", "version"}
    elif fields == _VOLUME_FIELDS and tree.get("kind") == "secret":
        items = tree.get("items")  # path -> version
        versions = isinstance(items, dict) and all(_VERSION_ONLY.match(str(v)) for v in items.values())
        kept = {"secret", "items"} if versions else {"secret"}
    else:
        return set()
    secret = tree.get("secret")
    return kept if isinstance(secret, str) and SECRET_NAME.match(secret) else set()


def _is_provenance(key: object, value: Any) -> bool:
    """A `source` that is a string, or a {baseline, target} pair of them: the only shapes driftcheck writes."""
    if key != PROVENANCE_KEY:
        return False
    sides = list(value.values()) if isinstance(value, dict) and set(value) <= {"baseline", "target"} else [value]
    return all(side is None or isinstance(side, str) for side in sides)
