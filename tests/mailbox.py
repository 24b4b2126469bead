"""A real SMTP server for the tests that send mail: aiosmtpd's `Controller`, in a thread of
this process, on a free port of 127.0.0.1; its handler keeps every envelope it accepts. Stopping
it is "the mail server is down". The `mailbox` fixture (tests/conftest.py) runs one per test."""
import email
import email.policy
import socket

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An SMTP server on loopback that keeps what it accepts; it can go down and come back."""

    def __init__(self):
        self.port = free_port()
        self.envelopes = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default)
                for e in self.envelopes]

    def recipients(self) -> list[list[str]]:
        return sorted(sorted(e.rcpt_tos) for e in self.envelopes)
