"""``python -m interlace``: the same as the ``interlace`` command."""

import sys

from interlace.cli import main

if __name__ == "__main__":
    sys.exit(main())
