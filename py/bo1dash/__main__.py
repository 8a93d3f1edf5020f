import sys

from bo1dash.cli import main

sys.exit(main())
