"""Counts every view shares, without pandas (the terminal's summary is printed by a process that may not load it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model import Finding, Verdict


@dataclass(frozen=True)
class OpenCounts:
    """Open resources, told apart as the headline, the summary and the workbook count them: those no exception
    accepts (what needs an action), those accepted, and those whose exception expired (counted with the first)."""

    open: int
    accepted: int
    expired: int
    first_expiry: dt.date | None  # the soonest expiry of an accepted one

    @property
    def not_accepted(self) -> int:
        return self.open - self.accepted


def open_counts(findings: Sequence[Finding]) -> OpenCounts:
    opened = [f for f in findings if f.verdict is Verdict.OPEN]
    accepted = [f for f in opened if f.accepted]
    expired = sum(1 for f in opened if f.exception is not None and not f.accepted)
    expiries = [f.exception.exception.expires for f in accepted if f.exception is not None]
    return OpenCounts(len(opened), len(accepted), expired, min(expiries, default=None))
