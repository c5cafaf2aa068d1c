"""Address and port matching shared by NSG rules and Azure Firewall rules.

Every question is about one connection: TCP to a port (25, or the relay's 587) at an arbitrary public internet
address. A destination that covers only part of public space (a service tag, an FQDN, some prefixes) does not
decide it; a source that only partly covers the sender cannot be known to match.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

SMTP_PORT = 25
RELAY_PORT = 587  # authenticated submission: what the remediation recommends, which Azure does not restrict

IPv4Network = ipaddress.IPv4Network
PRIVATE_SPACE = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    )
)
ANY_WORDS = frozenset({"*", "any"})
EVERY_ADDRESS = (ipaddress.IPv4Network("0.0.0.0/0"),)


def _public_blocks() -> tuple[IPv4Network, ...]:
    blocks = [ipaddress.IPv4Network("0.0.0.0/0")]
    for private in PRIVATE_SPACE:
        split: list[IPv4Network] = []
        for block in blocks:
            split.extend(
                block.address_exclude(private)
                if private.subnet_of(block)
                else ([] if block.subnet_of(private) else [block])
            )
        blocks = split
    return tuple(sorted(blocks))


PUBLIC_SPACE = _public_blocks()


class Match(Enum):
    NO = 0
    PARTIAL = 1  # some public addresses only: does not decide for an arbitrary one
    UNCERTAIN = 2  # may or may not match: cannot be known from what Azure Resource Manager says
    YES = 3


@lru_cache(maxsize=65536)
def _parsed(text: str) -> tuple[IPv4Network, ...] | None:
    """An address, prefix or range (`10.0.0.1-10.0.0.9`, as firewall rules allow) as IPv4 networks; None if it is
    not one (a service tag, an FQDN); () for IPv6."""
    first, dash, last = text.strip().partition("-")
    try:
        if dash:
            low, high = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
            if not isinstance(low, ipaddress.IPv4Address) or not isinstance(high, ipaddress.IPv4Address):
                return ()
            return tuple(ipaddress.summarize_address_range(low, high))
        network = ipaddress.ip_network(first, strict=False)
    except (ValueError, TypeError):
        return None
    return (network,) if isinstance(network, IPv4Network) else ()


def networks(prefixes: Iterable[str]) -> list[IPv4Network] | None:
    """IPv4 networks of the prefixes; None if any is not an address prefix (a service tag)."""
    found: list[IPv4Network] = []
    for prefix in prefixes:
        parsed = _parsed(prefix)
        if parsed is None:
            return None
        found.extend(parsed)
    return found


def is_prefix(text: str) -> bool:
    return _parsed(text) is not None


@lru_cache(maxsize=16384)
def _covers_public_space(prefixes: tuple[str, ...]) -> Match:
    parsed = networks(prefixes) or []
    collapsed = list(ipaddress.collapse_addresses(parsed))
    if all(any(block.subnet_of(n) for n in collapsed) for block in PUBLIC_SPACE):
        return Match.YES
    if any(block.overlaps(n) for block in PUBLIC_SPACE for n in collapsed):
        return Match.PARTIAL
    return Match.NO


def public_coverage(prefixes: Sequence[str]) -> Match:
    """Do these address prefixes (tags and FQDNs left out) contain an arbitrary public internet address?"""
    usable = tuple(p for p in prefixes if is_prefix(p))
    return _covers_public_space(usable) if usable else Match.NO


# Service tags for addresses inside a virtual network or the platform's own host: not the internet.
PRIVATE_TAGS = frozenset({"virtualnetwork", "azureloadbalancer"})


def public_destinations(entries: Iterable[str]) -> tuple[str, ...]:
    """The destinations a rule names that lie (at least partly) on the internet, as the rule names them: public
    prefixes, FQDNs and service tags other than the virtual network's; private prefixes alone are not the
    internet."""
    return tuple(
        entry
        for entry in entries
        if (public_coverage([entry]) is not Match.NO if is_prefix(entry) else entry.strip().lower() not in PRIVATE_TAGS)
    )


def reachable_destinations(named: Sequence[str], denied: Sequence[str]) -> tuple[str, ...]:
    """The destinations an allow names that a deny processed before it did not already take whole: a prefix inside
    the denied prefixes, or a tag or FQDN the deny named too, is not reached."""
    if not denied:
        return tuple(named)
    denied_set = AddressSet.of(d for d in denied if is_prefix(d))
    words = {d.strip().lower() for d in denied if not is_prefix(d)}
    return tuple(
        entry
        for entry in named
        if not (AddressSet.of([entry]).covered_by([denied_set]) if is_prefix(entry) else entry.strip().lower() in words)
    )


def common_destinations(earlier: Sequence[str], later: Sequence[str]) -> tuple[str, ...] | None:
    """The destinations two hops that each allow only some both reach: their prefixes intersected, a tag or FQDN
    that both name. None where it cannot be known: a tag or FQDN one names and the other does not (which addresses
    it stands for, Azure Resource Manager does not say)."""
    words = (
        {e.strip().lower() for e in earlier if not is_prefix(e)},
        {e.strip().lower() for e in later if not is_prefix(e)},
    )
    if words[0] != words[1]:
        return None
    shared = [e for e in later if not is_prefix(e)]
    first = networks([e for e in earlier if is_prefix(e)]) or []
    second = networks([e for e in later if is_prefix(e)]) or []
    overlaps = {
        str(a if a.prefixlen >= b.prefixlen else b)
        for a in ipaddress.collapse_addresses(first)
        for b in ipaddress.collapse_addresses(second)
        if a.overlaps(b)
    }
    return (*sorted(overlaps, key=ipaddress.IPv4Network), *shared)


@lru_cache(maxsize=65536)
def _contains(prefixes: tuple[str, ...], source: tuple[str, ...]) -> Match:
    return covered(networks(prefixes), networks(source))


@lru_cache(maxsize=16384)
def parsed_prefixes(prefixes: tuple[str, ...]) -> tuple[IPv4Network, ...] | None:
    """`networks`, kept per list of prefixes (a rule's, parsed once for every sender it is matched against)."""
    found = networks(prefixes)
    return None if found is None else tuple(found)


def covered(ranges: Sequence[IPv4Network] | None, ours: Sequence[IPv4Network] | None) -> Match:
    """Do the ranges (None: not all prefixes) contain the sender's networks (its address, or its subnet)?"""
    if ranges is None or not ours:
        return Match.NO if ranges is None else Match.UNCERTAIN
    if all(any(o.subnet_of(n) for n in ranges) for o in ours):
        return Match.YES
    return Match.UNCERTAIN if any(o.overlaps(n) for o in ours for n in ranges) else Match.NO


def contains(prefixes: Sequence[str], source: Sequence[str]) -> Match:
    """Do the prefixes contain the sender (its private address, or its whole subnet)? Partly: uncertain."""
    return _contains(tuple(prefixes), tuple(source))


@lru_cache(maxsize=65536)  # a VM's address is asked about once for each port
def inside(prefixes: tuple[str, ...], sender: tuple[str, ...]) -> bool:
    """Whether the sender (its address, or its subnet) lies wholly inside the prefixes, as `contains` answering
    yes; an address is compared with the prefixes parsed once, not parsed into a network of its own."""
    if len(sender) == 1 and "/" not in sender[0] and "-" not in sender[0]:
        ranges = parsed_prefixes(prefixes)
        try:
            address = ipaddress.IPv4Address(sender[0].strip())
        except ValueError:
            return contains(prefixes, sender) is Match.YES
        return ranges is not None and any(address in network for network in ranges)
    return contains(prefixes, sender) is Match.YES


@dataclass(frozen=True)
class AddressSet:
    """A rule side's addresses, parsed once into merged, sorted IPv4 intervals (first and last address as numbers),
    so a sender is looked up in logarithmic time however many prefixes its IP groups hold; and what could not be
    read as an address (a tag, an FQDN, a word Azure does not document)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    unparsed: tuple[str, ...]

    @classmethod
    def of(cls, texts: Iterable[str]) -> AddressSet:
        intervals: list[tuple[int, int]] = []
        unparsed: list[str] = []
        for text in texts:
            parsed = _parse_uncached(text)
            if parsed is None:
                unparsed.append(text)
            else:
                intervals.extend((int(n.network_address), int(n.broadcast_address)) for n in parsed)
        return cls.merged(sorted(intervals), unparsed)

    def holds(self, ours: Sequence[IPv4Network] | None) -> Match:
        """Do the addresses contain the sender's networks (its address, or its subnet)? Partly: uncertain."""
        if not ours:
            return Match.UNCERTAIN if ours is None else Match.NO
        inside = overlapping = 0
        for network in ours:
            # not broadcast_address: a cached_property, whose lock costs more than the arithmetic
            low = int(network.network_address)
            high = low | ((1 << (32 - network.prefixlen)) - 1)
            index = bisect_right(self.starts, high) - 1  # the last interval starting at or below `high`
            if index >= 0 and self.starts[index] <= low and high <= self.ends[index]:
                inside += 1
            elif index >= 0 and self.ends[index] >= low:
                overlapping += 1
        if inside == len(ours):
            return Match.YES
        return Match.UNCERTAIN if inside or overlapping else Match.NO

    def covered_by(self, others: Sequence[AddressSet]) -> bool:
        """Whether every address this set names lies in one of the others (what it cannot read: never covered)."""
        if self.unparsed or not self.starts:
            return False
        union = AddressSet.merged(
            sorted((start, end) for other in others for start, end in zip(other.starts, other.ends, strict=True))
        )
        for start, end in zip(self.starts, self.ends, strict=True):
            index = bisect_right(union.starts, start) - 1
            if index < 0 or union.ends[index] < end:
                return False
        return True

    @classmethod
    def merged(cls, intervals: Sequence[tuple[int, int]], unparsed: Sequence[str] = ()) -> AddressSet:
        """Sorted intervals merged where they touch or overlap."""
        starts: list[int] = []
        ends: list[int] = []
        for start, end in intervals:
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return cls(tuple(starts), tuple(ends), tuple(unparsed))


def _parse_uncached(text: str) -> tuple[IPv4Network, ...] | None:
    """`_parsed` without its cache: an address set is parsed once, and a hundred thousand prefixes would only
    push every other entry out of the cache."""
    return _parsed.__wrapped__(text)


# The ports a client sends from: Linux's and Windows' ephemeral ranges both lie inside 1024-65535.
EPHEMERAL_PORTS = (1024, 65535)


def ephemeral_source_match(ranges: Sequence[str]) -> Match:
    """Does a rule's source port range hold the port an SMTP client sends from (an ephemeral one)? NSGs match the
    5-tuple: a rule must hold the client's source port. All of 1024-65535 (or `*`): yes; none of it: no; part of
    it, or a range that cannot be read: uncertain."""
    low, high = EPHEMERAL_PORTS
    spans: list[tuple[int, int]] = []
    for entry in ranges:
        for part in entry.split(","):
            part = part.strip()
            if part.lower() in ANY_WORDS:
                return Match.YES
            first, _, last = part.partition("-")
            try:
                spans.append((int(first), int(last or first)))
            except ValueError:
                return Match.UNCERTAIN
    covered_to = low - 1
    for start, end in sorted(spans):
        if start > covered_to + 1:
            break
        covered_to = max(covered_to, end)
    if covered_to >= high:
        return Match.YES
    return Match.UNCERTAIN if any(start <= high and end >= low for start, end in spans) else Match.NO


def port_matches(ranges: Sequence[str], port: int = SMTP_PORT) -> bool:
    for entry in ranges:
        for part in entry.split(","):
            part = part.strip()
            if part.lower() in ANY_WORDS:
                return True
            low, _, high = part.partition("-")
            try:
                if int(low) <= port <= int(high or low):
                    return True
            except ValueError:
                continue
    return False
