"""Adding a resource type is one registration: a row of `auditor.model.AUDITED_TYPES` (its category, ARM type and
list), a reader for its list, and rules for its category. These tests fail when a layer is left out, which before
this table failed silently (drift said `removed` for `not_read`, egress took a new type for a VM, `CUR-EA-MCAE`
decided for any category in an EA subscription)."""

from __future__ import annotations

import pytest

from auditor.classify.rules import RULES
from auditor.collect.graph import RESOURCES_QUERY
from auditor.collect.lists import AUDITED_KINDS, KINDS, RESOURCE_LISTS
from auditor.collect.pages import ARM_LISTS
from auditor.model import AUDITED_TYPES, AuditedType, ListName, Ruleset, resource_unread

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
