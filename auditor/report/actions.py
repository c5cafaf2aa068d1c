"""What to do, grouped: the kind of step each finding needs (from its verdict, platform policy, egress and path,
never from its text), and how many resources (or unread subscriptions) each step concerns. The page lists the
groups under its headline, each a link to its rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from auditor.classify.network.path import HopKind
from auditor.model import Egress, Finding, PlatformPolicy, Verdict


class Step(StrEnum):
    CLOSE = "close"
    REQUEST_EXEMPTION = "request_exemption"
    READ_SUBSCRIPTIONS = "read_subscriptions"  # a step for subscriptions, not for rows
    READ_NETWORK = "read_network"
    SUPPLY_FACT = "supply_fact"
    CHECK_EGRESS = "check_egress"
    FIND_OUT = "find_out"


STEP_TEXT: dict[Step, str] = {
    Step.CLOSE: "resource(s) can send now: close the path, or send through a relay.",
    Step.REQUEST_EXEMPTION: "resource(s) are blocked by Azure and the block can be lifted: request the exemption "
    "(each row says how).",
    Step.READ_SUBSCRIPTIONS: "subscription(s) could not be read in full: give the identity Reader on them, then scan "
    "again.",
    Step.READ_NETWORK: "resource(s) are unknown for want of read access to part of their network.",
    Step.SUPPLY_FACT: "resource(s) need a fact the rule asks for (the subscription's offer or creation date in the "
    "audit config, or how an app routes its traffic).",
    Step.CHECK_EGRESS: "resource(s) leave Azure through an appliance or on-premises: check that egress.",
    Step.FIND_OUT: "resource(s) could not be judged from what was read: each row says what is missing.",
}


@dataclass(frozen=True)
class Action:
    step: Step
    count: int

    @property
    def text(self) -> str:
        return STEP_TEXT[self.step]


def steps(findings: Sequence[Finding], overview: pd.DataFrame, accepted: np.ndarray) -> np.ndarray:
    """Each finding's step (a Step value), "" where it needs none: open ones an exception accepts need none.
    `overview`: the findings' verdict, platform_policy and egress columns; `accepted`: which an exception accepts."""
    verdicts = overview["verdict"].to_numpy()
    said = np.full(len(verdicts), "", dtype=object)
    said[(verdicts == Verdict.OPEN.value) & ~accepted] = Step.CLOSE.value
    said[overview["platform_policy"].to_numpy() == PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE.value] = (
        Step.REQUEST_EXEMPTION.value
    )
    for position in np.flatnonzero(verdicts == Verdict.UNKNOWN.value):  # a few: read one by one
        said[position] = _unknown_step(findings[int(position)]).value
    return said


def _unknown_step(finding: Finding) -> Step:
    if finding.platform_policy is PlatformPolicy.UNKNOWN:
        return Step.SUPPLY_FACT
    if finding.egress in (Egress.APPLIANCE, Egress.ON_PREMISES):
        return Step.CHECK_EGRESS
    if any(hop.kind == HopKind.MISSING.value for hop in finding.path):
        return Step.READ_NETWORK
    return Step.FIND_OUT


def actions(said: np.ndarray, unread_subscriptions: int = 0) -> list[Action]:
    """The steps the findings need (`said`, from `steps`), each with how many it concerns, in the order to take
    them; with the subscriptions that could not be read in full (not for a group of resources)."""
    # counted as the objects they are: np.unique would first copy them into a fixed-width text array (80 MB at a
    # million findings, the largest of the page's costs)
    counted = Counter(said.tolist())
    counted[Step.READ_SUBSCRIPTIONS.value] = unread_subscriptions
    return [Action(step, int(counted[step.value])) for step in Step if counted.get(step.value)]
