"""Run a synthetic eID card in pcscd's virtual reader: `python -m eid_emulator --card alice`."""

from __future__ import annotations

import argparse
import sys
import threading

from eid_emulator.card import CardModes, VirtualCard
from eid_emulator.cards import CARDS, DOCUMENT_TYPES
from eid_emulator.vpcd import DEFAULT_PORT, VpcdLink

HELP_CONTROL = "commands on stdin: 'remove', 'insert [CARD]', 'quit'"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eid_emulator",
        description="Emulate a synthetic Belgian eID card through pcscd's vpcd driver.",
    )
    parser.add_argument("--card", default="alice", choices=sorted(CARDS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="vpcd port (35963 = reader 00 00)"
    )
    parser.add_argument("--apdu-log", help="append every command APDU header/path to FILE")
    parser.add_argument(
        "--get-response", action="store_true", help="answer READ BINARY/RECORD with 61 xx"
    )
    parser.add_argument(
        "--other-applet", action="store_true", help="start with another applet selected"
    )
    parser.add_argument(
        "--remove-after", type=int, metavar="N", help="withdraw the card at the N-th APDU"
    )
    parser.add_argument(
        "--apdu-delay", type=float, default=0.0, metavar="SECONDS", help="answer slowly"
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=30.0, help="seconds to wait for vpcd"
    )
    parser.add_argument("--control-stdin", action="store_true", help=HELP_CONTROL)
    parser.add_argument("--list", action="store_true", help="list the synthetic cards")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        for name, person in sorted(CARDS.items()):
            kind = DOCUMENT_TYPES.get(person.document_type, person.document_type)
            state = "" if person.activated else ", never activated"
            print(
                f"{name}: {person.given_names} {person.surname} (synthetic; {kind}, "
                f"applet {person.applet >> 4}.{person.applet & 15}{state})"
            )
        return 0
    modes = CardModes(
        get_response=args.get_response,
        other_applet=args.other_applet,
        remove_after=args.remove_after,
        delay=args.apdu_delay,
    )
    card = VirtualCard(args.card, modes=modes, apdu_log_path=args.apdu_log)
    link = VpcdLink(card, host=args.host, port=args.port)
    runner = EmulatorRunner(card, link, connect_timeout=args.connect_timeout)
    if args.control_stdin:
        threading.Thread(target=runner.read_commands, args=(sys.stdin,), daemon=True).start()
    try:
        return runner.run(keep_running=args.control_stdin)
    except KeyboardInterrupt:
        return 0
    finally:
        link.disconnect()
        card.close()


class EmulatorRunner:
    """Keep the card in the reader, reconnecting after pcscd restarts, until told to stop."""

    def __init__(self, card: VirtualCard, link: VpcdLink, *, connect_timeout: float) -> None:
        self.card = card
        self.link = link
        self.connect_timeout = connect_timeout
        self._changed = threading.Event()
        self._quit = False

    def run(self, *, keep_running: bool) -> int:
        while not self._quit:
            if not self.card.inserted:
                if not keep_running:
                    return 0
                self._changed.wait()
                self._changed.clear()
                continue
            try:
                self.link.connect(self.connect_timeout)
            except OSError as exc:
                print(f"eid_emulator: cannot reach vpcd: {exc}", file=sys.stderr)
                return 2
            print(f"eid_emulator: card '{self.card.person.key}' inserted", file=sys.stderr)
            reason = self.link.serve()
            print(f"eid_emulator: card out of the reader ({reason})", file=sys.stderr)
            if reason == "withdrawn" and not keep_running:
                return 0
        return 0

    def read_commands(self, stream) -> None:
        for line in stream:
            words = line.split()
            if not words:
                continue
            if words[0] == "remove":
                self.card.remove()
                self.link.disconnect()
            elif words[0] == "insert":
                # Swap first, then drop any current link: the run loop reconnects the new card.
                self.card.insert(words[1] if len(words) > 1 else None)
                self.link.disconnect()
            elif words[0] == "quit":
                self._quit = True
                self.card.remove()
                self.link.disconnect()
            self._changed.set()
        self._quit = True
        self._changed.set()


if __name__ == "__main__":
    sys.exit(main())
