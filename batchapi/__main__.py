import sys

from batchapi.cli import main

sys.exit(main())
