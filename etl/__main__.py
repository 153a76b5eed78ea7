"""``python -m etl COMMAND ...``: the ETL's command line.

Commands: ``demo`` (write the synthetic account as a raw export), ``build`` (raw export →
snapshot), ``emulator`` (serve an account as amoCRM API v4), ``pull`` (read an account into a raw
export), ``refresh`` (pull + build + publish).  Each lives in its own module with a ``main(argv)``.
"""

from __future__ import annotations

import importlib
import sys

from etl import allocator

COMMANDS = {
    "demo": ("etl.simulated.synth", "write the synthetic demo account as a raw export"),
    "build": ("etl.transform.build", "build a parquet snapshot from a raw export"),
    "emulator": ("etl.simulated.emulator", "serve an account as amoCRM API v4 on 127.0.0.1"),
    "pull": ("etl.extract.pull", "pull an amoCRM account (or the emulator) into a raw export"),
    "refresh": ("etl.refresh.run", "pull + build + publish in one go"),
}


def usage() -> str:
    lines = ["usage: python -m etl COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    allocator.configure()  # before the command's module imports polars
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
