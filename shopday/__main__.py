import sys

from shopday.cli import main

sys.exit(main())
