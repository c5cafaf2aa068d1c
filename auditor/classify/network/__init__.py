"""The network a resource's traffic crosses to the internet, as typed steps.

`path` is the vocabulary every other module speaks (steps, reasons, outcomes, paths); `index` holds the tenant's
network objects; `nsg`, `routes`, `routing`, `firewall_rules`, `firewall_path` and `outbound` decide one kind of
step each; `sharing` decides once what many senders share; `evaluator` is the façade the engine asks.
"""

from auditor.classify.network.evaluator import EgressEvaluator
from auditor.classify.network.index import NetworkIndex
from auditor.classify.network.path import (
    NOT_FOLLOWED,
    AllowingRule,
    ClosingPoint,
    HopKind,
    MissingFact,
    NetworkPath,
    Outcome,
    Reason,
    SharedPaths,
    Step,
    Unread,
)

__all__ = [
    "NOT_FOLLOWED",
    "AllowingRule",
    "ClosingPoint",
    "EgressEvaluator",
    "HopKind",
    "MissingFact",
    "NetworkIndex",
    "NetworkPath",
    "Outcome",
    "Reason",
    "SharedPaths",
    "Step",
    "Unread",
]
