"""driftcheck/redact.py on its own: which names hold credentials, what free text loses, what a fingerprint keeps."""

from __future__ import annotations

import pytest

from driftcheck.model import Redacted
from driftcheck.redact import MASK, is_credential_key, redact_args, redact_env_value, redact_text, redact_tree

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


@pytest.mark.parametrize("value", ["true", "False", "yes", "no", "on", "OFF", "enabled", "disabled", "0", "1"])
def test_a_flag_under_a_credential_name_stays_readable(value: str) -> None:
    assert redact_env_value("SECRETS_ACCESS_GRANTED", value) == value
    assert redact_text(f"--secrets-access-granted={value}") == f"--secrets-access-granted={value}"
    assert redact_tree({"API_TOKEN_REQUIRED": value}) == {"API_TOKEN_REQUIRED": value}


@pytest.mark.parametrize("value", ["truest", "10", "yes!", "hunter2", "1234"])
def test_a_value_that_only_starts_like_a_flag_is_masked(value: str) -> None:
    assert isinstance(redact_env_value("DB_PASSWORD", value), Redacted)
    assert redact_text(f"password={value}") == "password=[REDACTED]"
    assert redact_tree({"DB_PASSWORD": value}) == {"DB_PASSWORD": MASK}


def test_a_count_under_a_credential_name_stays_readable_a_numeric_password_does_not() -> None:
    assert redact_env_value("ESM2_MAX_BATCH_TOKENS", "4096") == "4096"
    assert isinstance(redact_env_value("MAX_TOKENS", "4k"), Redacted)  # a count is a whole number
    assert isinstance(redact_env_value("DB_PASSWORD", "123456"), Redacted)  # no word that counts


@pytest.mark.parametrize(
    "text",
    [
        # gcloud's SECRET:VERSION, as fixes write them: names and version numbers
        "gcloud run services update notifier --region us-central1 --update-secrets "
        "SMTP_PASSWORD=projects/123456789012/secrets/smtp-password:2",
        "--update-secrets=DB_PASSWORD=db-password:latest,API_KEY=projects/PROJECT_NUMBER/secrets/api-key:3",
        "--set-secrets /etc/secrets/token=api-token:1,GOOGLE_CLIENT_SECRET=angelvault-secrets:google-client-secret",
        "Permission denied on secret projects/p/secrets/db-password:3 for the revision",
        'secret_key_ref { secret = "nextauth-secret", version = "latest" }',
        "DB_SECRET_NAME=billing-db-password JWT_SECRET_VERSION=3 TOKEN_URL=https://auth.example/token",
        "--update-env-vars STRIPE_API_KEY=VALUE",  # a fix's placeholder
        "--remove-secrets=DB_PASSWORD,/etc/secrets/api-token",  # variable names and mount paths
    ],
)
def test_secret_references_and_names_stay_readable(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--update-secrets=DB_PASSWORD=hunter2", "--update-secrets=[REDACTED]"),  # not SECRET:VERSION: all of it
        ("DB_PASSWORD=db-password:2", "DB_PASSWORD=[REDACTED]"),  # outside gcloud's list: a value, maybe
        ("projects/p/secrets/db-password:hunter2", "projects/p/secrets/db-password:[REDACTED]"),  # no version
        ('secret = "hunter2"', "secret = [REDACTED]"),  # not in a secret_key_ref
        ("DB_SECRET_NAME=password=hunter2", "DB_SECRET_NAME=password=[REDACTED]"),  # a pair inside a name's value
        ("--update-secrets A=a:1 --db-password=hunter2", "--update-secrets A=a:1 --db-password=[REDACTED]"),
    ],
)
def test_credentials_beside_or_shaped_like_references_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_tree_keeps_a_secret_reference_under_a_credential_name() -> None:
    reference = {"value": None, "secret": {"secret": "nextauth-secret", "version": "latest"}}
    volume = {"kind": "secret", "secret": "db-password", "items": {"password.txt": "3"}, "detail": None}
    tree = {"env": {"NEXTAUTH_SECRET": reference}, "volumes": {"db-password": volume}}
    assert redact_tree(tree) == tree


@pytest.mark.parametrize(
    "tree",
    [
        {"secret": "hunter2 pass", "version": "1"},  # not a secret id: a value, maybe
        {"secret": "s3cr3t", "version": "1", "note": "x"},  # not the model's reference: a plain map
        {"kind": "nfs", "secret": "s3cr3t", "items": {}, "detail": None},  # not a secret volume
    ],
)
def test_redact_tree_masks_what_only_looks_like_a_reference(tree: dict[str, object]) -> None:
    assert redact_tree(tree)["secret"] == MASK


# By shape, whatever the name: (text, what redact_text leaves). The corpus across every format is in
# tests/report/test_planted_secrets.py; these pin each pattern's edges.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nnext", "k=[REDACTED]\nnext"),
        ("-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n", "[REDACTED]\\n"),  # JSON-escaped
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQ cut here", "[REDACTED]"),  # no END: masked to the end
        ("use sk_live_51HqLyjWDarjt for it", "use [REDACTED] for it"),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "[REDACTED]"),
        ("rk_live_51HqLyjWDarjtAbc", "[REDACTED]"),
        ("ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ", "[REDACTED]"),
        ("github_pat_11AAAAAAA0bbbbbbbbbbbbbbbbbbbbbbbbbb", "[REDACTED]"),
        ("xoxb-1234567890-0987654321-abcDEF", "[REDACTED]"),
        ("POST https://hooks.slack.com/services/T01ABC/B02DEF/xyzXYZ123456", "POST https://hooks.slack.com/[REDACTED]"),
        ("key AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "key [REDACTED]"),
        ("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "[REDACTED]"),
        ("AKIAIOSFODNN7EXAMPLE", "[REDACTED]"),
        ("glpat-xYz12AbC34dEf56GhI78jK", "[REDACTED]"),
        ("npm_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJk", "[REDACTED]"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl_-x", "[REDACTED]"),
        ("mysql -u root -p hunter2 db", "mysql -u root -p [REDACTED] db"),
        ("docker run -p 8080:8080 img", "docker run -p [REDACTED] img"),  # a port, maybe: lost, on purpose
        ("run --password hunter2 --token t0k", "run --password [REDACTED] --token [REDACTED]"),
        ("--api-key k3y --log-level debug", "--api-key [REDACTED] --log-level debug"),
        ("--password=hunter2", "--password=[REDACTED]"),
        ("https://deploy:ghs_notreallyatoken@git.example/x.git", "https://deploy:[REDACTED]@git.example/x.git"),
    ],
)  # fmt: skip
def test_credentials_are_masked_by_their_shape(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "image@sha256:4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",  # a digest: lowercase hex
        "commit 9f8e7d6c5b4a39f8e7d6c5b4a39f8e7d6c5b4a3f",  # a git SHA: 40 characters, no uppercase
        "operation 3c1f9e2a-5b7d-4e80-a1c2-9f6d8b4e2a71 revision billing-00007-mon",
        "projects/netra-test/locations/europe-north1/connectors/billing-conn",
        "--secrets-access-granted true --token-url https://auth.example/token --log-level debug",
        "--update-env-vars API_TOKEN=VALUE --password VALUE",  # a fix's placeholders
        "docker run -p",  # a flag with no value
        "sk_live_ prefix alone, ghp_short, xoxb-, AIza",
    ],
)
def test_what_only_resembles_a_credential_shape_stays_readable(text: str) -> None:
    assert redact_text(text) == text


def test_a_shaped_value_under_a_harmless_name_still_differs_in_the_model() -> None:
    first = redact_env_value("FEATURE_CFG", "ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ")
    other = redact_env_value("FEATURE_CFG", "ghp_zZ3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ")
    assert isinstance(first, str) and first.startswith("[REDACTED:") and first != other
    assert redact_text(first) == MASK


def test_two_token_arguments_lose_their_values_in_a_list() -> None:
    args = [
        "--password", "hunter2", "-p", "pw", "--token", "t", "--api-key", "k", "--log-level", "debug",
        "--secrets-access-granted", "true", "--db-password", "--next", "AKIAIOSFODNN7EXAMPLE", "plainsecret",
    ]  # fmt: skip
    assert redact_args(args, lambda _: MASK) == [
        "--password", MASK, "-p", MASK, "--token", MASK, "--api-key", MASK, "--log-level", "debug",
        "--secrets-access-granted", "true", "--db-password", "--next", "AKIAIOSFODNN7EXAMPLE", MASK,
    ]  # fmt: skip
    assert redact_tree({"args": args})["args"][14] == MASK  # the key id itself, by its shape


@pytest.mark.parametrize("password", ["-x9Qz!wT4", "--9Qz!wT4", "-hunter2"])
def test_a_credential_that_starts_with_a_dash_is_masked(password: str) -> None:
    """getopt takes the word after `--password` whatever it is; only a long flag is read as the next flag."""
    assert redact_args(["--password", password, "--verbose"], lambda _: MASK) == ["--password", MASK, "--verbose"]
    assert redact_args(["--password", "--verbose"], lambda _: MASK) == ["--password", "--verbose"]
    assert password not in redact_text(f"psql --password {password} --host db")
    assert "--host db" in redact_text(f"psql --password {password} --host db")
    assert redact_text("run --password --verbose") == "run --password --verbose"
