"""`python -m cli` runs the command-line client, as the `soundscripter` script does."""

import sys

from cli.main import main

sys.exit(main())
