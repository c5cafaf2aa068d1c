"""--source graph: the same findings as ARM mode from a few Resource Graph queries, and nothing dropped unmarked."""

from __future__ import annotations

import csv
import io
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import Environment, main
from auditor.collect.graph import PAGE_SIZE, RESOURCES_QUERY, GraphCollector
from auditor.collect.interface import Source
from auditor.collect.lists import KINDS
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayCredential, ReplayTransport, parse_recording
from auditor.collect.throttle import SharedTokenBucket
from auditor.collect.transport import RESOURCE_GRAPH_PATH
from auditor.model import TenantInventory, list_unread
from auditor.status import ExitStatus
from fixtures import arm_payloads, make_contoso
from fixtures.arm_payloads import ARM, Recording, page, sub_id, subscription, vm
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import vm_payload


def _scan(tmp_path: Path, recording: Path, name: str, *extra: str) -> tuple[ExitStatus, Path, str]:
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / name
    argv = ["scan", "--replay", str(recording), "--config", str(CONTOSO_CONFIG), "--out", str(target), *extra]
    status = main(argv, Environment(stdout=out, stderr=err))
    return status, target, err.getvalue()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _scan_document(path: Path) -> dict[str, Any]:
    document = json.loads((path / "scan.json").read_text(encoding="utf-8"))
    for key in ("started", "finished", "source"):
        document["scan"].pop(key)
    return dict(document)


def test_graph_mode_gives_exactly_the_arm_findings_on_contoso_without_faults(tmp_path: Path) -> None:
    recording = tmp_path / "contoso-complete.json"
    recording.write_text(json.dumps(make_contoso.build(faults=False)), encoding="utf-8")

    arm_status, arm, _ = _scan(tmp_path, recording, "arm")
    graph_status, graph, graph_err = _scan(tmp_path, recording, "graph", "--source", "graph")

    assert arm_status is graph_status is ExitStatus.SUCCESS
    assert len(_rows(arm / "findings.csv")) == 63  # the bundled 62 and the site behind the bundled 403
    for report in ("findings.csv", "subscriptions.csv"):
        assert (graph / report).read_bytes() == (arm / report).read_bytes(), report
    assert _scan_document(graph) == _scan_document(arm)
    assert "Resource Graph" in json.loads((graph / "scan.json").read_text(encoding="utf-8"))["scan"]["source"]
    assert "leaves out what the identity cannot read" in graph_err


def _sent_by_graph_mode(recording: Path) -> tuple[TenantInventory, list[tuple[str, str]]]:
    replay = ReplayTransport.from_file(recording)
    inventory = GraphCollector(ReplayCredential(), replay).collect()
    return inventory, replay.sent


def test_graph_mode_on_the_bundled_tenant_sends_a_few_queries_and_only_reads(tmp_path: Path) -> None:
    inventory, sent = _sent_by_graph_mode(CONTOSO)

    graph = [url for method, url in sent if method == "POST"]
    assert all(url.split("?")[0].lower().endswith(RESOURCE_GRAPH_PATH) for url in graph)
    # one ResourceContainers query, five pages of Resources (162 rows, 40 a page) and the throttled first page's retry
    assert len(graph) == 7
    gets = [url.split("?")[0][len(ARM) :] for method, url in sent if method == "GET"]
    assert {method for method, _ in sent} == {"GET", "POST"}
    billing = {path for path in gets if path.startswith("/providers/Microsoft.Billing/billingAccounts")}
    assert len(billing) == 3  # the billing accounts, and the subscriptions of each of the two
    # what Graph rows do not carry is read through ARM, under the items Graph listed, as ARM mode reads it
    sites = [
        r.resource_id for s in inventory.subscriptions for r in s.resources if r.resource_type == "Microsoft.Web/sites"
    ]
    policies = [p.policy_id for s in inventory.subscriptions for p in s.network.firewall_policies]
    (hub,) = [h.hub_id for s in inventory.subscriptions for h in s.network.virtual_hubs]
    assert sorted(set(gets) - billing) == sorted(
        [
            "/subscriptions",
            *(
                f"/subscriptions/{sub_id('prod')}/resourceGroups/rg-{path}/config/web"
                for path in (
                    "legacy/providers/Microsoft.Web/sites/app-legacy-notify",  # its payload does not say
                    "portal/providers/Microsoft.Web/sites/app-static-site",  # its payload says not routed
                    "portal/providers/Microsoft.Web/sites/app-portal/slots/canary",
                )
            ),
            *(f"{site}/slots" for site in sites),
            *(f"{policy}/ruleCollectionGroups" for policy in policies),
            *(f"{hub}/{child}" for child in ("hubVirtualNetworkConnections", "routingIntent", "hubRouteTables")),
        ]
    )
    assert len(sites) == 10 and len(policies) == 6
    # 62 findings, and the flexible scale set that only groups its VMs
    assert sum(len(s.resources) for s in inventory.subscriptions) == 63
    assert not any(s.errors for s in inventory.subscriptions)


def test_bundled_tenant_graph_and_arm_differ_only_where_arm_could_not_read(tmp_path: Path) -> None:
    """Graph shows nothing of what the identity cannot read and says nothing of it: ARM's two 403s are the
    difference, and ARM mode is the one that reports them."""
    arm_status, arm, _ = _scan(tmp_path, CONTOSO, "arm")
    graph_status, graph, _ = _scan(tmp_path, CONTOSO, "graph", "--source", "graph")

    assert (arm_status, graph_status) == (ExitStatus.INCOMPLETE, ExitStatus.SUCCESS)
    unread = {row["subscription_id"] for row in _rows(arm / "subscriptions.csv") if row["collection"] != "ok"}
    assert unread == {sub_id("mcae"), sub_id("payg")}
    arm_rows, graph_rows = _rows(arm / "findings.csv"), _rows(graph / "findings.csv")
    assert [r["resource_id"] for r in graph_rows] == [r["resource_id"] for r in arm_rows]
    for before, after in zip(arm_rows, graph_rows, strict=True):
        differing = {column for column in before if before[column] != after[column]}
        # where ARM could not read a list, the reason names it, and the remediation (what to do follows from the
        # reason: get read access) with it
        allowed = {"reason", "remediation"} if before["subscription_id"] in unread else set()
        assert differing <= allowed, before["resource_name"]


def _tenant(*names: str, hidden: frozenset[str] = frozenset(), batch_size: int = 2, page_rows: int = 40) -> Recording:
    """A tenant of one VM per subscription, recorded for both sources."""
    rec = Recording()
    rec.record("/subscriptions", "subscriptions", page([subscription(n, n, "PayAsYouGo_2014-09-01") for n in names]))
    for name in names:
        rec.record_subscription(sub_id(name), vms=[vm(sub_id(name), "rg", f"vm-{name}")])
    rec.record_graph_view(page_rows=page_rows, batch_size=batch_size, hidden=frozenset(sub_id(n) for n in hidden))
    return rec


def _graph_inventory(rec: Recording, batch_size: int = 2) -> TenantInventory:
    replay = ReplayTransport(parse_recording(rec.document(), "test"))
    return GraphCollector(ReplayCredential(), replay, batch_size=batch_size).collect()


def _by_name(inventory: TenantInventory) -> dict[str, Any]:
    return {s.subscription.display_name: s for s in inventory.subscriptions}


def test_subscription_graph_does_not_know_is_marked_not_dropped(tmp_path: Path) -> None:
    subscriptions = _by_name(_graph_inventory(_tenant("a", "b", "c", hidden=frozenset({"b"}))))

    assert set(subscriptions) == {"a", "b", "c"}
    (error,) = subscriptions["b"].errors
    assert error.code == "NotInResourceGraph" and "--source arm" in error.message
    assert not subscriptions["a"].errors and not subscriptions["c"].errors
    assert [r.name for r in subscriptions["c"].resources] == ["vm-c"]


def test_subscription_graph_does_not_know_makes_the_scan_incomplete(tmp_path: Path) -> None:
    recording = tmp_path / "hidden.json"
    recording.write_text(
        json.dumps(_tenant("a", "b", hidden=frozenset({"b"}), batch_size=250).document()), encoding="utf-8"
    )
    status, out, err = _scan(tmp_path, recording, "reports", "--source", "graph")
    assert status is ExitStatus.INCOMPLETE
    assert "INCOMPLETE" in err
    collection = {row["subscription_name"]: row["collection"] for row in _rows(out / "subscriptions.csv")}
    assert collection["a"] == "ok" and "NotInResourceGraph" in collection["b"]


def _replace_answers(rec: Recording, subscription_name: str, query: str, *answers: tuple[int, Any]) -> None:
    """Every recorded answer to `query` for the batch holding this subscription becomes `answers`."""
    wanted = sub_id(subscription_name)
    kept, template = [], None
    for entry in rec.entries:
        body = json.loads(entry["RequestBody"]) if entry["RequestMethod"] == "POST" else None
        if body and body["query"] == query and wanted in body["subscriptions"]:
            if "$skipToken" not in body["options"]:
                template = entry
            continue
        kept.append(entry)
    assert template is not None
    rec.entries = kept + [{**template, "StatusCode": status, "ResponseBody": answer} for status, answer in answers]


def test_a_failed_query_marks_every_subscription_of_its_batch_and_no_other() -> None:
    rec = _tenant("a", "b", "c")  # batches {a, b} and {c} by id order
    batches = sorted(["a", "b", "c"], key=sub_id)
    last = batches[-1]
    bad_request = {"error": {"code": "BadRequest", "message": "Please provide below info when asking for support"}}
    _replace_answers(rec, last, RESOURCES_QUERY, (400, bad_request))

    subscriptions = _by_name(_graph_inventory(rec))

    (error,) = subscriptions[last].errors
    assert (error.operation, error.status, error.code) == ("resourceGraph", 400, "BadRequest")
    assert error.request.startswith("POST /providers/Microsoft.ResourceGraph/resources")
    for name in batches[:-1]:
        assert not subscriptions[name].errors and [r.name for r in subscriptions[name].resources] == [f"vm-{name}"]


def _graph_page(rows: list[dict[str, Any]], skip_token: str | None, truncated: str = "false") -> dict[str, Any]:
    body: dict[str, Any] = {
        "totalRecords": 9,
        "count": len(rows),
        "data": rows,
        "facets": [],
        "resultTruncated": truncated,
    }
    if skip_token:
        body["$skipToken"] = skip_token
    return body


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_graph_page([], "token-that-repeats"), "already given"),
        (_graph_page([], None, truncated="true"), "truncated"),
        ({"totalRecords": 0, "count": 0, "data": {"columns": [], "rows": []}}, "without a list of rows"),
    ],
)
def test_a_result_that_cannot_be_paged_is_marked(answer: dict[str, Any], message: str) -> None:
    rec = Recording()
    rec.record("/subscriptions", "subscriptions", page([subscription("a", "a", "PayAsYouGo_2014-09-01")]))
    rec.record_graph_view(page_rows=40)
    _replace_answers(rec, "a", RESOURCES_QUERY, (200, answer))
    if "$skipToken" in answer:  # the next page names the same token again
        first = next(
            e
            for e in rec.entries
            if e["RequestMethod"] == "POST" and json.loads(e["RequestBody"])["query"] == RESOURCES_QUERY
        )
        request = json.loads(first["RequestBody"])
        request["options"]["$skipToken"] = answer["$skipToken"]
        rec.entries.append({**first, "RequestBody": json.dumps(request)})

    (inventory,) = _graph_inventory(rec).subscriptions

    (error,) = inventory.errors
    assert error.operation == "resourceGraph" and message in error.message


def test_rows_are_read_past_the_first_page_and_in_every_batch() -> None:
    names = [f"s{i}" for i in range(5)]
    inventory = _graph_inventory(_tenant(*names, page_rows=1), batch_size=2)
    assert sorted(r.name for s in inventory.subscriptions for r in s.resources) == [f"vm-{n}" for n in names]
    assert not any(s.errors for s in inventory.subscriptions)


def test_query_asks_for_every_list_and_a_full_page() -> None:
    for kind in KINDS:
        assert f"'{kind.resource_type.lower()}'" in RESOURCES_QUERY
    assert "project id," in RESOURCES_QUERY  # Graph pages only results that carry the id
    assert PAGE_SIZE == 1000


def test_graph_row_and_arm_item_convert_to_the_same_resource() -> None:
    sub = sub_id("a")
    item = vm_payload(sub, "vm-x") | {"location": "West Europe"}
    row = {**item, "type": item["type"].lower(), "location": "westeurope", "subscriptionId": sub}
    kind = KINDS[0]
    assert kind.convert(item, sub) == kind.convert(row, sub)
    assert kind.convert(row, sub).resource_type == "Microsoft.Compute/virtualMachines"


@pytest.mark.parametrize(
    ("code", "state"),
    [("PowerState/running", "running"), ("PowerState/deallocated", "deallocated"), ("PowerState/stopped", "stopped")],
)
def test_a_graph_row_says_its_vm_s_power_state_with_no_request_of_its_own(code: str, state: str) -> None:
    """Issue 25.12: Resource Graph's VM rows carry the instance view's power state under `properties.extended`
    (Azure Resource Graph, "Sample queries": `properties.extended.instanceView.powerState.code`); the VM list
    needs no request per VM. A scrubbed recording keeps it."""
    from auditor.collect.kept_fields import graph_row_spec
    from auditor.collect.scrub import kept

    sub = sub_id("a")
    item = vm_payload(sub, "vm-x")
    item["properties"]["extended"] = {"instanceView": {"powerState": {"code": code, "displayStatus": "VM x"}}}
    row = {**item, "type": item["type"].lower(), "subscriptionId": sub}

    assert KINDS[0].convert(row, sub).state.value == state
    assert kept(row, graph_row_spec(row))["properties"]["extended"] == {"instanceView": {"powerState": {"code": code}}}


def test_a_resource_graph_error_leaves_every_list_of_its_subscription_unread() -> None:
    assert list_unread(frozenset({"resourceGraph"}), "virtualMachines")
    assert list_unread(frozenset({"subscriptions"}), "virtualNetworks")
    assert list_unread(frozenset({"sites"}), "sites")
    assert not list_unread(frozenset({"sites"}), "virtualMachines")


def test_source_must_be_arm_or_graph(tmp_path: Path) -> None:
    status, _, err = _scan(tmp_path, CONTOSO, "reports", "--source", "rest")
    assert status is ExitStatus.USAGE and "--source" in err


@pytest.mark.parametrize(
    "row",
    [
        "a string",
        None,
        {"type": "microsoft.compute/virtualmachines", "subscriptionId": "SUB"},
        {"id": "x", "type": "odd/type"},
    ],
    ids=["string", "null", "no-id", "a-type-not-asked-for"],
)
def test_graph_rows_that_are_not_resources_are_errors_not_dropped(tmp_path: Path, row: Any) -> None:
    """Issue 13.11: Graph mode dropped such rows silently and said the audit was complete."""
    rec = _tenant("one", "two", batch_size=2)
    target = sub_id("one")
    for entry in rec.entries:
        query = json.loads(entry["RequestBody"])["query"] if entry["RequestMethod"] == "POST" else ""
        if query.startswith("Resources") and entry["StatusCode"] == 200:
            bad = json.loads(json.dumps(row).replace("SUB", target))
            entry["ResponseBody"]["data"].append(bad)
    recording = tmp_path / "graph.json"
    recording.write_text(json.dumps(rec.document()), encoding="utf-8")
    status, out, err = _scan(tmp_path, recording, "graph", "--source", "graph")
    assert status is ExitStatus.INCOMPLETE, err
    collections = {r["subscription_id"]: r["collection"] for r in _rows(out / "subscriptions.csv")}
    assert "MalformedItem" in collections[target]
    assert {r["resource_name"] for r in _rows(out / "findings.csv")} == {"vm-one", "vm-two"}  # nothing else lost


class _InterruptedAt(ReplayTransport):
    """The replay; at its `after`-th request, Ctrl-C arrives (SIGINT: KeyboardInterrupt in the main thread)."""

    def __init__(self, rec: Recording, after: int) -> None:
        super().__init__(parse_recording(rec.document(), "test"))
        self._after = after

    def send(self, request: Any, **kwargs: Any) -> Any:
        if len(self.sent) + 1 == self._after:
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.02)  # a network's latency: the reading thread waits, as it would, while the signal is seen
        return super().send(request, **kwargs)


def test_ctrl_c_stops_graph_mode_after_the_batch_being_read() -> None:
    """Twelve batches of one subscription, read one at a time: Ctrl-C during the second leaves the others unsent."""
    names = [f"s{i:02d}" for i in range(12)]
    replay = _InterruptedAt(_tenant(*names, batch_size=1), after=5)  # the list, then two queries a batch
    collector = GraphCollector(ReplayCredential(), replay, batch_size=1, max_workers=1)

    with pytest.raises(KeyboardInterrupt):
        collector.collect()

    # the batch being read when Ctrl-C came finishes, not every batch
    assert collector.stats.subscriptions_done <= 3, collector.stats


def _landing_zone(tmp_path: Path, batch_size: int) -> Path:
    path = tmp_path / "landing-zone.json"
    document = arm_payloads.landing_zone_subscriptions("lz", 60, 3, graph=True, batch_size=batch_size)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.slow
def test_graph_mode_in_processes_reads_the_same_tenant_as_in_threads(tmp_path: Path) -> None:
    """Issue 28.3: a large tenant read through Resource Graph by two processes (batches of 10 subscriptions, a
    chunk of batches at a time) gives the inventory one process gives, the lists under the rows included (the
    spokes' apps, the hub's firewall policy); this process and the worker each read part of it."""
    recipe = CollectorRecipe(replay=_landing_zone(tmp_path, 10), max_workers=8, source=Source.GRAPH)

    threads = GraphCollector(recipe.credential(), recipe.transport(), batch_size=10, max_workers=8)
    processes = GraphCollector(
        recipe.credential(), recipe.transport(), batch_size=10, max_workers=8, processes=2, recipe=recipe
    )
    in_threads, in_processes = threads.collect(), processes.collect()

    assert in_processes == in_threads and len(in_processes.subscriptions) == 61
    assert not any(s.errors for s in in_processes.subscriptions)
    assert sum(1 for s in in_processes.subscriptions for r in s.resources if r.app is not None) == 60
    policies = [p for s in in_processes.subscriptions for p in s.network.firewall_policies]
    assert len(policies) == 1 and policies[0].groups  # its rule collection groups, read through ARM
    assert processes.stats.subscriptions_done == 61 and processes.stats.requests == threads.stats.requests
    read_here = len(processes.session.client_options()["transport"].sent)
    assert 1 < read_here < threads.stats.requests


@pytest.mark.slow
def test_graph_mode_loses_nothing_when_a_worker_process_dies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'Nothing silently dropped': the chunk a dead worker held is read in this process."""
    from tests.test_throttle import _dies_in_a_worker

    monkeypatch.setattr(logging.getLogger("auditor"), "propagate", True)
    path = _landing_zone(tmp_path, 10)
    expected = GraphCollector(ReplayCredential(), ReplayTransport.from_file(path), batch_size=10).collect()
    recipe = CollectorRecipe(
        replay=path, max_workers=8, source=Source.GRAPH, transport_factory=partial(_dies_in_a_worker, path)
    )

    collector = GraphCollector(
        recipe.credential(), recipe.transport(), batch_size=10, max_workers=8, processes=2, recipe=recipe
    )
    with caplog.at_level(logging.WARNING, logger="auditor"):
        inventory = collector.collect()

    assert inventory == expected and not any(s.errors for s in inventory.subscriptions)
    assert re.search(r"a worker process stopped; its \d+ subscriptions are read in this one", caplog.text)


def _take_graph_tokens(bucket: SharedTokenBucket, count: int) -> None:
    for _ in range(count):
        bucket.take()


def test_every_process_takes_graph_tokens_from_one_bucket() -> None:
    """Throttle's docs: Resource Graph allows about 15 queries per 5 seconds *per user*, whichever process of the
    run asks. Tokens a spawned worker takes are gone for this process too: after the worker took 10 of 15, this
    process gets 5 at once and waits for the sixth."""
    context = multiprocessing.get_context("spawn")
    bucket = SharedTokenBucket(context, 15, 0.001)  # refilled too slowly to matter within the test
    worker = context.Process(target=_take_graph_tokens, args=(bucket, 10))
    worker.start()
    worker.join(60)
    assert worker.exitcode == 0

    waits = [bucket.take() for _ in range(6)]

    assert waits[:5] == [0.0] * 5 and waits[5] > 100  # (1 token short) / 0.001 a second


def _watched(path: Path, after: int) -> Any:
    """The throttle tests' interrupted replay (Ctrl-C at its `after`-th request in this process), counting the
    requests this process sends once the collector it is given has raised its stop flag."""
    from tests.test_throttle import _InterruptedTransport

    class Watched(_InterruptedTransport):
        collector: GraphCollector | None = None
        after_stop = 0

        def send(self, request: Any, **kwargs: Any) -> Any:
            if self.collector is not None and self.collector.stopping.is_set():
                self.after_stop += 1
            return super().send(request, **kwargs)

    return Watched(path, after)


@pytest.mark.slow
def test_ctrl_c_stops_graph_mode_in_every_process(tmp_path: Path) -> None:
    """Ctrl-C while a large tenant is read through Graph by two processes: the interruption reaches the caller and
    the stop flag, shared with the worker, is set, so no process starts another page, batch or list under a row.
    Counted from the flag, not from the signal: how soon a loaded machine runs Python's handler is not ours."""
    path = _landing_zone(tmp_path, 10)
    recipe = CollectorRecipe(
        replay=path, max_workers=4, source=Source.GRAPH, transport_factory=partial(_watched, path, 4)
    )
    transport = recipe.transport()
    collector = GraphCollector(recipe.credential(), transport, batch_size=10, max_workers=4, processes=2, recipe=recipe)
    transport.collector = collector

    with pytest.raises(KeyboardInterrupt):
        collector.collect()

    assert collector.stopping.is_set() and not isinstance(collector.stopping, type(threading.Event()))
    # a request that had passed its check when the flag went up: at most one a thread (2 here)
    assert transport.after_stop <= 2, transport.after_stop
