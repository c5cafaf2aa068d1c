"""The audit config (TOML): per-subscription facts Azure Resource Manager does not expose (docs/design.md §2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Any

from auditor.files import CONFIG_LIMIT, InputFileError, read_text
from auditor.model import GUID, AuditConfig, ConfigProvenance, Offer, SubscriptionFacts

KNOWN_KEYS = ("offer", "created", "exemption_granted", "exclude", "reason")


class ConfigError(InputFileError):
    """A config that cannot be used; the message says where, on one line."""


def load_config(path: Path) -> tuple[AuditConfig, ConfigProvenance]:
    """The config, and what identifies it in the reports (its path, the SHA-256 of its bytes)."""
    text = read_text(path, ConfigError, CONFIG_LIMIT)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    config = parse_config(document, str(path))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return config, ConfigProvenance(str(path), digest, len(config.subscriptions))


def parse_config(document: dict[str, Any], where: str) -> AuditConfig:
    unknown = sorted(set(document) - {"subscriptions"})
    if unknown:
        raise ConfigError(f'{where}: unknown top-level key {unknown[0]!r} (only [subscriptions."<id>"] tables)')
    tables = document.get("subscriptions", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: 'subscriptions' must be a table of [subscriptions.\"<id>\"] tables")
    facts: dict[str, SubscriptionFacts] = {}
    for subscription_id, table in tables.items():
        place = f'{where}: [subscriptions."{subscription_id}"]'
        if not GUID.fullmatch(subscription_id):
            raise ConfigError(f"{place}: not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)")
        if not isinstance(table, dict):
            raise ConfigError(f"{place}: must be a table with {', '.join(KNOWN_KEYS)}")
        extra = sorted(set(table) - set(KNOWN_KEYS))
        if extra:
            raise ConfigError(f"{place}: unknown key {extra[0]!r} (known: {', '.join(KNOWN_KEYS)})")
        exclude, reason = table.get("exclude", False), table.get("reason", "")
        if not isinstance(exclude, bool):
            raise ConfigError(f"{place}.exclude: {exclude!r} is not true or false")
        if not isinstance(reason, str):
            raise ConfigError(f"{place}.reason: {reason!r} is not text")
        facts[subscription_id.lower()] = SubscriptionFacts(
            offer=_offer(table.get("offer"), place),
            created=_date(table.get("created"), f"{place}.created"),
            exemption_granted=_date(table.get("exemption_granted"), f"{place}.exemption_granted"),
            exclude=exclude,
            reason=" ".join(reason.split()),
        )
    return AuditConfig(facts)


def _offer(value: Any, place: str) -> Offer | None:
    if value is None:
        return None
    try:
        return Offer(str(value))
    except ValueError:
        known = ", ".join(o.value for o in Offer)
        raise ConfigError(f"{place}.offer: unknown offer {value!r} (known: {known})") from None


def _date(value: Any, place: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{place}: {value!r} is not a date (write it as 2017-11-15)")
