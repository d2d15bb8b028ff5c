""".tf folders (python-hcl2): literals compare like any other source; what only a plan would know is Unknown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES, INCIDENT, ROOT, run_cli

from driftcheck.compare.diff import compare_services
from driftcheck.errors import InputError
from driftcheck.model import Inventory, SecretRef, Service, Unknown, to_plain
from driftcheck.ruleset.evaluate import evaluate
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.evidence import load_evidence
from driftcheck.sources.terraform_hcl import PLACEHOLDER, load_tf_dir, service_at

HCL = FIXTURES / "terraform-hcl"
RULES = load_ruleset()
EXPECTED = RULES.expected_differences
EXPORTED = load_evidence([INCIDENT]).services


def declared(folder: str, address: str) -> Service:
    return service_at(load_tf_dir(HCL / folder), address)


def unknown_leaves(tree: object, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, Unknown):
        return {prefix: tree.reason}
    if isinstance(tree, dict):
        found: dict[str, str] = {}
        for key, value in tree.items():
            found.update(unknown_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {}


def strings(tree: object) -> set[str]:
    if isinstance(tree, str):
        return {tree}
    if isinstance(tree, dict):
        return {s for v in tree.values() for s in strings(v)}
    if isinstance(tree, list):
        return {s for v in tree for s in strings(v)}
    return set()


def _service_module(root: Path, variable: str, attributes: str, image: str) -> Path:
    """root/modules/svc: a local module declaring one v2 service (`attributes`, then `image`), with one input."""
    module = root / "modules" / "svc"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        f'variable "{variable}" {{}}\nresource "google_cloud_run_v2_service" "s" {{\n{attributes}'
        f"  template {{\n    containers {{\n      image = {image}\n    }}\n  }}\n}}\n"
    )
    return module


# --- the same service, declared and exported ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "address"),
    [("auth", "google_cloud_run_v2_service.auth"), ("auth-v1", "google_cloud_run_service.auth")],
)
def test_declared_auth_compares_equal_to_its_export(folder: str, address: str) -> None:
    tf = declared(folder, address)
    assert compare_services(tf, EXPORTED["auth"], EXPECTED) == []
    assert compare_services(EXPORTED["auth"], tf, EXPECTED) == []


def test_declared_auth_holds_the_exported_values_not_defaults() -> None:
    """Guard against a vacuous equality: the declared values are really read, and differ from the failing peer."""
    tf = declared("auth", "google_cloud_run_v2_service.auth")
    container = tf.containers["ingress"]
    assert (tf.project, tf.region, tf.timeout_s, tf.min_instances, tf.max_instances) == (
        "netra-staging", "us-central1", 3600, 1, 20,
    )  # fmt: skip
    assert tf.vpc.connector == "projects/netra-staging/locations/us-central1/connectors/staging-connector"
    assert tf.cloudsql_instances == ("netra-staging:us-central1:staging-shared-postgres",)
    assert container.env["DB_PASSWORD"].secret == SecretRef("db-password", "3")
    assert (container.cpu, container.memory_bytes, container.startup_cpu_boost) == (1.0, 2**30, True)
    paths = {c.path for c in compare_services(EXPORTED["api"], tf, EXPECTED)}
    assert "vpc.path" in paths  # api lost its connector: the .tf form shows the same root cause as the export


def test_rules_rank_the_declared_peer_like_the_exported_one() -> None:
    tf = declared("auth", "google_cloud_run_v2_service.auth")
    inventory = load_evidence([INCIDENT])
    from_tf = evaluate(EXPORTED["api"], [tf], inventory, RULES)
    from_export = evaluate(EXPORTED["api"], [EXPORTED["auth"]], inventory, RULES)
    assert [f.rule for f in from_tf.findings] == [f.rule for f in from_export.findings]
    assert from_tf.findings[0].rule == "vpc-access-missing"


def test_unknown_collections_are_iterable_where_rules_walk_them() -> None:
    tf = declared("unresolved", "google_cloud_run_v2_service.auth")
    assert isinstance(tf.cloudsql_instances, Unknown) and list(tf.cloudsql_instances) == []


def test_connector_and_sql_instance_are_read_with_their_unknowns() -> None:
    inventory = load_tf_dir(HCL / "auth")
    connector = inventory.connectors["projects/netra-staging/locations/us-central1/connectors/staging-connector"]
    assert (connector.network, connector.region) == ("default", "us-central1")
    assert isinstance(connector.state, Unknown)  # only the live resource (or an export) has a state
    sql = inventory.sql_instances["netra-staging:us-central1:staging-shared-postgres"]
    assert (sql.database_version, sql.public_ip) == ("POSTGRES_14", False)
    assert sql.private_network == Unknown("unresolved: var.private_network")
    assert connector.provenance["network"] == f"{HCL / 'auth' / 'main.tf'}:89"


def test_v1_and_v2_declarations_compare_equal() -> None:
    v1 = declared("auth-v1", "google_cloud_run_service.auth")
    v2 = declared("auth", "google_cloud_run_v2_service.auth")
    assert compare_services(v1, v2, EXPECTED) == []


def test_provenance_is_file_and_line_and_names_the_variables_used() -> None:
    tf = declared("auth", "google_cloud_run_v2_service.auth")
    assert tf.origin == str(HCL / "auth" / "main.tf")
    assert tf.provenance["timeout_s"] == "17"  # the attribute's own line
    assert tf.provenance["containers.ingress.env.DB_PASSWORD.secret.version"] == "72"
    assert tf.provenance["metadata.annotations"] == "7"  # nothing declared: the resource block's line
    assert tf.provenance["region"] == "9 (var.region from default in variables.tf)"
    assert "var.project from terraform.tfvars" in tf.provenance["project"]
    changes = {c.path: c for c in compare_services(EXPORTED["api"], tf, EXPECTED)}
    assert changes["vpc.path"].baseline_source.startswith(f"{HCL / 'auth' / 'main.tf'}:27 (var.project from")


# --- unresolved references ----------------------------------------------------------------------------------------


def test_unresolved_references_are_unknown_with_the_expression() -> None:
    tf = declared("unresolved", "google_cloud_run_v2_service.auth")
    unknown = unknown_leaves(to_plain(tf))
    assert unknown["ingress"] == "unresolved: local.ingress"
    assert unknown["min_instances"] == "unresolved: var.min_instances"
    assert unknown["vpc.connector"] == "unresolved: google_vpc_access_connector.staging.id"
    assert unknown["cloudsql_instances"] == "unresolved: google_sql_database_instance.shared.connection_name"
    assert unknown["containers.ingress.image"] == "unresolved: var.image"
    assert unknown["containers.ingress.memory_bytes"] == 'unresolved: format("%dGi", 1)'
    assert unknown["containers.ingress.env.DB_HOST.value"].endswith("shared.private_ip_address")
    assert unknown["containers.ingress.env.DB_PASSWORD.secret.secret"].endswith("db_password.secret_id")
    # an interpolation names only what is unresolved: the literal rest of a URL may hold a password
    url = unknown["containers.ingress.env.DATABASE_URL.value"]
    assert url == "unresolved: ${random_password.db.result} in a string"
    assert not [s for s in strings(to_plain(tf)) if PLACEHOLDER in s]  # the stand-ins parsers saw stay out


def test_unresolved_references_produce_no_change() -> None:
    """Everything else is auth's own configuration, so nothing may differ; the literals around them still compare."""
    tf = declared("unresolved", "google_cloud_run_v2_service.auth")
    assert compare_services(tf, EXPORTED["auth"], EXPECTED) == []
    assert compare_services(EXPORTED["auth"], tf, EXPECTED) == []
    assert tf.containers["ingress"].env["APP_ENV"].value == "staging"
    assert "service_account" in {c.path for c in compare_services(tf, EXPORTED["api"], EXPECTED)}


def test_dynamic_block_over_a_variable_makes_the_whole_map_unknown() -> None:
    tf = declared("unresolved", "google_cloud_run_v2_service.auth_dynamic")
    env = tf.containers["ingress"].env
    assert isinstance(env, Unknown) and env.reason == 'unresolved: dynamic "env" for_each = var.extra_env'
    assert list(env.values()) == []  # rules iterate it like an empty map
    changes = compare_services(tf, EXPORTED["auth"], EXPECTED)
    assert changes and not [c for c in changes if ".env" in c.path]


def test_unresolved_provider_project_makes_a_short_connector_unknown() -> None:
    tf = declared("unresolved", "google_cloud_run_service.legacy")
    assert tf.project == Unknown("unresolved: provider.google.project")
    assert isinstance(tf.vpc.connector, Unknown) and tf.vpc.path == "connector"
    assert tf.max_instances == Unknown("unresolved: var.max_scale")
    assert not [c for c in compare_services(tf, EXPORTED["auth"], EXPECTED) if c.path.startswith("vpc")]


# --- count, for_each, dynamic, modules ----------------------------------------------------------------------------


def test_for_each_count_and_modules_give_one_service_per_instance() -> None:
    inventory = load_tf_dir(HCL / "fleet")
    addresses = sorted(str(s.metadata.address) for s in inventory.services.values())
    assert addresses == [
        "google_cloud_run_service.shard[0]",
        "google_cloud_run_service.shard[1]",
        'google_cloud_run_v2_service.tier["blue"]',
        'google_cloud_run_v2_service.tier["green"]',
        "module.jobs.google_cloud_run_v2_service.worker",
    ]
    blue = service_at(inventory, 'google_cloud_run_v2_service.tier["blue"]')
    assert blue.name == "api-blue" and blue.containers["ingress"].image.endswith("api:blue")
    assert {k: v.value for k, v in blue.containers["ingress"].env.items()} == {
        "TIER": "blue", "LOG_LEVEL": "info", "REGION": "us-central1",  # the literal dynamic block, expanded
    }  # fmt: skip
    assert service_at(inventory, "google_cloud_run_service.shard[1]").containers["ingress"].env["SHARD"].value == "1"


def test_auto_tfvars_override_defaults_and_module_inputs_reach_the_module() -> None:
    inventory = load_tf_dir(HCL / "fleet")
    blue = service_at(inventory, 'google_cloud_run_v2_service.tier["blue"]')
    assert blue.min_instances == 2 and "prod.auto.tfvars" in blue.provenance["min_instances"]
    worker = service_at(inventory, "module.jobs.google_cloud_run_v2_service.worker")
    assert (worker.name, worker.max_instances, worker.project) == ("jobs", 2, "netra-staging")
    assert worker.origin == str(HCL / "fleet" / "modules" / "worker" / "main.tf")


def test_what_cannot_be_expanded_or_followed_is_said_not_guessed() -> None:
    inventory = load_tf_dir(HCL / "fleet")
    assert "count = var.canaries is not a literal" in inventory.errors["google_cloud_run_v2_service.canary"]
    assert "not followed" in inventory.errors["module.registry"]
    with pytest.raises(InputError, match=r"count = var\.canaries"):
        service_at(inventory, "google_cloud_run_v2_service.canary")
    with pytest.raises(InputError, match=r"services declared: .*shard"):
        service_at(inventory, "google_cloud_run_v2_service.nope")


def test_given_tfvars_file_wins_over_defaults(tmp_path: Path) -> None:
    override = tmp_path / "staging.tfvars"
    override.write_text("min_instances = 5\n")
    blue = service_at(load_tf_dir(HCL / "fleet", (override,)), 'google_cloud_run_v2_service.tier["blue"]')
    assert blue.min_instances == 5 and "staging.tfvars" in blue.provenance["min_instances"]


# --- provider defaults: project and region, aliases ----------------------------------------------------------------


def test_a_service_without_location_takes_the_providers_region() -> None:
    inventory = load_tf_dir(HCL / "provider-region")
    api = service_at(inventory, "google_cloud_run_v2_service.api")
    assert (api.project, api.region) == ("netra-staging", "europe-west1")
    assert api.provenance["region"] == "18 (the google provider's region, var.region from default in main.tf)"
    us = service_at(inventory, "google_cloud_run_v2_service.api_us")  # provider = google.us
    assert (us.project, us.region) == ("netra-us", "us-central1")
    assert "the google.us provider's region" in us.provenance["region"]
    asia = service_at(inventory, "google_cloud_run_v2_service.api_asia")  # its own location wins
    assert (asia.project, asia.region) == ("netra-us", "asia-east1")


def test_an_undeclared_provider_alias_leaves_project_and_region_unknown() -> None:
    elsewhere = declared("provider-region", "google_cloud_run_v2_service.api_elsewhere")
    assert elsewhere.region == Unknown("unresolved: provider.google.elsewhere.region")
    assert elsewhere.project == Unknown("unresolved: provider.google.elsewhere.project")
    paths = {c.path for c in compare_services(elsewhere, EXPORTED["auth"], EXPECTED)}
    assert paths and not paths & {"region", "project"}


def test_modules_inherit_the_default_provider_or_the_one_passed(tmp_path: Path) -> None:
    _service_module(tmp_path, "name", "  name = var.name\n", '"img"')
    (tmp_path / "main.tf").write_text(
        'provider "google" {\n  project = "p"\n  region = "europe-west1"\n}\n'
        'provider "google" {\n  alias = "us"\n  project = "p-us"\n  region = "us-east1"\n}\n'
        'module "eu" {\n  source = "./modules/svc"\n  name = "eu"\n}\n'
        'module "us" {\n  source = "./modules/svc"\n  name = "us"\n  providers = {\n    google = google.us\n  }\n}\n'
    )
    inventory = load_tf_dir(tmp_path)
    eu = service_at(inventory, "module.eu.google_cloud_run_v2_service.s")
    us = service_at(inventory, "module.us.google_cloud_run_v2_service.s")
    assert (eu.project, eu.region, us.project, us.region) == ("p", "europe-west1", "p-us", "us-east1")


def test_cli_compares_services_placed_by_their_providers() -> None:
    folder = HCL / "provider-region"
    run = run_cli(
        "compare",
        f"{folder}/#google_cloud_run_v2_service.api_us",
        f"{folder}/#google_cloud_run_v2_service.api",
        "--format",
        "json",
    )
    assert run.code in (0, 1), run.stderr
    differences = {c["path"]: (c["target"], c["baseline"]) for c in run.json()["other_differences"]}
    assert differences == {"region": ("us-central1", "europe-west1"), "project": ("netra-us", "netra-staging")}


# --- Secret Manager declarations ------------------------------------------------------------------------------------


def test_secrets_land_in_the_inventory_with_their_grants() -> None:
    inventory = load_tf_dir(HCL / "secrets")
    db, stripe = inventory.secrets["db-password"], inventory.secrets["stripe-api-key"]
    accessor = "roles/secretmanager.secretAccessor"
    assert db.project == "netra-staging" and stripe.project == "netra-staging"  # the provider's, via var.project
    assert db.bindings == {accessor: ("serviceAccount:api@netra-staging.iam.gserviceaccount.com",)}  # _iam_member
    assert stripe.bindings == {accessor: ("serviceAccount:billing@netra-staging.iam.gserviceaccount.com",)}  # _binding
    assert db.provenance["bindings"] == f"{HCL / 'secrets' / 'main.tf'}:27"
    # `secret = google_secret_manager_secret.db.id` resolved; the version's number is the API's, so never guessed
    assert isinstance(db.versions, Unknown) and "google_secret_manager_secret_version.db" in db.versions.reason
    assert db.provenance["versions"] == f"{HCL / 'secrets' / 'main.tf'}:19"
    env = service_at(inventory, "google_cloud_run_v2_service.api").containers["ingress"].env
    assert env["DB_PASSWORD"].secret == SecretRef("db-password", "latest")  # .secret_id resolved in the service too


def test_a_secret_payload_is_never_read_or_shown() -> None:
    payload = "Hunter2-inline-payload"
    assert payload in (HCL / "secrets" / "main.tf").read_text()  # the fixture does declare it
    inventory = load_tf_dir(HCL / "secrets")
    assert payload not in repr(inventory) and payload not in repr(to_plain(inventory.secrets))
    run = run_cli(
        "compare",
        f"{HCL / 'secrets'}/#google_cloud_run_v2_service.api",
        f"{HCL / 'provider-region'}/#google_cloud_run_v2_service.api",
        "--format",
        "json",
    )
    assert run.code in (0, 1), run.stderr
    assert payload not in run.stdout and payload not in run.stderr


def test_secret_access_rule_decides_from_a_tf_folder() -> None:
    """Before, a .tf folder gave no secrets: every secret reference was 'could not verify'."""
    inventory = load_tf_dir(HCL / "secrets")
    api = service_at(inventory, "google_cloud_run_v2_service.api")
    before = evaluate(api, [], Inventory(), RULES)
    assert [u.rule for u in before.unverified].count("secret-access-denied") == 2
    result = evaluate(api, [], inventory, RULES)
    denied = [f for f in result.findings if f.rule == "secret-access-denied"]
    assert len(denied) == 1 and "stripe-api-key" in denied[0].explanation  # db-password is granted to api
    assert "secret-access-denied" not in {u.rule for u in result.unverified}
    # the version numbers are not in a .tf: that rule still says it cannot verify, never "ABSENT"
    assert "secret-version-unusable" not in {f.rule for f in result.findings}


def test_a_version_or_grant_on_an_unresolved_secret_leaves_every_secret_unknown() -> None:
    inventory = load_tf_dir(HCL / "secrets-unresolved")
    db = inventory.secrets["db-password"]
    assert isinstance(db.bindings, Unknown) and "data.google_secret_manager_secret.shared.id" in db.bindings.reason
    assert isinstance(db.versions, Unknown) and 'per_tenant["acme"].id' in db.versions.reason
    worker = service_at(inventory, "google_cloud_run_v2_service.worker")
    result = evaluate(worker, [], inventory, RULES)
    assert not [f for f in result.findings if f.rule.startswith("secret-")]
    assert {u.rule for u in result.unverified} >= {"secret-access-denied", "secret-version-unusable"}


def test_a_grant_with_an_unresolved_member_or_count_makes_the_policy_unknown(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "google" {\n  project = "p"\n  region = "us-central1"\n}\n'
        'resource "google_secret_manager_secret" "a" {\n  secret_id = "a"\n}\n'
        'resource "google_secret_manager_secret_iam_member" "a" {\n  secret_id = google_secret_manager_secret.a.id\n'
        '  role = "roles/secretmanager.secretAccessor"\n'
        '  member = "serviceAccount:${google_service_account.api.email}"\n}\n'
        'resource "google_cloud_run_v2_service" "s" {\n  name = "s"\n'
        '  template {\n    containers {\n      image = "img"\n    }\n  }\n}\n'
    )
    assert isinstance(load_tf_dir(tmp_path).secrets["a"].bindings, Unknown)
    (tmp_path / "grants.tf").write_text(
        'resource "google_secret_manager_secret_iam_member" "many" {\n  count = var.n\n  secret_id = "b"\n'
        '  role = "roles/secretmanager.secretAccessor"\n  member = "user:x@example.com"\n}\n'
        'resource "google_secret_manager_secret" "b" {\n  secret_id = "b"\n}\n'
    )
    assert "count = var.n" in str(load_tf_dir(tmp_path).secrets["b"].bindings)


# --- bad input ----------------------------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(InputError) as caught:
        load_tf_dir(HCL / "bad-syntax")
    message = str(caught.value)
    assert message.startswith(f"{HCL / 'bad-syntax' / 'main.tf'}:4: HCL syntax error")
    assert "\n" not in message


def test_folder_without_tf_files_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.tf files"):
        load_tf_dir(tmp_path)


# --- real-world .tf files -----------------------------------------------------------------------------------------

REAL = sorted({p.parent for p in CORPUS.rglob("*.tf")}) if CORPUS.is_dir() else []


@pytest.mark.skipif(not REAL, reason="the shared corpus holds no .tf files")
@pytest.mark.parametrize("folder", REAL, ids=str)
def test_real_tf_folders_load_or_fail_as_input_errors(folder: Path) -> None:
    try:
        inventory = load_tf_dir(folder)
    except InputError as exc:
        assert str(exc)
    else:
        assert inventory.services or inventory.errors


# --- python-hcl2's spelling, undone in one place --------------------------------------------------------------------


def test_quotes_escapes_heredocs_and_block_markers_are_normalized(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "google_cloud_run_v2_service" "api" {\n'
        '  name     = "api"\n'
        '  project  = "netra-staging"\n'
        '  location = "us-central1"\n'
        "  template {\n"
        "    containers {\n"
        '      image = "img"\n'
        '      args  = ["say \\"hi\\"", "$${NOT_A_REF}", 3]\n'
        "      env {\n"
        '        name  = "BANNER"\n'
        "        value = <<-EOT\n"
        "          hello\n"
        "        EOT\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    tf = service_at(load_tf_dir(tmp_path), "google_cloud_run_v2_service.api")
    container = tf.containers["ingress"]
    assert container.args == ('say "hi"', "${NOT_A_REF}", "3")  # an escaped interpolation is a literal
    assert container.env["BANNER"].value == "hello"
    assert tf.name == "api" and not unknown_leaves(to_plain(container))


def test_tfvars_json_is_read_and_modules_never_read_tfvars(tmp_path: Path) -> None:
    module = _service_module(
        tmp_path, "image", '  name = "svc"\n  project = "p"\n  location = "us-central1"\n', "var.image"
    )
    (module / "terraform.tfvars").write_text('image = "from-the-module-folder"\n')
    (tmp_path / "main.tf").write_text(
        'variable "tag" {}\nmodule "svc" {\n  source = "./modules/svc"\n  image = var.tag\n}\n'
    )
    (tmp_path / "terraform.tfvars.json").write_text('{"tag": "img:7"}')
    svc = service_at(load_tf_dir(tmp_path), "module.svc.google_cloud_run_v2_service.s")
    assert svc.containers["ingress"].image == "img:7"
    assert "var.image from module.svc input in main.tf" in svc.provenance["containers.ingress.image"]


def test_the_parser_is_imported_only_when_a_folder_is_read() -> None:
    code = "import sys, driftcheck.sources.terraform_hcl; print('hcl2' in sys.modules, 'lark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.split() == ["False", "False"]
