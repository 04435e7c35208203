"""`python -m brainlike ...` (what torchrun launches) is the `brainlike` command."""

import sys

from brainlike.cli import main

sys.exit(main())
