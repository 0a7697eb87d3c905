"""``python -m s2rdepth`` is the ``s2rdepth`` command line."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
