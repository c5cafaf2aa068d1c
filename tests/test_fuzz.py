"""Issue 6: property tests (hypothesis) on the NSG matcher, the replay matcher and the report writers."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.classify.addresses import SMTP_PORT, port_matches
from auditor.classify.network.nsg import compile_nsg, decide_nsg
from auditor.collect.replay import request_key
from auditor.model import NetworkSecurityGroup, ScanResult, SecurityRule
from auditor.report.csv import FORMULA_PREFIXES, CsvFormatter
from auditor.report.html import HtmlFormatter
from auditor.report.interface import rendered
from tests.recordings import synthetic_result

ports = st.integers(min_value=0, max_value=65535)


@given(low=ports, high=ports)
def test_a_port_range_matches_exactly_when_it_holds_25(low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    assert port_matches([f"{low}-{high}"]) is (low <= SMTP_PORT <= high)
    assert port_matches([str(low)]) is (low == SMTP_PORT)


@given(st.lists(st.tuples(ports, ports), min_size=1, max_size=6))
def test_a_list_of_ranges_matches_when_any_does(ranges: list[tuple[int, int]]) -> None:
    texts = [f"{min(a, b)}-{max(a, b)}" for a, b in ranges]
    expected = any(min(a, b) <= SMTP_PORT <= max(a, b) for a, b in ranges)
    assert port_matches(texts) is expected
    assert port_matches([",".join(texts)]) is expected  # one comma-separated entry reads the same


def _rule(priority: int, allow: bool, port_low: int, port_high: int) -> SecurityRule:
    return SecurityRule(
        f"rule-{priority}",
        priority,
        "Outbound",
        "Allow" if allow else "Deny",
        "Tcp",
        ("*",),
        ("Internet",),
        (f"{port_low}-{port_high}",),
    )


rules = st.lists(
    st.tuples(st.integers(100, 4096), st.booleans(), ports, ports),
    max_size=12,
    unique_by=lambda r: r[0],  # Azure allows one rule per priority and direction
)


@given(rules, st.randoms())
def test_the_lowest_priority_number_that_matches_decides(
    specs: list[tuple[int, bool, int, int]], shuffle: object
) -> None:
    built = [_rule(p, allow, min(a, b), max(a, b)) for p, allow, a, b in specs]
    matching = sorted((r for r in built if port_matches(r.destination_ports)), key=lambda r: r.priority)
    decision = _decided(NetworkSecurityGroup("/nsg", "nsg", tuple(built)))
    if matching:
        assert decision.rule == matching[0]
        assert decision.allowed is (matching[0].access == "Allow")
    else:  # AllowInternetOutBound (65001), the default rule Azure adds to every NSG
        assert decision.allowed is True and decision.rule is not None and decision.rule.is_default
    shuffled = list(built)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _decided(NetworkSecurityGroup("/nsg", "nsg", tuple(shuffled))) == decision


def _decided(nsg: NetworkSecurityGroup) -> object:
    return decide_nsg(compile_nsg(nsg, SMTP_PORT), ["10.0.0.4"], SMTP_PORT)


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12)
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", max_size=12)


@given(
    path=st.lists(names, min_size=1, max_size=6),
    query=st.dictionaries(names.filter(lambda n: n.lower() != "api-version"), values, max_size=4),
    version=values,
    seed=st.randoms(),
)
def test_replay_matching_ignores_case_order_and_api_version(
    path: list[str], query: dict[str, str], version: str, seed: object
) -> None:
    items = [*query.items(), ("api-version", version)]
    url = "https://management.azure.com/" + "/".join(path) + "?" + "&".join(f"{k}={v}" for k, v in items)
    seed.shuffle(items)  # type: ignore[attr-defined]
    other = "https://x/" + "/".join(path).upper() + "?" + "&".join(f"{k}={v}" for k, v in items if k != "api-version")
    assert request_key("GET", url) == request_key("get", other)
    assert request_key("GET", url) != request_key("GET", url + "&extra=1")
    assert request_key("GET", url) != request_key("POST", url)


@given(
    subscriptions=st.lists(st.uuids().map(str), min_size=1, max_size=5, unique=True),
    token=st.one_of(st.none(), values),
    other=values,
    seed=st.randoms(),
)
def test_replay_matching_of_graph_bodies(subscriptions: list[str], token: str | None, other: str, seed: object) -> None:
    options = {"$top": 1000} | ({"$skipToken": token} if token is not None else {})
    body = {"query": "Resources", "subscriptions": subscriptions, "options": options}
    shuffled = list(subscriptions)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    same = {"options": {**options, "resultFormat": "objectArray"}, "subscriptions": shuffled, "query": "Resources"}
    url = "https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=1"
    assert request_key("POST", url, json.dumps(body)) == request_key("POST", url, json.dumps(same).encode())
    if other != token:
        moved = {**body, "options": {"$top": 1000, "$skipToken": other}}
        assert request_key("POST", url, json.dumps(body)) != request_key("POST", url, json.dumps(moved))


def _with_text(result: ScanResult, text: str) -> ScanResult:
    finding = result.findings[0]
    resource = dataclasses.replace(finding.resource, name=text)
    said = dataclasses.replace(
        finding,
        resource=resource,
        subscription=dataclasses.replace(finding.subscription, subscription_name=text),
        assessment=dataclasses.replace(finding.assessment, reason=text),
    )
    return dataclasses.replace(result, findings=(said,))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(sorted(name for name, _ in attrs))))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


BASE = synthetic_result(1)
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_csv_round_trips_any_text_and_neutralises_formulas(text: str) -> None:
    data = rendered(CsvFormatter().format(_with_text(BASE, text)))["findings.csv"].decode("utf-8")
    (row,) = list(csv.DictReader(io.StringIO(data, newline="")))
    expected = "'" + text if text.startswith(FORMULA_PREFIXES) else text
    assert row["resource_name"] == row["reason"] == row["subscription_name"] == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_html_gets_no_element_or_attribute_from_any_text(text: str) -> None:
    benign = HtmlFormatter().format(_with_text(BASE, "benign"))["report.html"]
    hostile = HtmlFormatter().format(_with_text(BASE, text))["report.html"]
    before, after = _Tags(), _Tags()
    before.feed(b"".join(benign).decode("utf-8"))
    after.feed(b"".join(hostile).decode("utf-8"))
    # the same elements and attribute names, whatever the text; but for the line-break hints (<wbr>, no attribute)
    # the page itself adds after "/" and "_" in ids and values
    hints = ("wbr", ())
    assert [t for t in after.tags if t != hints] == [t for t in before.tags if t != hints]
    shown = text.replace("\r\n", "\n").replace("\r", "\n").strip()  # HTML normalises line breaks
    if shown:
        assert shown in "".join(after.texts).replace("\r\n", "\n").replace("\r", "\n")
