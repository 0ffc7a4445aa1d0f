"""The hub writes an up-to-date stream's frames straight to its socket under gevent (room/broker.py DirectWriter).

Run in a child process that gevent has patched, as gunicorn's gevent worker is: the test process is not.
The end-to-end path through gunicorn is in test_default_server.py (a slow tab, frames checked chunk by chunk).
"""
import subprocess
import sys
import textwrap

from tests.server import ROOT

SCRIPT = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import socket

    import gevent

    from minutes.room.broker import DirectWriter, InProcessBroker, Message, sse_frame

    def recv_all(sock):
        sock.setblocking(False)
        data = b""
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                return data
            if not chunk:
                return data
            data += chunk

    hub = InProcessBroker()
    ours, theirs = socket.socketpair()
    environ = {"gunicorn.socket": ours, "SERVER_SOFTWARE": "gunicorn/25", "SERVER_PROTOCOL": "HTTP/1.1",
               "REQUEST_METHOD": "GET"}
    writer = DirectWriter.for_request(environ)
    assert writer is not None and writer.chunked
    assert DirectWriter.for_request(dict(environ, SERVER_PROTOCOL="HTTP/1.0")).chunked is False
    assert DirectWriter.for_request(dict(environ, SERVER_SOFTWARE="Werkzeug/3")) is None
    assert DirectWriter.for_request(dict(environ, REQUEST_METHOD="HEAD")) is None

    sub = hub.subscribe(7)
    sub.revision = 1
    sub.arm(writer, "read")

    # the next revision in order: written by the hub, one HTTP/1.1 chunk, nothing in the mailbox
    m2 = Message(7, 2, "update", {"read": "<p>观点二</p>", "write": "<p>不该给读者</p>"})
    hub.deliver(m2)
    frame = sse_frame("update", "<p>观点二</p>", 2)
    assert recv_all(theirs) == b"%X\\r\\n" % len(frame) + frame + b"\\r\\n"
    assert sub.revision == 2 and sub.get(timeout=0) is None and sub.direct is writer

    # a repeat of what was sent: dropped
    hub.deliver(m2)
    assert recv_all(theirs) == b"" and sub.get(timeout=0) is None

    # a gap: the stream takes over (disarmed), the message waits in its mailbox
    hub.deliver(Message(7, 4, "update", {"read": "<p>四</p>"}))
    assert sub.direct is None and recv_all(theirs) == b""
    assert sub.get(timeout=0).revision == 4
    # a check always goes to the stream
    sub.revision = 4
    sub.arm(writer, "read")
    hub.deliver(Message(7, 5, "check"))
    assert sub.direct is None and sub.get(timeout=0).kind == "check"

    # a client that does not read: the socket takes part of a frame; the rest waits for the stream's greenlet
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.revision = 5
    sub.arm(writer, "read")
    big = Message(7, 6, "update", {"read": "<p>" + "长" * 200000 + "</p>"})
    hub.deliver(big)
    assert sub.direct is None and sub.revision == 6 and sub.pending, "the rest of the frame is the stream's"
    assert sub.get(timeout=0) is None  # woken (its event is set) with nothing in the mailbox
    pending, sub.pending = sub.pending, b""
    got = []
    def drain():
        theirs.setblocking(True)
        data = b""
        while len(data) < len(big.chunk("read")):
            data += theirs.recv(1 << 16)
        got.append(data)
    g = gevent.spawn(drain)
    writer.send_all(pending)
    g.join(timeout=10)
    assert got and got[0] == big.chunk("read"), "the frame arrives whole, in order"

    # the client went away: the hub marks the stream broken and wakes it
    sub.revision = 6
    sub.arm(writer, "read")
    theirs.close()
    for rev in (7, 8, 9):
        hub.deliver(Message(7, rev, "update", {"read": "<p>x</p>" * 5000}))
        if sub.broken:
            break
    assert sub.broken and sub.direct is None
    print("ok")
''')


def test_the_hub_writes_in_order_frames_itself_and_hands_everything_else_to_the_stream():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout + result.stderr
