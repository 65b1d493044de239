"""`python -m mimo_eval.cli ...`: the `mimo-eval` command without the installed script."""
import sys

from mimo_eval.cli import main

sys.exit(main())
