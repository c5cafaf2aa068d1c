"""Issue 7: billing accounts mark MCA-E and Enterprise Dev/Test where the identity may read them; without that
permission, one line, and the audit config and quota ids decide as before. The config still wins."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import Environment, main
from auditor.collect.billing import billing_fact
from auditor.model import Offer
from auditor.status import ExitStatus
from fixtures.arm_payloads import billing_account, billing_subscription, sub_id
from tests.conftest import CONTOSO, CONTOSO_CONFIG

BILLING_ACCOUNTS = "/providers/Microsoft.Billing/billingAccounts?"


def _scan(tmp_path: Path, recording: Path, *extra: str) -> tuple[ExitStatus, dict[str, dict[str, str]], str]:
    out, err = io.StringIO(), io.StringIO()
    reports = tmp_path / "reports"
    status = main(["scan", "--replay", str(recording), "--out", str(reports), *extra], Environment(out, err))
    with (reports / "subscriptions.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["subscription_id"]: row for row in csv.DictReader(handle)}
    return status, rows, err.getvalue()


def test_billing_marks_mca_e_and_enterprise_dev_test_without_config(tmp_path: Path) -> None:
    status, rows, stderr = _scan(tmp_path, CONTOSO)
    assert status is ExitStatus.INCOMPLETE  # the bundled tenant's two 403s; billing itself read fine
    mcae, devtest, payg = rows[sub_id("mcae")], rows[sub_id("devtest")], rows[sub_id("payg")]
    # quotaId EnterpriseAgreement_2014-09-01 alone reads as EA; the MCA-E billing account says what it is
    assert mcae["quota_id"] == "EnterpriseAgreement_2014-09-01" and mcae["offer"] == "mca_enterprise"
    assert mcae["offer_note"].startswith("from its billing account: Microsoft Customer Agreement, Enterprise")
    assert devtest["offer"] == "enterprise_devtest" and "MS-AZR-0148P" in devtest["offer_note"]
    assert payg["offer_note"].startswith("from quotaId")  # in no billing account the identity can read
    assert "billing" not in stderr


def test_the_audit_config_still_wins_over_billing(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(f'[subscriptions."{sub_id("mcae")}"]\noffer = "enterprise_agreement"\n', encoding="utf-8")
    _, rows, _ = _scan(tmp_path, CONTOSO, "--config", str(config))
    assert rows[sub_id("mcae")]["offer"] == "enterprise_agreement"
    assert rows[sub_id("mcae")]["offer_note"] == "offer set in the audit config"


def _without_billing_permission(tmp_path: Path) -> Path:
    document = json.loads(CONTOSO.read_text(encoding="utf-8"))
    for entry in document["Entries"]:
        if BILLING_ACCOUNTS in entry["RequestUri"]:
            entry["StatusCode"] = 403
            entry["ResponseBody"] = {
                "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization."}
            }
    path = tmp_path / "no-billing.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_without_billing_permission_one_line_and_config_and_quota_ids_decide(tmp_path: Path) -> None:
    recording = _without_billing_permission(tmp_path)
    status, rows, stderr = _scan(tmp_path, recording, "--config", str(CONTOSO_CONFIG))
    with_billing_status, _, _ = _scan(tmp_path / "b", CONTOSO, "--config", str(CONTOSO_CONFIG))

    assert status is with_billing_status is ExitStatus.INCOMPLETE  # billing is optional: it changes no exit code
    lines = [line for line in stderr.splitlines() if "billing" in line]
    assert lines == [
        "port25-audit: billing accounts could not be read (HTTP 403 AuthorizationFailed): MCA-E and Enterprise "
        "Dev/Test come from the audit config and quota ids (give the identity a billing reader role to have "
        "them read)"
    ]
    assert rows[sub_id("mcae")]["offer_note"] == "offer set in the audit config"
    assert rows[sub_id("devtest")]["offer_note"].startswith("from quotaId MSDNDevTest_2014-09-01")


def _account(agreement: str, kind: str) -> dict[str, Any]:
    return billing_account("acc", "Account", agreement, kind)


@pytest.mark.parametrize(
    ("agreement", "kind", "ids", "offer"),
    [
        ("MicrosoftCustomerAgreement", "Enterprise", {"skuId": "0001"}, Offer.MCA_ENTERPRISE),
        ("MicrosoftCustomerAgreement", "Enterprise", {"skuId": "0002"}, Offer.ENTERPRISE_DEVTEST),
        ("MicrosoftCustomerAgreement", "Individual", {"skuId": "0001"}, None),  # MCA, but not MCA-E
        ("EnterpriseAgreement", "Enterprise", {"offerId": "MS-AZR-0148P"}, Offer.ENTERPRISE_DEVTEST),
        ("EnterpriseAgreement", "Enterprise", {"offerId": "MS-AZR-0017P"}, None),  # plain EA: the quotaId says so
        ("MicrosoftOnlineServicesProgram", "Individual", {"offerId": "MS-AZR-0148P"}, None),
    ],
)
def test_what_a_billing_account_decides(agreement: str, kind: str, ids: dict[str, str], offer: Offer | None) -> None:
    sub = sub_id("x")
    fact = billing_fact(_account(agreement, kind), billing_subscription("acc", sub, "x", **ids))
    assert (fact.offer if fact else None) is offer
    if fact:
        assert fact.subscription_id == sub


def test_a_billing_subscription_without_an_azure_subscription_decides_nothing() -> None:
    item = billing_subscription("acc", "", "seat licence", skuId="0001")
    assert billing_fact(_account("MicrosoftCustomerAgreement", "Enterprise"), item) is None
