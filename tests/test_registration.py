"""Adding a resource type is one registration: a row of `auditor.model.AUDITED_TYPES` (its category, ARM type and
list), a reader for its list, and rules for its category. These tests fail when a layer is left out, which before
this table failed silently (drift said `removed` for `not_read`, egress took a new type for a VM, `CUR-EA-MCAE`
decided for any category in an EA subscription)."""

from __future__ import annotations

import pytest

from auditor.classify.rules import RULES
from auditor.collect.graph import RESOURCES_QUERY
from auditor.collect.lists import AUDITED_KINDS, KINDS, RESOURCE_LISTS, ListKind
from auditor.collect.pages import ARM_LISTS
from auditor.model import AUDITED_TYPES, AuditedType, ListName, ResourceCategory, Ruleset, resource_unread

CHILD_LISTS = {t.list_name for t in AUDITED_TYPES if t.parent_list is not None}


def test_every_list_has_one_reader() -> None:
    """A list read per subscription has an SDK reader; a list under an item (slots) is read with its parent."""
    assert {kind.operation for kind in KINDS} == set(ARM_LISTS)
    assert set(ListName) == set(ARM_LISTS) | CHILD_LISTS
    assert {ListName.SLOTS} == CHILD_LISTS


@pytest.mark.parametrize("audited", AUDITED_TYPES, ids=lambda t: t.resource_type)
def test_every_audited_type_is_read_converted_queried_and_ruled(audited: AuditedType) -> None:
    kind = AUDITED_KINDS[audited.list_name]
    assert kind.resource_type == audited.resource_type
    assert audited.list_name in RESOURCE_LISTS
    if audited.parent_list is None:
        assert audited.list_name in ARM_LISTS
        assert repr(audited.resource_type.lower()) in RESOURCES_QUERY  # Graph mode asks for it too
    for ruleset in Ruleset:
        assert any(audited.category in rule.categories for rule in RULES[ruleset])


@pytest.mark.parametrize("audited", AUDITED_TYPES, ids=lambda t: t.resource_type)
def test_drift_knows_which_list_a_type_comes_from(audited: AuditedType) -> None:
    resource_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app/slots/staging"
    own = f"{audited.parent_list}/app/{audited.list_name}" if audited.parent_list else audited.list_name
    assert resource_unread({own}, audited.resource_type, resource_id)
    assert not resource_unread({"somethingElse"}, audited.resource_type, resource_id)
    if audited.parent_list is not None:
        assert resource_unread({audited.parent_list}, audited.resource_type, resource_id)


# docs/CONTRIBUTING.md, "Add a resource type": each check fails naming the step left out.
RECIPE = "docs/CONTRIBUTING.md, 'Add a resource type'"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.resource_type)
def test_each_list_follows_the_recipe(kind: ListKind) -> None:
    from auditor.collect.kept_fields import ITEMS_BY_TYPE
    from fixtures.arm_payloads import LISTS

    assert kind.operation in ARM_LISTS, f"{RECIPE}, step 3: {kind.operation} has no row in pages.py's _READERS"
    assert kind.resource_type in {t for t, _ in LISTS.values()}, (
        f"{RECIPE}, step 5: {kind.resource_type} is not in fixtures/arm_payloads.py's LISTS, so recordings built by "
        "tests do not answer its list"
    )
    assert kind.resource_type.lower() in ITEMS_BY_TYPE, (
        f"{RECIPE}, step 6: {kind.resource_type} has no spec in auditor/collect/kept_fields.py's ITEMS_BY_TYPE, so "
        "a scrubbed recording would drop its items"
    )


@pytest.mark.parametrize("audited", AUDITED_TYPES, ids=lambda t: t.resource_type)
def test_an_item_of_every_audited_type_is_classified(audited: AuditedType) -> None:
    """Without ../shared: a minimal item of the type, read through the SDK from a recording, gets a finding."""
    from auditor.classify.engine import classify
    from auditor.collect.arm import ArmCollector
    from auditor.collect.replay import ReplayCredential, ReplayTransport, parse_recording
    from auditor.model import AuditConfig
    from fixtures import arm_payloads as arm

    sub = arm.sub_id("registration")
    parent = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Web/sites/app"
    item_id = (
        f"{parent}/slots/staging"
        if audited.parent_list is not None
        else f"/subscriptions/{sub}/resourceGroups/rg/providers/{audited.resource_type}/item"
    )
    item = {"id": item_id, "name": item_id.rsplit("/", 1)[-1], "type": audited.resource_type,
            "location": "westeurope", "properties": {}}  # fmt: skip
    recording = arm.Recording()
    recording.record("/subscriptions", "subscriptions", arm.page([arm.subscription("registration", "R", "EA_1")]))
    if audited.parent_list is not None:
        site = {"id": parent, "name": "app", "type": "Microsoft.Web/sites", "location": "westeurope", "properties": {}}
        recording.record_subscription(sub, sites=[site], slots={"app": [item]})
    else:
        key = next(k for k, (t, _) in arm.LISTS.items() if t == audited.resource_type)
        recording.record_subscription(sub, **{key: [item]})
    recording.record_billing([])
    inventory = ArmCollector(ReplayCredential(), ReplayTransport(parse_recording(recording.document(), "t"))).collect()

    findings, _ = classify(inventory, AuditConfig(), Ruleset.CURRENT)

    assert item_id in {f.resource.resource_id for f in findings}, f"{RECIPE}: no finding for {audited.resource_type}"


@pytest.mark.parametrize("category", list(ResourceCategory))
def test_every_category_has_its_registrations(category: ResourceCategory) -> None:
    """One registration per layer: how its items are read, which ways out it has, which rules speak of it."""
    from auditor.classify.network import EgressEvaluator, NetworkIndex
    from auditor.collect.lists import FIELDS_BY_CATEGORY
    from auditor.model import TenantInventory

    assert category in FIELDS_BY_CATEGORY, f"{RECIPE}, step 1: {category} has no row in lists.FIELDS_BY_CATEGORY"
    evaluator = EgressEvaluator(NetworkIndex(TenantInventory(())))
    assert evaluator.follows(category), f"{RECIPE}, step 2: {category} has no ways out in EgressEvaluator"
    for ruleset in Ruleset:
        assert any(category in rule.categories for rule in RULES[ruleset]), (
            f"{RECIPE}, step 4: no rule of {ruleset} speaks of {category}"
        )


@pytest.mark.parametrize("audited", [t for t in AUDITED_TYPES if t.parent_list is not None], ids=lambda t: t.list_name)
def test_a_type_listed_under_an_item_is_read_with_its_parent(audited: AuditedType) -> None:
    """docs/CONTRIBUTING.md, 'Add a resource type', step 3: a type listed under an item is read in children.py."""
    from auditor.collect.children import READ_UNDER

    assert audited.parent_list in READ_UNDER, (
        f"{RECIPE}, step 3: {audited.list_name} is listed under {audited.parent_list}, which children.READ_UNDER "
        "does not read"
    )
    read = READ_UNDER[audited.parent_list](None, [], [])  # type: ignore[arg-type]  # no item: no client asked
    assert audited.list_name in read, (
        f"{RECIPE}, step 3: children.READ_UNDER[{audited.parent_list}] does not return the {audited.list_name} list"
    )
