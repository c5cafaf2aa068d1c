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
    # Windows PowerShell 5.1 writes UTF-8 with a byte order mark: it is not TOML, but it is not the user's text either
    text = text.removeprefix("\ufeff")
    too_deep = nesting_problem(text)
    if too_deep:
        raise ConfigError(f"{path}: {too_deep}")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    config = parse_config(document, str(path))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return config, ConfigProvenance(str(path), digest, len(config.subscriptions))


# The deepest nesting (arrays and inline tables) and the longest dotted key a config may hold. An audit config needs
# three levels; Python's TOML parser recurses per level and per dotted part, so a deeper file would exhaust the
# stack or the memory before it said anything.
MAX_NESTING = 64


def nesting_problem(text: str) -> str:
    """Where the text nests arrays or inline tables, or dots a key, deeper than MAX_NESTING; "" where it does not.

    A scan of the TOML text that knows its strings, comments and whether a key or a value is being read, and
    nothing else: the parser says everything else."""
    dots, line, in_key = 0, 1, True
    stack: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            line += 1
            if not stack:
                in_key, dots = True, 0
        elif char == "#":
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        elif char in "\"'":
            end = _string_end(text, index)
            line += text.count("\n", index, end)  # a multi-line string's own lines
            index = end
            continue
        elif in_key:
            if char == ".":
                dots += 1
                if dots >= MAX_NESTING:
                    return f"line {line}: a dotted key of more than {MAX_NESTING} parts; an audit config needs three"
            elif char == "=":
                in_key, dots = False, 0
            elif char == "}" and stack:
                stack.pop()
                in_key = False
        elif char in "[{":
            stack.append(char)
            if len(stack) > MAX_NESTING:
                return f"line {line}: arrays or inline tables nested more than {MAX_NESTING} deep"
            if char == "{":
                in_key, dots = True, 0
        elif char in "]}" and stack:
            stack.pop()
        elif char == "," and stack and stack[-1] == "{":
            in_key, dots = True, 0
        index += 1
    return ""


def _string_end(text: str, start: int) -> int:
    """The index just after the string that opens at `start` (basic or literal, single- or multi-line)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        while quote == '"' and end > 0 and _escaped(text, end):
            end = text.find(quote * 3, end + 1)
        return len(text) if end < 0 else end + 3
    index = start + 1
    while index < len(text) and text[index] not in (quote, "\n"):
        index += 2 if quote == '"' and text[index] == "\\" else 1
    return index + 1


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


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
