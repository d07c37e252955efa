import sys

from connectors.sandbox.serve import main

sys.exit(main())
