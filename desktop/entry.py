"""The ``agent-assist`` console script: ``event`` goes to the light hook command, the rest to the full CLI.

Softphone hooks run ``agent-assist event …`` on every call event and wait for it; importing the whole CLI
(pydantic, the consent engine) would cost more than the event itself, so that path imports only the standard
library (``desktop.hook``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "event":
        from desktop.hook import main as hook_main

        return hook_main(arguments[1:])
    from desktop.cli import main as cli_main

    return cli_main(arguments)


if __name__ == "__main__":
    sys.exit(main())
