"""``python -m nxhub_logger`` and the zipapp's entry point."""

import sys

from nxhub_logger.cli import main

sys.exit(main())
