"""Exit codes (docs/design.md §3). Only `auditor.__main__` turns one into a process exit."""

from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0  # the audit is complete
    FINDINGS = 1  # a --fail-on verdict, or new exposure against --baseline
    INCOMPLETE = 2  # some subscription or list could not be read; it is in the reports, marked
    USAGE = 64  # bad arguments or audit config
    DATA_ERROR = 65  # an input file whose contents cannot be used (not a scan.json or recording, another schema)
    NO_INPUT = 66  # an input file (recording, config) cannot be read
    SOFTWARE = 70  # a bug in port25-audit
    CANT_CREATE = 73  # the reports cannot be written, another scan is writing into --out, or --upload failed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it): the audit did not finish
