"""`python -m mobile_client.agent`."""

import sys

from mobile_client.agent.cli import main

sys.exit(main())
