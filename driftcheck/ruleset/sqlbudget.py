"""The connection budget of a Cloud SQL instance: the connections every service in the evidence that uses it may
open at peak (maximum instances x connections per instance), against the instance's connection limit.

Rules see it as `refs.sql_budget` (ruleset/context/), one entry per instance in the evidence that the service uses;
rule cloudsql-connection-budget judges it. A number that is not stated in the evidence or verified on Google's pages
is unknown here, never guessed: a service that leaves its maximum instances unset is not counted, and an instance
whose limit is neither its max_connections flag nor a verified tier default has an unknown limit.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from driftcheck.model import Container, EnvVar, Inventory, Redacted, Service, SqlInstance, Unknown

# Cloud SQL's max_connections when the flag is not set, by engine and tier; "*": every other tier of the engine.
# Only what Google's pages state is here. MySQL: https://cloud.google.com/sql/docs/mysql/quotas#maximum_concurrent_connections
# (db-f1-micro 250, db-g1-small 1,000, all other tiers 4,000). PostgreSQL: https://cloud.google.com/sql/docs/postgres/flags
# sizes the default by memory; only db-f1-micro (0.6 GB: 25) is verified here, so any other PostgreSQL tier, and
# every SQL Server one, has an unknown limit unless its flag is set.
DEFAULT_MAX_CONNECTIONS: dict[str, dict[str, int]] = {
    "mysql": {"db-f1-micro": 250, "db-g1-small": 1000, "*": 4000},
    "postgres": {"db-f1-micro": 25},
}
# Cloud Run's concurrency when the service leaves it unset (https://cloud.google.com/run/docs/about-concurrency).
DEFAULT_CONCURRENCY = 80
# An env var that states a database connection pool's size: a database word then a pool or connection-cap word
# (DB_POOL_SIZE, SQLALCHEMY_POOL_SIZE, DB_MAX_CONNECTIONS, PG_POOL_MAX), or a bare POOL_SIZE / MAX_POOL_SIZE. A bare
# MAX_CONNECTIONS is left out: it is as often a web server's or a cache client's (REDIS_MAX_CONNECTIONS is neither).
_DB_WORD = r"(?:DB|DATABASE|SQL|SQLALCHEMY|PG|POSTGRES|POSTGRESQL|MYSQL|JDBC|HIKARI)"
_POOL_SIZE = re.compile(
    rf"(?i){_DB_WORD}_(?:POOL_SIZE|POOL_MAX|MAX_POOL_SIZE|POOL_MAX_SIZE|CONNECTION_POOL_SIZE|MAX_CONNECTIONS)"
    r"|(?:MAX_)?POOL_SIZE"
)
# The connections a pool opens beyond its size under load (SQLAlchemy's max_overflow): added to a stated size.
_POOL_OVERFLOW = re.compile(rf"(?i)(?:{_DB_WORD}_)?(?:POOL_)?MAX_OVERFLOW")


class SqlShare(TypedDict):
    """The connections one service may open to the instance at peak."""

    service: str  # the service's name
    max_instances: int  # its maximum instances, as it states them
    per_instance: int  # the connections one of its instances may open
    basis: str  # what per_instance was read from: `DB_POOL_SIZE=10`, `concurrency 80` (one connection per request)
    peak: int  # max_instances x per_instance


class SqlUncounted(TypedDict):
    """A service that uses the instance whose peak is not known: it is not counted."""

    service: str
    reason: str  # why its peak is unknown (its maximum instances are not set...)


class SqlBudget(TypedDict):
    """The connections the services in the evidence that use one Cloud SQL instance may open, against its limit."""

    connection_name: str  # project:region:instance
    instance: str  # the instance's name
    engine: str | Unknown  # postgres, mysql or sqlserver
    limit: int | Unknown  # the connections it accepts; unknown when neither its flag nor a verified default says
    limit_basis: str  # where the limit comes from: `its max_connections flag`, `the default of MySQL tier db-g1-small`
    limit_source: str | None  # the field the limit was read from (the flag, or the tier)
    own: SqlShare | Unknown  # this service's share; unknown when its maximum instances or connections are not known
    others: list[SqlShare]  # every other service in the evidence that uses the instance, with a known peak, by name
    uncounted: list[SqlUncounted]  # the other services that use it whose peak is unknown: not counted
    peak: int  # the known peaks added up: own (when known) and others
    fits: int | None  # the largest maximum instances of this service that keeps the peak within the limit; None: none


# (service, inventory) -> the instances in the evidence it uses, by connection name (ruleset/context/sql.py)
InstancesUsed = Callable[[Service, Inventory], dict[str, SqlInstance]]


def budgets(service: Service, inventory: Inventory, used: InstancesUsed) -> list[SqlBudget]:
    """One budget per instance in the evidence that `service` uses. The other services are every service of the
    evidence but one of the same name (the service itself, when it was also read from its own file)."""
    mine = used(service, inventory)
    if not mine:
        return []
    users = _users(inventory, used)
    return [
        _budget(instance, service, [u for u in users.by_instance.get(name, ()) if u[0] != service.name])
        for name, instance in mine.items()
    ]


@dataclass(frozen=True)
class _Users:
    """Who uses each instance of one inventory, with each user's share: built once, not once per service judged,
    or an audit of a fleet on one database would take time quadratic in its size."""

    inventory: weakref.ref[Inventory]
    services: tuple[Service, ...]  # what it was built from: a replaced or added service makes it stale
    instances: tuple[SqlInstance, ...]
    by_instance: dict[str, list[tuple[str, SqlShare | Unknown]]]  # connection name -> (service, share), by name

    def fits(self, inventory: Inventory) -> bool:
        return (
            self.inventory() is inventory
            and _same(self.services, tuple(inventory.services.values()))
            and _same(self.instances, tuple(inventory.sql_instances.values()))
        )


_LAST: list[_Users] = []  # the one inventory judged last


def _same(kept: tuple[object, ...], now: tuple[object, ...]) -> bool:
    return len(kept) == len(now) and all(a is b for a, b in zip(kept, now, strict=True))


def _users(inventory: Inventory, used: InstancesUsed) -> _Users:
    if _LAST and _LAST[0].fits(inventory):
        return _LAST[0]
    by_instance: dict[str, list[tuple[str, SqlShare | Unknown]]] = {}
    for name, other in sorted(inventory.services.items()):
        for connection_name in used(other, inventory):
            by_instance.setdefault(connection_name, []).append((name, share(other)))
    built = _Users(
        weakref.ref(inventory),
        tuple(inventory.services.values()),
        tuple(inventory.sql_instances.values()),
        by_instance,
    )
    _LAST[:] = [built]
    return built


def _budget(instance: SqlInstance, service: Service, shares: list[tuple[str, SqlShare | Unknown]]) -> SqlBudget:
    limit, basis, source = limit_of(instance)
    own = share(service)
    known = [s for _, s in shares if not isinstance(s, Unknown)]
    peak = sum(s["peak"] for s in known) + (0 if isinstance(own, Unknown) else own["peak"])
    return {
        "connection_name": instance.connection_name,
        "instance": instance.name,
        "engine": instance.engine,
        "limit": limit,
        "limit_basis": basis,
        "limit_source": source,
        "own": own,
        "others": known,
        "uncounted": [{"service": name, "reason": s.reason} for name, s in shares if isinstance(s, Unknown)],
        "peak": peak,
        "fits": _fits(limit, own, sum(s["peak"] for s in known)),
    }


def _fits(limit: int | Unknown, own: SqlShare | Unknown, others: int) -> int | None:
    """floor((limit - the others' peak) / per instance); None when not even one instance fits."""
    if isinstance(limit, Unknown) or isinstance(own, Unknown):
        return None
    count = (limit - others) // own["per_instance"]
    return count if count >= 1 else None


def limit_of(instance: SqlInstance) -> tuple[int | Unknown, str, str | None]:
    """The instance's connection limit, what it comes from, and the field it was read from."""
    flag = instance.max_connections
    if isinstance(flag, int):
        return flag, "its max_connections flag", instance.provenance.get("max_connections")
    if isinstance(flag, Unknown):
        return flag, "its max_connections flag", instance.provenance.get("max_connections")
    engine, tier = instance.engine, instance.tier
    if isinstance(engine, Unknown) or isinstance(tier, Unknown):
        reason = engine.reason if isinstance(engine, Unknown) else str(tier)
        return Unknown(f"no max_connections flag, and its tier's default is not known: {reason}"), "", None
    defaults = DEFAULT_MAX_CONNECTIONS.get(engine, {})
    default = defaults.get(tier, defaults.get("*"))
    if default is None:
        why = f"no max_connections flag, and the default of {engine} tier {tier} is not verified here"
        return Unknown(why), "", None
    basis = f"Cloud SQL's default for {_ENGINES.get(engine, engine)} tier {tier}"
    return default, basis, instance.provenance.get("tier")


_ENGINES = {"mysql": "MySQL", "postgres": "PostgreSQL", "sqlserver": "SQL Server"}


def share(service: Service) -> SqlShare | Unknown:
    """Its peak: the maximum instances it states x the connections each may open."""
    count = service.max_instances
    if not service.metadata.max_instances_set:
        return Unknown("its maximum instances are not set")
    if not isinstance(count, int) or count < 1:
        return Unknown(f"its maximum instances are not a known positive number ({count})")
    per_instance = _per_instance(service)
    if isinstance(per_instance, Unknown):
        return per_instance
    connections, basis = per_instance
    return {
        "service": service.name,
        "max_instances": count,
        "per_instance": connections,
        "basis": basis,
        "peak": count * connections,
    }


def _per_instance(service: Service) -> tuple[int, str] | Unknown:
    """The pool sizes its containers state, added up; without one, one connection per concurrent request."""
    pools: list[tuple[int, str]] = []
    for container in service.containers.values():
        pool = pool_size(container)
        if isinstance(pool, Unknown):
            return pool
        if pool is not None:
            pools.append(pool)
    if pools:
        return sum(size for size, _ in pools), " + ".join(basis for _, basis in pools)
    concurrency = service.concurrency
    if concurrency is None:
        return DEFAULT_CONCURRENCY, f"Cloud Run's default concurrency {DEFAULT_CONCURRENCY}, one connection per request"
    if not isinstance(concurrency, int) or concurrency < 1:
        return Unknown(f"its concurrency is not a known positive number ({concurrency})")
    return concurrency, f"concurrency {concurrency}, one connection per request"


def pool_size(container: Container) -> tuple[int, str] | Unknown | None:
    """The pool size one container's env states (the largest, when several names state one), plus a stated overflow;
    None when it states none (a size of 0 is no cap in SQLAlchemy: none either). A pool variable whose value could
    not be read (a Terraform value known only after apply) is unknown, never a pool of no size."""
    env: dict[str, EnvVar] | Unknown = container.env  # an unresolved Terraform env is unknown as a whole
    if isinstance(env, Unknown):
        return env
    unread = [n for n, v in env.items() if _POOL_SIZE.fullmatch(n) and isinstance(v.value, Unknown | Redacted)]
    if unread:
        return Unknown(f"its pool size {unread[0]} could not be read")
    sizes = _stated(env, _POOL_SIZE)
    if not sizes:
        return None
    size, name = max(sizes)
    overflow = max(_stated(env, _POOL_OVERFLOW), default=None)
    if overflow is None:
        return size, f"{name}={size}"
    return size + overflow[0], f"{name}={size} + {overflow[1]}={overflow[0]}"


def _stated(env: dict[str, EnvVar], pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """The env vars whose name fits `pattern` and whose plain value is a positive whole number."""
    return [
        (int(var.value.strip()), name)
        for name, var in env.items()
        if pattern.fullmatch(name) and isinstance(var.value, str) and var.value.strip().isdigit()
        and int(var.value.strip()) > 0
    ]
