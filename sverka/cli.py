"""The ``sverka`` command: the same verification the DAGs run, on the embedded defaults.

    sverka verify INBOX --registry REGISTRY.csv --out OUTDIR [--workers N] [--today D]
    sverka show OUTDIR                      # the verdict table of a finished run

Exit status: 0 when every document got a verdict (whatever the verdicts), 2 when the
run could not proceed (bad arguments, unreadable registry), 1 on an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.config import Settings
from contracts.errors import RegistrySnapshotInvalid, StorageError, UsageError
from contracts.models import SubmissionResult
from contracts.privacy import MaskingFilter
from storage.inbox import list_submissions
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from sverka import __version__
from sverka.report import load_verdict_folder, verdict_table
from sverka.runner import open_services, run

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.verbose)
    console = Console(stderr=True)
    try:
        return args.handler(args, console)
    except UsageError as exc:
        console.print(f"[red]sverka: {exc}[/red]")
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sverka", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"sverka {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    verify = commands.add_parser("verify", help="verify every submission in an inbox folder")
    verify.add_argument("inbox", type=Path, help="folder with one folder per submission")
    verify.add_argument("--registry", type=Path, required=True, help="registry CSV export")
    verify.add_argument("--out", type=Path, required=True, help="folder for verdict JSON")
    verify.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    verify.add_argument("--today", type=date.fromisoformat, default=None,
                        help="check date YYYY-MM-DD (default: today)")
    verify.add_argument("--database", default=None,
                        help="database URL (default: sqlite in OUTDIR/sverka.sqlite)")
    verify.add_argument("--log-json", action="store_true",
                        help="print one JSON line per document to stdout")
    verify.set_defaults(handler=_verify)

    show = commands.add_parser("show", help="print the verdict table of an output folder")
    show.add_argument("out", type=Path)
    show.set_defaults(handler=_show)
    return parser


def _verify(args: argparse.Namespace, console: Console) -> int:
    if not args.inbox.is_dir():
        raise UsageError(f"inbox {args.inbox} is not a folder")
    if not args.registry.is_file():
        raise UsageError(f"registry {args.registry} is not a file")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    database_url = args.database or f"sqlite:///{(args.out / 'sverka.sqlite').resolve()}"
    settings = Settings.from_env(today=args.today, database_url=database_url)
    try:
        services = open_services(settings)
        snapshot = services.registry.load_csv(args.registry, source=str(args.registry))
    except RegistrySnapshotInvalid as exc:
        raise UsageError(f"registry {args.registry} cannot be loaded: {exc}") from exc
    except StorageError as exc:
        raise UsageError(f"database {database_url} cannot be used: {exc}") from exc
    console.print(f"registry: {snapshot.row_count} records loaded from {args.registry}")

    inbox = LocalObjectStore(args.inbox.resolve())
    prefixes = list_submissions(inbox)
    publisher = Publisher(services.engine, LocalObjectStore(args.out.resolve()), mask=False,
                          key_prefix="", actor="sverka-cli")
    results = _run_with_progress(args, settings, inbox, prefixes, publisher, console)
    _wide_console().print(verdict_table([v for r in results for v in r.documents]))
    console.print(f"verdicts written to {args.out.resolve()}/<submission_id>/")
    return EXIT_OK


def _run_with_progress(args: argparse.Namespace, settings: Settings, inbox: LocalObjectStore,
                       prefixes: list[str], publisher: Publisher,
                       console: Console) -> list[SubmissionResult]:
    columns = (TextColumn("[bold]verifying"), BarColumn(), MofNCompleteColumn(),
               TextColumn("submissions"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("verify", total=len(prefixes))

        def on_result(result: SubmissionResult) -> None:
            progress.advance(task)
            if args.log_json:
                for verdict in result.documents:
                    line = {"submission_id": verdict.submission_id,
                            "document_id": verdict.document_id, "verdict": verdict.verdict,
                            "codes": verdict.codes,
                            "seconds": round(sum(s.seconds for s in verdict.stages), 3)}
                    print(json.dumps(line, ensure_ascii=False), flush=True)

        return run(inbox.describe(), prefixes, settings, publisher, workers=args.workers,
                   on_result=on_result)


def _show(args: argparse.Namespace, console: Console) -> int:
    if not args.out.is_dir():
        raise UsageError(f"{args.out} is not a folder")
    _wide_console().print(verdict_table(load_verdict_folder(args.out)))
    return EXIT_OK


def _wide_console() -> Console:
    """A table piped to a log or a CI page keeps a readable width, not 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])


if __name__ == "__main__":
    sys.exit(main())
