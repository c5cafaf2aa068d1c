"""Issue 17.1-3: scope an audit the way enterprises run them: management groups at any depth, exclusions that are
listed and not dropped, and subscription states whose resources cannot run."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.status import ExitStatus
from fixtures.arm_payloads import (
    Recording,
    authorization_failed,
    descendants_path,
    management_group_entity,
    management_group_subscription,
    page,
    sub_id,
    subscription,
    vm,
)
from tests.recordings import run_cli

ROOT, PLATFORM = "mg-contoso", "mg-platform"
IN_ROOT, IN_PLATFORM, OUTSIDE, HIDDEN = (sub_id(n) for n in ("in-root", "in-platform", "outside", "hidden"))


def _tenant(
    tmp_path: Path,
    descendants: Any = None,
    status: int = 200,
    states: dict[str, str] | None = None,
) -> Path:
    """Three visible subscriptions (one VM each): one directly under the root group, one under a child group, one
    outside; the group also lists a subscription the identity cannot see."""
    rec = Recording()
    states = states or {}
    names = {IN_ROOT: "in-root", IN_PLATFORM: "in-platform", OUTSIDE: "outside"}
    rec.record(
        "/subscriptions",
        "subscriptions",
        page(
            [
                subscription(n, n, "EnterpriseAgreement_2014-09-01", state=states.get(n, "Enabled"))
                for n in names.values()
            ]
        ),
    )
    for sub, name in names.items():
        rec.record_subscription(sub, vms=[vm(sub, "rg", f"vm-{name}")])
    body = (
        descendants
        if descendants is not None
        else page(
            [
                management_group_entity(PLATFORM, "Platform", ROOT),
                management_group_subscription(IN_ROOT, "in-root", ROOT),
                management_group_subscription(IN_PLATFORM, "in-platform", PLATFORM),
                management_group_subscription(HIDDEN, "hidden", PLATFORM),
            ]
        )
    )
    rec.record(
        descendants_path(ROOT), "management", body if status == 200 else authorization_failed("", "read"), status
    )
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(rec.document()), encoding="utf-8")
    return path


def _scan(
    recording: Path, tmp_path: Path, *argv: str, config: str = ""
) -> tuple[ExitStatus, str, dict[str, dict[str, str]], list[dict[str, str]]]:
    out = tmp_path / "reports"
    extra = []
    if config:
        (tmp_path / "audit.toml").write_text(config, encoding="utf-8")
        extra = ["--config", str(tmp_path / "audit.toml")]
    status, _, stderr = run_cli("scan", "--replay", str(recording), "--out", str(out), "--quiet", *extra, *argv)
    if not (out / "subscriptions.csv").exists():
        return status, stderr, {}, []
    with (out / "subscriptions.csv").open(encoding="utf-8", newline="") as handle:
        subscriptions = {row["subscription_id"]: row for row in csv.DictReader(handle)}
    with (out / "findings.csv").open(encoding="utf-8", newline="") as handle:
        findings = list(csv.DictReader(handle))
    return status, stderr, subscriptions, findings


def test_a_management_group_scopes_the_audit_at_any_depth_and_names_each_subscription_s_group(tmp_path: Path) -> None:
    status, _, subscriptions, findings = _scan(_tenant(tmp_path), tmp_path, "--management-group", ROOT)

    assert {f["resource_name"] for f in findings} == {"vm-in-root", "vm-in-platform"}
    assert subscriptions[IN_ROOT]["management_group"] == ROOT
    assert subscriptions[IN_PLATFORM]["management_group"] == PLATFORM
    assert OUTSIDE not in subscriptions
    # a subscription the group lists but the identity cannot see is named, not dropped: the audit is incomplete
    assert HIDDEN in subscriptions and subscriptions[HIDDEN]["management_group"] == PLATFORM
    assert "NotVisible" in subscriptions[HIDDEN]["collection"]
    assert status is ExitStatus.INCOMPLETE


def test_a_management_group_that_cannot_be_read_is_an_error_never_an_empty_audit(tmp_path: Path) -> None:
    recording = _tenant(tmp_path, status=403)

    status, stderr, _, findings = _scan(recording, tmp_path, "--management-group", ROOT)

    # nothing could be audited (issue 27.7): its own code, the error on stderr, no empty reports written
    assert status is ExitStatus.NOTHING_AUDITED and findings == []
    assert f"management group {ROOT} could not be read (HTTP 403 AuthorizationFailed)" in stderr
    assert not (tmp_path / "reports").exists()


def test_a_descendants_answer_without_its_list_is_an_error(tmp_path: Path) -> None:
    status, stderr, _, findings = _scan(_tenant(tmp_path, descendants={"nextLink": None}), tmp_path,
                                        "--management-group", ROOT)  # fmt: skip

    assert status is ExitStatus.NOTHING_AUDITED and findings == [] and "no 'value' list" in stderr


def test_excluded_subscriptions_are_listed_with_their_reason_and_not_read(tmp_path: Path) -> None:
    config = f'[subscriptions."{OUTSIDE}"]\nexclude = true\nreason = "sandbox, audited by its owner"\n'

    status, stderr, subscriptions, findings = _scan(
        _tenant(tmp_path), tmp_path, "--exclude-subscription", IN_ROOT, config=config
    )

    assert status is ExitStatus.SUCCESS, stderr  # left out by choice is not "could not be read"
    assert subscriptions[IN_ROOT]["collection"] == "excluded: --exclude-subscription"
    assert subscriptions[OUTSIDE]["collection"] == "excluded: sandbox, audited by its owner"
    assert {f["resource_name"] for f in findings} == {"vm-in-platform"}


@pytest.mark.parametrize(
    ("state", "audited"),
    [
        ("Disabled", False),
        ("Deleted", False),
        ("Expired", False),
        ("Warned", True),
        ("PastDue", True),
        ("SomethingNew", True),
        ("", True),
    ],  # a state Azure does not document is read: more exposure, not less
)
def test_subscriptions_whose_resources_cannot_run_are_listed_not_read(
    tmp_path: Path, state: str, audited: bool
) -> None:
    """ "Azure subscription states": a Disabled subscription's VMs are deallocated and its services stopped; a
    Deleted one holds nothing; Warned and Past Due subscriptions are still active."""
    recording = _tenant(tmp_path, states={"outside": state})

    status, stderr, subscriptions, findings = _scan(recording, tmp_path)

    assert status is ExitStatus.SUCCESS, stderr
    assert ("vm-outside" in {f["resource_name"] for f in findings}) is audited
    if not audited:
        assert subscriptions[OUTSIDE]["collection"].startswith(f"not audited: its state is {state}")
        assert subscriptions[OUTSIDE]["state"] == state
        status, _, subscriptions, findings = _scan(recording, tmp_path, "--include-state", state.lower())
        assert "vm-outside" in {f["resource_name"] for f in findings} and subscriptions[OUTSIDE]["collection"] == "ok"


def test_the_config_s_exclude_must_be_true_or_false(tmp_path: Path) -> None:
    status, stderr, _, _ = _scan(_tenant(tmp_path), tmp_path, config=f'[subscriptions."{OUTSIDE}"]\nexclude = "yes"\n')

    assert status is ExitStatus.USAGE and ".exclude: 'yes' is not true or false" in stderr


def test_microsoft_s_descendants_example_through_the_sdk_pipeline(tmp_path: Path, arm_examples: Path) -> None:
    """Management Groups - Get Descendants (2023-04-01), Microsoft's own example: one child group and one
    subscription directly under the group asked for."""
    example = json.loads((arm_examples / "management" / "GetDescendants.json").read_text(encoding="utf-8"))
    group = example["parameters"]["groupId"]
    (listed,) = [i for i in example["responses"]["200"]["body"]["value"] if i["type"].endswith("/subscriptions")]
    rec = Recording()
    visible = {**subscription("x", "x", "EnterpriseAgreement_2014-09-01"), "subscriptionId": listed["name"]}
    rec.record("/subscriptions", "subscriptions", page([{**visible, "id": listed["id"]}]))
    rec.record_subscription(listed["name"], vms=[vm(listed["name"], "rg", "vm-example")])
    rec.record(descendants_path(group), "management", example["responses"]["200"]["body"])
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(rec.document()), encoding="utf-8")

    status, stderr, subscriptions, findings = _scan(path, tmp_path, "--management-group", group)

    assert status is ExitStatus.SUCCESS, stderr
    assert subscriptions[listed["name"]]["management_group"] == group
    assert [f["resource_name"] for f in findings] == ["vm-example"]
