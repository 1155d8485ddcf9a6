"""``python -m jaxopt_hw.cli``: the ``jaxopt-hw`` command."""

import sys

from jaxopt_hw.cli import main

sys.exit(main())
