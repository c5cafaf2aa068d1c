from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from auditor.config import ConfigError, load_config, parse_config
from auditor.model import Offer, SubscriptionFacts
from auditor.offers import QUOTA_IDS, quota_id_entry, read_offer

# docs/design.md §2's quotaIds, each of which must be in the table.
DESIGN_QUOTA_IDS = [
    "EnterpriseAgreement_2014-09-01",
    "MSDNDevTest_2014-09-01",
    "PayAsYouGo_2014-09-01",
    "MSDN_2014-09-01",
    "MPN_2014-09-01",
    "CSP_2015-05-01",
    "CSP_MG_2017-12-01",
    "CSPDEVTEST_2018-05-01",
    "FreeTrial_2014-09-01",
    "AzurePass_2014-09-01",
    "AzureInOpen_2014-09-01",
    "AzureForStudents_2018-01-01",
    "DreamSpark_2015-02-01",
    "Sponsored_2016-01-01",
    "BizSpark_2014-09-01",
    "BizSparkPlus_2014-09-01",
    "LightweightTrial_2016-09-01",
    "Internal_2014-09-01",
    "Default_2014-09-01",
    "AAD_2015-09-01",
]
SUB = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize("quota_id", DESIGN_QUOTA_IDS)
def test_design_quota_ids_are_mapped_with_a_source(quota_id: str) -> None:
    entry = quota_id_entry(quota_id)
    assert entry is not None and entry.source and entry.offers_behind_it


def test_quota_ids_are_case_insensitive_and_unique() -> None:
    assert quota_id_entry("enterpriseagreement_2014-09-01") is quota_id_entry("EnterpriseAgreement_2014-09-01")
    assert len({e.quota_id.lower() for e in QUOTA_IDS}) == len(QUOTA_IDS)


def test_shared_quota_id_takes_the_reading_with_more_exposure_and_says_so() -> None:
    # Cost Management's offer table: EA (0017P) and MCA's Azure plan share EnterpriseAgreement_2014-09-01;
    # Enterprise Dev/Test, PAYG Dev/Test and VS Test Professional share MSDNDevTest_2014-09-01.
    ea = read_offer("EnterpriseAgreement_2014-09-01", SubscriptionFacts())
    assert ea.offer is Offer.ENTERPRISE_AGREEMENT and "MCA" in ea.note and "more exposure" in ea.note
    devtest = read_offer("MSDNDevTest_2014-09-01", SubscriptionFacts())
    assert devtest.offer is Offer.ENTERPRISE_DEVTEST and "Pay-As-You-Go Dev/Test" in devtest.note


def test_unknown_quota_id_is_unknown_and_named() -> None:
    reading = read_offer("Contoso_2099-01-01", SubscriptionFacts())
    assert reading.offer is None and "Contoso_2099-01-01" in reading.note


def test_config_offer_wins_over_quota_id() -> None:
    reading = read_offer("EnterpriseAgreement_2014-09-01", SubscriptionFacts(offer=Offer.MCA_INDIVIDUAL))
    assert reading.offer is Offer.MCA_INDIVIDUAL and reading.source == "config"


def test_config_parses_dates_and_offers(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text(
        f'[subscriptions."{SUB.upper()}"]\noffer = "enterprise_devtest"\ncreated = 2016-03-01\n'
        'exemption_granted = "2025-02-01"\n',
        encoding="utf-8",
    )
    facts = load_config(path)[0].facts_for(SUB)
    assert facts == SubscriptionFacts(Offer.ENTERPRISE_DEVTEST, dt.date(2016, 3, 1), dt.date(2025, 2, 1))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"subscriptions": {SUB: {"offer": "enterprise"}}},
            f"[subscriptions.\"{SUB}\"].offer: unknown offer 'enterprise'",
        ),
        (
            {"subscriptions": {SUB: {"created": "last year"}}},
            f"[subscriptions.\"{SUB}\"].created: 'last year' is not a date",
        ),
        ({"subscriptions": {SUB: {"ofer": "msdn"}}}, "unknown key 'ofer'"),
        ({"subscriptions": {"prod": {"offer": "msdn"}}}, '[subscriptions."prod"]: not a subscription id'),
        ({"subscription": {}}, "unknown top-level key 'subscription'"),
    ],
)
def test_bad_config_names_the_place(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(document, "audit.toml")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_toml_syntax_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text('[subscriptions."x"\noffer = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1"):
        load_config(path)
