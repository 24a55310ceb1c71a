"""Command line of the reader agent: arguments, falling back to READER_AGENT_* variables."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from reader_agent.errors import ConfigurationError, ReaderAgentError

log = logging.getLogger("reader_agent")

EXIT_CONFIG = 2


def default_key_file() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return str(Path(base) / "reader-agent" / "eid-token.key")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="reader-agent",
        description="Read Belgian eID cards at the counter for the loyalty server.",
    )
    parser.add_argument("--server", default=env("READER_AGENT_SERVER"), help="server base URL")
    parser.add_argument("--token", default=env("READER_AGENT_TOKEN"), help="device token")
    parser.add_argument(
        "--token-file",
        default=env("READER_AGENT_TOKEN_FILE"),
        help="file holding the device token (keeps it out of the process list)",
    )
    parser.add_argument(
        "--reader",
        default=env("READER_AGENT_READER"),
        help="use the first PC/SC reader whose name contains this (default: the first one)",
    )
    parser.add_argument(
        "--key-file",
        default=env("READER_AGENT_KEY_FILE") or default_key_file(),
        help="HMAC key for eID tokens (default: %(default)s)",
    )
    parser.add_argument(
        "--generate-key", action="store_true", help="write a new key to --key-file and exit"
    )
    parser.add_argument(
        "--virtual-card",
        default=env("READER_AGENT_VIRTUAL_CARD"),
        metavar="NAME",
        help="use an in-process emulated card (alice, bruno, chloe, emma) instead of PC/SC",
    )
    parser.add_argument("--card-wait", type=float, default=30.0, help="seconds to wait for a card")
    parser.add_argument("--poll-wait", type=int, default=20, help="long-poll seconds")
    parser.add_argument(
        "--retry-window", type=float, default=30.0, help="seconds to retry an unreachable server"
    )
    parser.add_argument("--once", action="store_true", help="stop after one armed scan")
    parser.add_argument(
        "--check",
        action="store_true",
        help="list the readers and say whether a card answers (reads no personal file)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser


class _LocalTimeFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC).astimezone()
        return moment.isoformat(timespec="seconds")


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LocalTimeFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 would log request URLs at debug level; keep it quiet either way.
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def _read_token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            return Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigurationError("the device token file cannot be read") from None
    if args.token:
        return args.token
    raise ConfigurationError("no device token: give --token, --token-file or READER_AGENT_TOKEN")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        return _run(args)
    except ConfigurationError as exc:
        log.error("%s", exc.message)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        log.info("reader agent stopped")
        return 0


def _run(args: argparse.Namespace) -> int:
    from reader_agent.eid_token import EidTokeniser, generate_key_file, key_file_is_private

    if args.check:
        return _check(args)
    if args.generate_key:
        path = generate_key_file(args.key_file)
        log.info("new eID token key written to %s; copy it to every counter PC of the chain", path)
        return 0
    if not args.server:
        raise ConfigurationError("no server URL: give --server or READER_AGENT_SERVER")
    token = _read_token(args)
    tokeniser = EidTokeniser.from_key_file(args.key_file)
    if not key_file_is_private(args.key_file):
        log.warning("the eID token key file is readable by other users; chmod 600 it")

    from reader_agent.agent import AgentSettings, ReaderAgent
    from reader_agent.server_api import DeviceApi

    transport = _transport(args)
    api = DeviceApi(args.server, token)
    settings = AgentSettings(
        card_wait=args.card_wait, poll_wait=args.poll_wait, retry_window=args.retry_window
    )
    agent = ReaderAgent(api=api, transport=transport, tokeniser=tokeniser, settings=settings)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop.set() or _interrupt())
    try:
        return agent.run(max_scans=1 if args.once else None)
    finally:
        transport.close()
        api.close()


def _check(args: argparse.Namespace) -> int:
    from reader_agent.check import pcsc_readers, run_check

    if args.virtual_card:
        transport = _transport(args)
        return run_check([transport.name], lambda _name: transport)
    try:
        from reader_agent.pcsc import PyscardTransport
    except ImportError as exc:
        raise ConfigurationError("pyscard is not installed: pip install pyscard") from exc
    readers = [r for r in pcsc_readers() if args.reader is None or args.reader in r]
    return run_check(readers, PyscardTransport)


def _interrupt() -> None:
    raise KeyboardInterrupt


def _transport(args: argparse.Namespace):
    if args.virtual_card:
        from reader_agent.transport import EmulatorTransport

        try:
            return EmulatorTransport.for_card(args.virtual_card)
        except KeyError:
            raise ConfigurationError("unknown virtual card") from None
        except ImportError:
            raise ConfigurationError("--virtual-card needs the eid_emulator package") from None
    try:
        from reader_agent.pcsc import PyscardTransport
    except ImportError as exc:
        raise ConfigurationError("pyscard is not installed: pip install pyscard") from exc
    return PyscardTransport(args.reader)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ReaderAgentError as exc:  # pragma: no cover - last resort, message has no data
        log.error("%s", exc.message)
        sys.exit(1)
