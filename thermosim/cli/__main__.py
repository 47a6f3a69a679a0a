"""``python -m thermosim.cli``."""

import sys

from . import main

sys.exit(main())
