"""Entry point of the demo's training worker processes (see :mod:`s2rdepth.demo.scheduler`)."""
import sys

from s2rdepth.demo.scheduler import _worker_main

if __name__ == "__main__":
    sys.exit(_worker_main())
