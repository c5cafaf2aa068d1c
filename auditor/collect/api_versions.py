"""The REST API version of every call port25-audit sends itself (`paging.json_pages`): the ones the SDK's own
operations send (`tests/test_pages.py` checks the per-subscription lists against the SDK). One place: the
fixtures that record answers take theirs from here too."""

from __future__ import annotations

SUBSCRIPTIONS = "2022-12-01"  # Subscriptions - List, as the SDK's SubscriptionClient sends it
COMPUTE = "2026-04-01"
NETWORK = "2026-03-01"
WEB = "2025-05-01"
CONTAINER_APPS = "2026-07-01"
CONTAINER_INSTANCES = "2023-05-01"
RESOURCE_GRAPH = "2021-03-01"  # sent by the SDK's ResourceGraphClient; recorded answers name it
BILLING = "2024-04-01"  # Billing Accounts - List and Billing Subscriptions - List By Billing Account
MANAGEMENT_GROUPS = "2023-04-01"  # Management Groups - Get Descendants
RESOURCE_GROUPS = "2021-04-01"  # Resource Groups - List, as azure-mgmt-resource's ResourceManagementClient sends it
