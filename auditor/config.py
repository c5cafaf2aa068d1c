"""The audit config (TOML): per-subscription facts Azure Resource Manager does not expose (docs/design.md §2)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from auditor.files import CONFIG_LIMIT, InputFileError, read_text
from auditor.model import (
    GUID,
    AcceptedException,
    AuditConfig,
    ConfigProvenance,
    Offer,
    SubscriptionFacts,
    Verdict,
    glob_start,
)

KNOWN_KEYS = ("offer", "created", "exemption_granted", "exclude", "reason")
EXCEPTION_SELECTORS = ("match", "resource_group", "subscription", "tag")
EXCEPTION_KEYS = (*EXCEPTION_SELECTORS, "verdict", "reason", "owner", "ticket", "expires")
_EXCEPTIONS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*exceptions[ \t]*\]\]", re.MULTILINE)


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
    config = parse_config(document, str(path), exception_lines(text))
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


def exception_lines(text: str) -> list[int]:
    """The line of each `[[exceptions]]` header, in order (an entry's line in the messages)."""
    return [text.count("\n", 0, match.start()) + 1 for match in _EXCEPTIONS_HEADER.finditer(text)]


def parse_config(document: dict[str, Any], where: str, lines: list[int] | None = None) -> AuditConfig:
    unknown = sorted(set(document) - {"subscriptions", "exceptions"})
    if unknown:
        raise ConfigError(
            f'{where}: unknown top-level key {unknown[0]!r} (only [subscriptions."<id>"] tables and [[exceptions]])'
        )
    return AuditConfig(_subscriptions(document, where), _exceptions(document.get("exceptions", []), where, lines))


def _subscriptions(document: dict[str, Any], where: str) -> dict[str, SubscriptionFacts]:
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
    return facts


def _exceptions(entries: Any, where: str, lines: list[int] | None) -> tuple[AcceptedException, ...]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{where}: 'exceptions' must be [[exceptions]] tables")
    known_lines = lines if lines is not None and len(lines) == len(entries) else None
    return tuple(
        _exception(entry, number, known_lines[number - 1] if known_lines else None, where)
        for number, entry in enumerate(entries, start=1)
    )


def _exception(entry: dict[str, Any], number: int, line: int | None, where: str) -> AcceptedException:
    place = f"{where}: [[exceptions]] at line {line}" if line is not None else f"{where}: [[exceptions]] entry {number}"
    extra = sorted(set(entry) - set(EXCEPTION_KEYS))
    if extra:
        raise ConfigError(f"{place}: unknown key {extra[0]!r} (known: {', '.join(EXCEPTION_KEYS)})")
    if not any(entry.get(key) for key in EXCEPTION_SELECTORS):
        raise ConfigError(f"{place}: must say which resources, with one or more of {', '.join(EXCEPTION_SELECTORS)}")
    texts = {
        key: _text(entry.get(key, ""), f"{place}.{key}") for key in (*EXCEPTION_SELECTORS, "reason", "owner", "ticket")
    }
    for required in ("reason", "owner"):
        if not texts[required]:
            raise ConfigError(f"{place}: needs {required} (who accepted the exposure, and why)")
    if "expires" not in entry:
        raise ConfigError(f"{place}: needs expires (an exception is accepted until a date, written as 2027-06-30)")
    expires = _date(entry["expires"], f"{place}.expires")
    assert expires is not None
    subscription = texts["subscription"].lower()
    if subscription and not GUID.fullmatch(subscription):
        raise ConfigError(f"{place}.subscription: {subscription!r} is not a subscription id (a GUID)")
    return AcceptedException(
        number=number,
        line=line,
        verdicts=_verdicts(entry.get("verdict"), f"{place}.verdict"),
        reason=texts["reason"],
        owner=texts["owner"],
        expires=expires,
        ticket=texts["ticket"],
        match=_glob(texts["match"], f"{place}.match"),
        resource_group=texts["resource_group"].lower(),
        subscription=subscription,
        tag=_tag(texts["tag"], f"{place}.tag"),
    )


def _text(value: Any, place: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{place}: {value!r} is not text")
    return " ".join(value.split())


def _verdicts(value: Any, place: str) -> frozenset[Verdict]:
    values = value if isinstance(value, list) else [value]
    known = ", ".join(v.value for v in Verdict)
    if value is None or not values:
        raise ConfigError(f"{place}: needs the verdict(s) accepted ({known})")
    try:
        return frozenset(Verdict(str(v).strip().lower()) for v in values)
    except ValueError:
        raise ConfigError(f"{place}: {value!r} is not a verdict (known: {known})") from None


# Every Azure Resource Manager id starts so: a glob whose fixed start does not fit it cannot match any.
_ID_START = "/subscriptions/"


def _glob(pattern: str, place: str) -> str:
    """A resource id glob, as written (it matches without regard to case). One whose fixed start (before its
    first wildcard) is not how an id starts cannot match any id."""
    if not pattern:
        return ""
    lowered = pattern.lower()
    fixed = glob_start(lowered)
    if not (fixed.startswith(_ID_START) or _ID_START.startswith(fixed)):
        raise ConfigError(
            f"{place}: {pattern!r} cannot match a resource id (ids start with /subscriptions/; use * for any part)"
        )
    fnmatch.translate(lowered)  # a glob fnmatch cannot read raises here, not at matching
    return pattern


def _tag(value: str, place: str) -> tuple[str, str] | None:
    if not value:
        return None
    name, equals, tag_value = value.partition("=")
    if not equals or not name.strip():
        raise ConfigError(f"{place}: {value!r} is not name=value (a tag name and its value, e.g. role=smtp-relay)")
    return name.strip().lower(), tag_value.strip()


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
