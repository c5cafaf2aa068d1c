"""Scrub a recording: keep only what port25-audit reads, and replace what identifies a tenant, consistently.

Kept, by an allow-list per list (`kept_fields.py`): the fields the converters read. Everything else in a body is
dropped (app settings, connection strings, host names, descriptions, headers a firewall inserts, tags, container
specs): a secret under a field no one thought of is not kept either.

Replaced, in what is kept (request URIs and bodies, response bodies): every GUID (subscription, tenant and object
ids), every resource group, resource and management group name found in an id, display names, e-mail
addresses, public IPv4 addresses (a public /32 is a host: replaced too) and FQDNs a firewall rule names. The same
original always becomes the same replacement, so ids still link NICs to VMs and routes to firewalls.

Kept as they are: quota ids, offers, states, locations, types, private addresses and every other address prefix,
because the verdicts depend on them (a subnet's prefix holds its NICs' addresses; a route's next hop is a
firewall's private address).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from auditor.collect.kept_fields import GRAPH_ROWS, KEEP, TAGS, Spec, body_spec, graph_row_spec
from auditor.collect.record import LINK_HEADERS, safe_entry

_GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# an address, or a /32 (a host); a wider prefix describes a range and is kept
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.]|/(?!32(?!\d))\d)")
_MANAGEMENT_GROUP = re.compile(r"/providers/Microsoft\.Management/managementGroups/([^/?#\"'\s]+)", re.IGNORECASE)
_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/?#\"'\s]+)", re.IGNORECASE)
_PROVIDER_NAMES = re.compile(r"/providers/[^/]+/(.+)$", re.IGNORECASE)
# A name as Azure allows it (resource groups: Unicode letters and digits, `_ . - ( )`): one token, so a name such as
# `FabrikamFinance(Payroll)` or `rg-zürich-müller` is replaced whole.
_TOKEN = re.compile(r"[\w.-]+(?:\([\w.-]*\)[\w.-]*)*")
_BRACKETED = re.compile(r"([()])")
# Words payloads use as values that the evaluation reads (NSG prefixes and protocols, route hop types, kinds):
# a resource that happens to carry one as its name keeps it, so the word keeps its meaning everywhere else.
RESERVED = frozenset(
    {
        "*", "any", "internet", "virtualnetwork", "azureloadbalancer", "tcp", "udp", "icmp", "esp", "ah", "allow",
        "deny", "inbound", "outbound", "virtualappliance", "vnetlocal", "virtualnetworkgateway", "none", "default",
        "app", "functionapp", "linux", "windows", "container", "enabled", "disabled", "succeeded", "standard",
        "basic", "static", "dynamic", "true", "false", "null", "ipv4", "ipv6",
        # subnets Azure requires by name: the evaluation finds a VNet's gateways and firewall by them
        "gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "azurebastionsubnet",
        "routeserversubnet",
    }
)  # fmt: skip
# Azure's own endpoints in a URL (the ARM hosts of each cloud, the Location of an operation): never renamed,
# even where a resource is named like one of their labels (a firewall IP configuration named `management`).
AZURE_HOSTS = frozenset(
    {"management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn", "login.microsoftonline.com"}
)
_NAMESPACE = uuid.UUID("5e0f2c1a-9c1d-4f0e-8f25-5c2b5c2b5c2b")


class _Replacements:
    """Original → replacement, made on first sight, numbered per kind, case-insensitive."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def get(self, kind: str, original: str, make: Callable[[int], str]) -> str:
        key = (kind, original.lower())
        if key not in self._seen:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._seen[key] = make(self._counts[kind])
        return self._seen[key]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# Fields that name something the tenant chose, besides resource ids: sub-object and machine names, user names.
NAME_FIELDS = frozenset({"name"})
# Objects whose `name` is Azure's word, not the tenant's (a SKU, a marketplace plan).
AZURE_NAMED = frozenset({"sku", "plan"})


def _named_values(value: Any, parent: str = "") -> list[str]:
    if isinstance(value, dict):
        if parent in AZURE_NAMED:
            return []
        own = [v for k, v in value.items() if k in NAME_FIELDS and isinstance(v, str)]
        return own + [n for k, v in value.items() for n in _named_values(v, k)]
    if isinstance(value, list):
        return [n for v in value for n in _named_values(v, parent)]
    return []


def _names_in_ids(entries: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Resource group names and resource names, from every resource id or URI path in the recording, and the
    names the payloads give sub-objects and machines (a scale set's NIC configuration, a computer name).

    A name that is also a word of a provider namespace or resource type (a `config/web` child is named `web`,
    as in Microsoft.Web) is left out: replacing it would rename the type everywhere.
    """
    groups: set[str] = set()
    names: set[str] = set()
    vocabulary: set[str] = set()
    for entry in entries:
        for text in [entry.get("RequestUri") or "", *_strings(entry.get("ResponseBody"))]:
            path = text.split("?")[0]
            names.update(m.group(1) for m in _MANAGEMENT_GROUP.finditer(path))
            if "/subscriptions/" not in path.lower():
                continue
            groups.update(m.group(1) for m in _RESOURCE_GROUP.finditer(path))
            provider = _PROVIDER_NAMES.search(path)
            if provider:
                segments = provider.group(1).split("/")
                names.update(s for s in segments[1::2] if s)  # type/name/type/name...
                vocabulary.update(s.lower() for s in segments[0::2])
            for namespace in re.findall(r"/providers/([^/]+)", path, re.IGNORECASE):
                vocabulary.update(part.lower() for part in namespace.split("."))
        names.update(n for n in _named_values(entry.get("ResponseBody")) if n)
    return groups, {n for n in names if n.lower() not in vocabulary}


class Scrubber:
    def __init__(self, groups: set[str], names: set[str]) -> None:
        self._replacements = _Replacements()
        self._groups = {g.lower() for g in groups} - RESERVED
        self._names = {n.lower() for n in names} - RESERVED

    def _guid(self, match: re.Match[str]) -> str:
        original = match.group(0)
        return self._replacements.get("guid", original, lambda n: str(uuid.uuid5(_NAMESPACE, f"{n}")))

    def _email(self, match: re.Match[str]) -> str:
        return self._replacements.get("email", match.group(0), lambda n: f"someone-{n}@example.invalid")

    def _ip(self, match: re.Match[str]) -> str:
        text = match.group(1)
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            return text
        if not address.is_global:
            return text
        # 198.18.0.0/15 is reserved for benchmarking: never a real host on the internet.
        return self._replacements.get("ip", text, lambda n: str(ipaddress.IPv4Address("198.18.0.0") + n))

    def _known(self, token: str) -> str:
        lowered = token.lower()
        if lowered in self._groups:
            return self._replacements.get("rg", token, lambda n: f"rg-{n:04d}")
        if lowered in self._names:
            return self._replacements.get("name", token, lambda n: f"name-{n:04d}")
        return token

    def _joined(self, part: str) -> str:
        """A host-name label App Service makes of two names, `{site}-{slot}` (a slot's host name)."""
        lowered = part.lower()
        for name in self._names:
            rest = lowered[len(name) + 1 :]
            if lowered.startswith(name + "-") and rest in self._names:
                return f"{self._known(part[: len(name)])}-{self._known(part[len(name) + 1 :])}"
        return part

    def _label(self, part: str) -> str:
        replaced = self._known(part)
        return self._joined(part) if replaced == part else replaced

    def _name(self, match: re.Match[str]) -> str:
        """A whole token that is a known name; else the known names between its dots (a host name). A URL's
        scheme is never a name, even where a resource shares it (a firewall rule named `https`)."""
        token = match.group(0)
        if match.string.startswith("://", match.end()) or token.lower() in AZURE_HOSTS:
            return token
        replaced = self._label(token)
        if replaced == token and "(" in token:  # a name followed by parentheses that are not part of it
            return "".join(self._name_part(part) for part in _BRACKETED.split(token))
        if replaced == token and "." in token:
            return ".".join(self._label(part) for part in token.split("."))
        return replaced

    def _name_part(self, part: str) -> str:
        replaced = self._label(part)
        if replaced == part and "." in part:
            return ".".join(self._label(piece) for piece in part.split("."))
        return replaced

    def text(self, value: str) -> str:
        value = _GUID.sub(self._guid, value)
        value = _EMAIL.sub(self._email, value)
        value = _IPV4.sub(self._ip, value)
        if self._groups or self._names:
            value = _TOKEN.sub(self._name, value)
        return value

    def value(self, value: Any, key: str = "") -> Any:
        if key == "displayName" and isinstance(value, str):
            return self._replacements.get("display", value, lambda n: f"Subscription {n:04d}")
        if key == "tags" and isinstance(value, dict):  # names stay (they say what a tag is); values are replaced
            return {k: self._replacements.get("tag", str(v), lambda n: f"tag-{n:04d}") for k, v in value.items()}
        if key == "destinationFqdns":
            return [self._fqdn(v) if isinstance(v, str) else v for v in value] if isinstance(value, list) else value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _fqdn(self, fqdn: str) -> str:
        """A host name a rule names (a partner's relay): a made-up one, keeping a leading wildcard."""
        wildcard, star, host = fqdn.rpartition("*.")
        if not host or host == "*":
            return fqdn
        return wildcard + star + self._replacements.get("fqdn", host, lambda n: f"host-{n:04d}.example")

    def management_group(self, name: str) -> str:
        """What a management group's name became (or stays, when the recording never named it)."""
        replaced = self.text(f"/providers/Microsoft.Management/managementGroups/{name}")
        return replaced.rsplit("/", 1)[-1]


def kept(value: Any, spec: Spec | str) -> Any:
    """The value with only what the spec keeps (`kept_fields`): an object keeps the fields the spec names, a list
    each item as the spec says. A value whose shape is not the spec's keeps its shape (a malformed answer replays
    as malformed), emptied of what the spec does not name."""
    if isinstance(value, list):
        return [kept(item, spec) for item in value]
    if not isinstance(value, dict):
        return value
    if spec == TAGS:
        return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
    if not isinstance(spec, Mapping):
        return {}
    return {k: _graph_rows(v) if spec[k] == GRAPH_ROWS else kept(v, spec[k]) for k, v in value.items() if k in spec}


def _graph_rows(rows: Any) -> Any:
    return [kept(row, graph_row_spec(row)) for row in rows] if isinstance(rows, list) else kept(rows, KEEP)


@dataclass(frozen=True)
class Scrubbed:
    """A scrubbed recording, and what each management group named when it was made became in it."""

    document: dict[str, Any]
    management_groups: dict[str, str]


def scrub(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the recording with only what port25-audit reads, the tenant's identifying values replaced."""
    return scrub_recording(document).document


def scrub_recording(document: dict[str, Any], management_groups: Sequence[str] = ()) -> Scrubbed:
    entries = [_kept_entry(safe_entry(entry)) for entry in document.get("Entries") or []]
    scrubber = Scrubber(*_names_in_ids(entries))
    scrubbed = []
    for entry in entries:
        body = entry.get("RequestBody")
        scrubbed.append(
            {
                **entry,
                "RequestUri": scrubber.text(entry["RequestUri"]),
                "RequestBody": scrubber.text(body) if isinstance(body, str) else scrubber.value(body),
                "ResponseHeaders": {
                    k: scrubber.text(v) if k.lower() in LINK_HEADERS else v
                    for k, v in entry["ResponseHeaders"].items()
                    if k.lower() != "x-ms-request-id"
                },
                "ResponseBody": scrubber.value(entry["ResponseBody"]),
            }
        )
    groups = {group: scrubber.management_group(group) for group in management_groups}
    return Scrubbed({"Entries": scrubbed, "Variables": {}}, groups)


def _kept_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry whose answer keeps only the fields port25-audit reads of that list (none of a list it does not
    read); a body that is text (not JSON) is kept only in an error answer, as Azure's message."""
    try:
        status = int(entry.get("StatusCode") or 0)
    except (TypeError, ValueError):
        status = 0
    spec = body_spec(str(entry.get("RequestMethod") or "GET"), urlsplit(entry["RequestUri"]).path, status)
    body = entry.get("ResponseBody")
    if spec is None:
        kept_body = None
    elif isinstance(body, str):
        kept_body = body if status != 200 else ""
    else:
        kept_body = kept(body, spec)
    return {**entry, "ResponseBody": kept_body}
