"""Command line: `python -m scenebrush_trainer <command> ...`; each command is a module in COMMANDS."""

import argparse
import sys

from . import __version__
from .commands import carry, check, export, info, recover, repack, train
from .evaluation.commands import COMMANDS as EVALUATION_COMMANDS
from .training.events import Events, log, setup_logging

# One module per subcommand (NAME, HELP, add_arguments, run); adding a command is adding it here.
COMMANDS = [train, check, export, info, recover, repack, carry, *EVALUATION_COMMANDS]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scenebrush_trainer", description=__doc__)
    p.add_argument("--version", action="version", version=f"scenebrush_trainer {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to tell
        sys.stderr.close()
        return 1
    except Exception as e:  # every failure ends as one clear line (and an error event), not a traceback
        log.debug("traceback", exc_info=True)
        log.error("%s", e)
        Events(getattr(args, "events", None)).emit("error", message=str(e), kind=type(e).__name__)
        return 1


if __name__ == "__main__":
    sys.exit(main())
