"""``python -m gridpart``: the same as the ``gridpart`` command (see :mod:`gridpart.cli`)."""

import sys

from gridpart.cli import main

if __name__ == "__main__":
    sys.exit(main())
