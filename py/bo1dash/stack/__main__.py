"""`python -m bo1dash.stack`: the same as `bo1dash up`."""

import sys

from bo1dash.stack.cli import main

sys.exit(main())
