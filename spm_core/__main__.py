"""`python -m spm_core ...`: see cli.py."""

from .cli import main

raise SystemExit(main())
