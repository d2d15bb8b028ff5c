"""driftcheck/redact.py on its own: which names hold credentials, what free text loses, what a fingerprint keeps."""

from __future__ import annotations

import pytest

from driftcheck.model import Redacted
from driftcheck.redact import MASK, is_credential_key, redact_env_value, redact_text, redact_tree

CREDENTIAL_NAMES = [
    "DB_PASSWORD", "dbPassword", "db-password", "PGPASSWORD", "MYSQL_PWD", "DB_PASS", "API_TOKEN",
    "GITHUB_TOKEN", "JWT_SECRET", "AWS_SECRET_ACCESS_KEY", "API_KEY", "STRIPE_APIKEY", "KEY", "SIGNING_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS", "private_key", "ENCRYPTION_KEY_ID", "WIFI_PSK",
]  # fmt: skip
# Names that are about a credential, or only look like one: shown, so their changes stay readable.
HARMLESS_NAMES = [
    "DB_HOST", "DATABASE_URL", "REDIS_URL", "KEYCLOAK_URL", "KEYCLOAK_REALM", "BYPASS_CACHE", "COMPASS_URL",
    "MONKEY_MODE", "TOKEN_URL", "SECRET_NAME", "PASSWORD_FILE", "JWT_SECRET_VERSION", "X_API_KEY_HEADER",
    "SERVICE_NAME", "PORT", "known",
]  # fmt: skip


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_credential_names(name: str) -> None:
    assert is_credential_key(name)


@pytest.mark.parametrize("name", HARMLESS_NAMES)
def test_harmless_names(name: str) -> None:
    assert not is_credential_key(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://user:hunter2pass@10.0.0.5:5432/db", "postgresql://user:[REDACTED]@10.0.0.5:5432/db"),
        ("redis://:s3cr3tredis@10.0.0.9:6379", "redis://:[REDACTED]@10.0.0.9:6379"),
        ("mysql://u:pa/ss#1@h/db", "mysql://u:[REDACTED]@h/db"),  # an unencoded '/' does not end the password
        ("jdbc:postgresql://h/db?password=p4ss&ssl=1", "jdbc:postgresql://h/db?password=[REDACTED]&ssl=1"),
        ("host=db password=plain dbname=x", "host=db password=[REDACTED] dbname=x"),
        ('{"client_secret": "abc123"}', '{"client_secret": [REDACTED]}'),
        ("password='two words'", "password=[REDACTED]"),
        ("--api-key=AIzaSyA1 --db-password=x", "--api-key=[REDACTED] --db-password=[REDACTED]"),
        ("Authorization: Bearer tok_live_abcdef123456", "Authorization: Bearer [REDACTED]"),
    ],
)  # fmt: skip
def test_redact_text_masks_credentials_in_free_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://api_user@10.20.0.3:5432/netra",  # a user and no password
        "https://api-x7kq2p4vda-uc.a.run.app",
        "spec.template.spec.containers[0].env[3].value_from.secret_key_ref.name: Permission denied on secret: "
        "projects/123/secrets/db-password/versions/3 for Revision service account api@p.iam.gserviceaccount.com",
        "the container failed to start and listen on the port defined by PORT=8080",
    ],
)
def test_redact_text_leaves_what_holds_no_credential(text: str) -> None:
    assert redact_text(text) == text


def test_credential_env_value_is_a_fingerprint_that_tells_values_apart() -> None:
    first, same, other = (redact_env_value("DB_PASSWORD", v) for v in ("plainpassword", "plainpassword", "other"))
    assert isinstance(first, Redacted) and str(first) == MASK
    assert "plainpassword" not in repr(first)
    assert first == same and first != other


def test_password_in_a_url_still_differs_after_redaction_but_never_shows() -> None:
    """A rotated password is a change the compare must see; the report must not see the password."""
    before = redact_env_value("DATABASE_URL", "postgresql://user:hunter2pass@10.0.0.5:5432/db")
    after = redact_env_value("DATABASE_URL", "postgresql://user:otherpass99@10.0.0.5:5432/db")
    again = redact_env_value("DATABASE_URL", "postgresql://user:hunter2pass@10.0.0.5:5432/db")
    assert isinstance(before, str) and isinstance(after, str)
    assert before != after and before == again
    assert "hunter2pass" not in before and "otherpass99" not in after
    assert redact_text(before) == redact_text(after) == "postgresql://user:[REDACTED]@10.0.0.5:5432/db"


def test_harmless_env_value_is_kept_as_written() -> None:
    assert redact_env_value("DB_HOST", "10.0.0.5") == "10.0.0.5"
    assert redact_env_value("DB_PASSWORD", "") == ""  # nothing to hide; an empty value is itself a clue


def test_redact_tree_masks_by_key_and_by_content_at_any_depth() -> None:
    tree = {
        "env": {"API_TOKEN": "tok_live_abcdef123456", "DB_HOST": "10.0.0.5", "DB_PASSWORD": None},
        "messages": ["connect to redis://:s3cr3tredis@10.0.0.9:6379 failed", 3, True],
        "source": {"target": "staging.json#secret:db-password:iam"},  # provenance names a secret, holds no value
        "env_named_source": {"source": {"value": "password=hunter2"}},  # not provenance: an env var called source
    }
    assert redact_tree(tree) == {
        "env": {"API_TOKEN": MASK, "DB_HOST": "10.0.0.5", "DB_PASSWORD": None},
        "messages": ["connect to redis://:[REDACTED]@10.0.0.9:6379 failed", 3, True],
        "source": {"target": "staging.json#secret:db-password:iam"},
        "env_named_source": {"source": {"value": "password=[REDACTED]"}},
    }
