"""``python -m signtheory``: the command-line interface (see :mod:`signtheory.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
