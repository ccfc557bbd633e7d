"""``python -m benchmarks``: the whole suite (see ``--help``)."""
import sys

from .runner import main

sys.exit(main())
