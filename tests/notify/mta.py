"""A small SMTP server on loopback that advertises PIPELINING (RFC 2920), as Postfix and Exchange do.

aiosmtpd (the suite's `smtp_server`) does not advertise PIPELINING, so it exercises the plain
command-by-command path; this one exercises the pipelined path, and is fast enough for bench/tick.py
(it runs as `python tests/notify/mta.py`, printing its port, and answers "?" on stdin with the count).
Replies to each command in order, so pipelined commands work without any special casing.
"""
from __future__ import annotations

import asyncio
import socket
import sys
import threading


class Mailbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[tuple[str, list[str], bytes]] = []  #: (sender, recipients, data)


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, box: Mailbox, refuse: set):
    writer.write(b"220 mta.test ESMTP\r\n")
    sender, rcpts = None, []
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-mta.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n")
            elif verb == b"MAIL":
                sender, rcpts = line[10:].strip().strip(b"<>").decode(), []
                writer.write(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                rcpt = line[8:].strip().strip(b"<>").decode()
                if rcpt in refuse:
                    writer.write(b"550 5.1.1 mailbox unavailable\r\n")
                else:
                    rcpts.append(rcpt)
                    writer.write(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                if not rcpts:
                    writer.write(b"554 5.5.1 no valid recipients\r\n")
                    continue
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                chunks = []
                while True:
                    part = await reader.readline()
                    if part in (b".\r\n", b""):
                        break
                    chunks.append(part[1:] if part.startswith(b"..") else part)
                with box.lock:
                    box.messages.append((sender, rcpts, b"".join(chunks)))
                writer.write(b"250 2.0.0 queued\r\n")
                sender, rcpts = None, []
            elif verb == b"RSET":
                sender, rcpts = None, []
                writer.write(b"250 2.0.0 OK\r\n")
            elif verb == b"NOOP":
                writer.write(b"250 2.0.0 OK\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 5.5.2 command not recognized\r\n")
            await writer.drain()
    finally:
        writer.close()


class PipeliningMta:
    """Run the server on a background thread: .port, .messages, .stop()."""

    def __init__(self, refuse=()):
        self.box = Mailbox()
        self.refuse = set(refuse)
        self.loop = asyncio.new_event_loop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(
                lambda r, w: _session(r, w, self.box, self.refuse), "127.0.0.1", self.port))
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(5)

    @property
    def messages(self):
        with self.box.lock:
            return list(self.box.messages)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


if __name__ == "__main__":  # for bench/tick.py: a mail server in its own process
    mta = PipeliningMta()
    print(mta.port, flush=True)
    for _ in sys.stdin:
        received = mta.messages
        distinct = {(tuple(rcpts), data.split(b"Message-ID:", 1)[-1][:80]) for _, rcpts, data in received}
        print(len(received), len(distinct), flush=True)
