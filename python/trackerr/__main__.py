"""``python -m trackerr``: the ``trackerr`` command (``report``, ``demo``)."""

import sys

from .cli import main

sys.exit(main())
