"""The frozen build's entry point: the same ``main`` as the ``agent-assist`` console script."""

import sys

from desktop.entry import main

if __name__ == "__main__":
    sys.exit(main())
