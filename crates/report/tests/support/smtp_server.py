#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for sashiko's sending tests (aiosmtpd).

Delivers each accepted message into a maildir (new/), one file per
message. The file MODE_FILE, re-read for every message, decides what the
server does with it: "accept" (default), "refuse" (550), "tempfail"
(451) or "hang" (never answers DATA). DELAY_MS slows every accept.
Prints READY on stdout once listening.
"""
import asyncio
import os
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, maildir, mode_file, delay_ms):
        self.maildir = maildir
        self.mode_file = mode_file
        self.delay = delay_ms / 1000.0
        self.count = 0
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)

    def mode(self):
        try:
            with open(self.mode_file) as handle:
                return handle.read().strip() or "accept"
        except OSError:
            return "accept"

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        if mode == "refuse":
            return "550 5.7.1 refused by the test server"
        if mode == "tempfail":
            return "451 4.3.0 try again later"
        if mode == "hang":
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        name = "%d.%d_%d.sashiko-test" % (time.time_ns(), os.getpid(), self.count)
        tmp = os.path.join(self.maildir, "tmp", name)
        rcpts = "X-Test-Rcpt: " + ",".join(envelope.rcpt_tos) + "\r\n"
        with open(tmp, "wb") as handle:
            handle.write(rcpts.encode())
            handle.write(envelope.original_content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        return "250 2.0.0 delivered"


class Authenticator:
    """Accepts exactly one LOGIN/PLAIN user and password."""

    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


def main():
    port, maildir, mode_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    delay_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    extra = {}
    if len(sys.argv) > 7:
        # CERT KEY USER:PASSWORD: STARTTLS required, then AUTH required.
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[5], sys.argv[6])
        user, password = sys.argv[7].split(":", 1)
        extra = dict(
            tls_context=context,
            require_starttls=True,
            authenticator=Authenticator(user, password),
            auth_required=True,
            auth_require_tls=True,
        )
    controller = Controller(
        Handler(maildir, mode_file, delay_ms), hostname="127.0.0.1", port=port, **extra
    )
    controller.start()
    print("READY", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
