"""`python -m auditor` and the `port25-audit` console script: the only place that ends the process."""

import sys

from auditor.cli import main


def main_exit() -> None:
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
