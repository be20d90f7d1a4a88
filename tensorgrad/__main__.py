"""`python -m tensorgrad ...`: the same as the `tensorgrad` command."""
import sys

from .app.cli import main

sys.exit(main())
