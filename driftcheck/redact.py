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

By shape, whatever the name (`SHAPES`), in env values, args and every string of a report: PEM private key blocks
(the whole block), Stripe `sk_live_`/`sk_test_`/`rk_live_`/`whsec_`, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/
`github_pat_`, Slack `xox?-` tokens and webhook paths, Google `AIza` API keys, `GOCSPX-` client secrets and `ya29.`
access tokens, AWS `AKIA`/`ASIA` key ids with the 40-character secret beside them (and any 40-character
mixed-case-and-digit base64 run on its own), GitLab `glpat-` and its kin, npm `npm_`, PyPI `pypi-AgEI...`,
OpenAI/Anthropic `sk-...`, SendGrid `SG.`, Twilio `SK`, Telegram bot tokens, Hugging Face `hf_`, and JWTs
(`eyJ...` `.` ...). And the two-token argument forms (`--password VALUE`, `--token VALUE`, `--api-key VALUE`, any
flag whose name names a credential, and `-p VALUE`): in free text, and across an args/command list, where the flag
and its value are two items (`redact_args`; the compare masks them too, so a per-item difference never shows one).
`-p` is mysql's password flag and many tools' port flag: `-p 8080` is masked too, a value lost rather than a leak.
What shape detection leaves alone, on purpose: image digests (`sha256:` + 64 lowercase hex: no uppercase), revision
names, UUID-like operation ids (dashes), connector and secret resource paths, git SHAs (lowercase hex). No generic
entropy test: it flags digests and ids by the dozen, and a reader needs those to follow an incident.

Why our own table rather than detect-secrets (1.5.0, May 2024, the reference detector, whose plugins these patterns
follow, with gitleaks' rules; it installs here with pip): importing any of its plugins imports `requests` (for
online verification), 340 modules and ~120 ms before the first compare, on every offline run; its plugins yield
matched values, not spans to mask; and its regexes miss what a Cloud Run service holds: no Google `AIza` key, no
`sk_test_` or longer Stripe keys, no `github_pat_`, `npm_` only inside `.npmrc`, a PEM header but not its body, a
JWT cut before its signature. Its high-entropy plugins would mask every image digest. So the patterns live here,
each with a test (tests/report/test_planted_secrets.py plants one of every shape and greps every format).

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
from collections.abc import Callable, Sequence
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
# A scheme starts where a word does: tried at every letter of a long run, the match took quadratic time.
URL_PASSWORD = re.compile(
    r"(?P<prefix>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<password>[^@\s]+)(?=@)", re.I
)
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
# Credential shapes, whatever the key that holds them (see the docstring for sources and what is left alone).
SHAPES = re.compile(
    "|".join(
        (
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"  # the whole block; a cut one to the end
            r"(?:.*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|.*)",
            r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{10,}",  # Stripe secret and restricted keys
            r"\bwhsec_[0-9A-Za-z]{16,}",  # Stripe webhook signing secret
            r"\bgh[pousr]_[0-9A-Za-z]{30,}",  # GitHub tokens
            r"\bgithub_pat_[0-9A-Za-z_]{30,}",  # GitHub fine-grained token
            r"\bxox[abposre]-[0-9A-Za-z-]{10,}",  # Slack tokens
            r"(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[0-9A-Za-z_/-]{16,}",  # Slack webhook path
            r"\bAIza[0-9A-Za-z_-]{30,}",  # Google API key
            r"\bGOCSPX-[0-9A-Za-z_-]{20,}",  # Google OAuth client secret
            r"\bya29\.[0-9A-Za-z_-]{20,}",  # Google OAuth access token
            r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}\b"  # AWS key id, and the secret beside it
            r"(?:[\s:=,;|\"']{1,4}[0-9A-Za-z/+]{40}(?![0-9A-Za-z/+=]))?",
            r"(?<![0-9A-Za-z/+=])(?=[0-9A-Za-z/+]{0,39}[A-Z])(?=[0-9A-Za-z/+]{0,39}[a-z])(?=[0-9A-Za-z/+]{0,39}[0-9])"
            r"[0-9A-Za-z/+]{40}(?![0-9A-Za-z/+=])",  # an AWS secret access key on its own
            r"\bgl(?:pat|dt|ptt|rt|cbt|oas|ft|imt|soat|agent)-[0-9A-Za-z_-]{20,}",  # GitLab tokens
            r"\bnpm_[0-9A-Za-z]{36}\b",  # npm access token
            r"\bpypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{40,}",  # PyPI API token
            r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[0-9A-Za-z_-]{32,}",  # OpenAI, Anthropic
            r"\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}",  # SendGrid
            r"\bSK[0-9a-fA-F]{32}\b",  # Twilio API key
            r"\b\d{8,10}:AA[0-9A-Za-z_-]{30,}",  # Telegram bot token
            r"\bhf_[0-9A-Za-z]{30,}",  # Hugging Face
            r"\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}(?:\.[0-9A-Za-z_-]*)?=*",  # JWT, signature and all
        )
    ),
    re.DOTALL,
)
# A flag and its value as two tokens in free text: `--password hunter2`, `-p hunter2`. The flag's name must name a
# credential (is_credential_key), or be mysql's `-p`. A value that is a flag word, or already masked, stays.
# A value may start with a dash (`--password -x9Q!`: getopt takes the next word whatever it is); only a long
# flag (`--verbose`) is taken for the next flag.
FLAG_AND_VALUE = re.compile(r"(?<![\w-])(?P<flag>--[A-Za-z][\w-]*|-p)(?P<gap>[ \t]+)(?P<value>(?!--[A-Za-z]|\[)\S+)")
_LONG_FLAG = re.compile(r"^--[A-Za-z]")
_FLAG_ITEM = re.compile(r"^(?:--[A-Za-z][\w-]*|-p)$")
_AWS_KEY_ID = re.compile(r"^(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}$")
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


# An absolute path to a file (GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa/key.json): where a credential is, not one.
# Two segments at least and a file extension, so a base64 string that happens to start with "/" is not taken for one.
_FILE_PATH = re.compile(r"(?:/[A-Za-z0-9_.@-]{1,64}){2,}\.[A-Za-z0-9]{2,5}")


def is_readable_value(name: str, value: str) -> bool:
    """A value no credential can be, whatever its key: a flag word, a file path, or a whole number under a name
    that counts (MAX_TOKENS=4096; DB_PASSWORD=123456 stays masked)."""
    if is_flag_value(value) or _FILE_PATH.fullmatch(value):
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
    text = SHAPES.sub(lambda m: mask(m.group()), text)
    text = URL_PASSWORD.sub(lambda m: m["prefix"] + mask(m["password"]), text)
    text = _outside_references(text, lambda part: _mask_flags(_mask_pairs(part, mask), mask))
    return BEARER.sub(lambda m: f"{m['scheme']} {mask(m['value'])}", text)


def _mask_flags(text: str, mask: Callable[[str], str]) -> str:
    """`--password VALUE`, `-p VALUE` in free text: the value of a flag that names a credential."""

    def flag(match: re.Match[str]) -> str:
        if not _hides_its_value(match["flag"], match["value"].strip("\"'")):
            return match.group()
        return match["flag"] + match["gap"] + mask(match["value"])

    return FLAG_AND_VALUE.sub(flag, text)


def _hides_its_value(flag: str, value: str) -> bool:
    """Whether `flag VALUE` holds a credential: the flag names one, and the value is not a flag word, a fix's
    placeholder or already masked."""
    name = flag.lstrip("-")
    if flag != "-p" and not is_credential_key(name):  # TOKEN_URL, KEY_PATH: about a credential, not one
        return False
    readable = is_readable_value(name, value) or value in _PLACEHOLDERS
    return bool(value) and not readable and "[REDACTED" not in value


def redact_args(items: Sequence[Any], mask: Callable[[str], Any]) -> list[Any]:
    """An args/command list with the value after a credential flag (`--password`, `hunter2`; `-p`, `hunter2`) or
    after an AWS key id (its secret) replaced by `mask(value)`; every other item as it is."""
    masked = list(items)
    for index in range(1, len(masked)):
        before, item = masked[index - 1], masked[index]
        if not (isinstance(before, str) and isinstance(item, str)):
            continue
        if _LONG_FLAG.match(item):  # the next flag, not a value (`-x9Q!` may well be one)
            continue
        if (_FLAG_ITEM.match(before) and _hides_its_value(before, item)) or (
            _AWS_KEY_ID.match(before) and item and "[REDACTED" not in item
        ):
            masked[index] = mask(item)
    return masked


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
        return [redact_tree(v) for v in redact_args(value, lambda _: MASK)]
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
