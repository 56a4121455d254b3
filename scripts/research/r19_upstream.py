#!/usr/bin/env python3
"""Misbehaving test upstreams for the issue-19 proxy observations (Apache, Caddy, Varnish).

Loopback only. Each mode listens on its own port and logs every accepted
connection (one line per accept, with a monotonic timestamp) to LOGDIR/up-<mode>.log,
so the driver can count how many connections each proxy opened per request.

Modes (port = BASE + index):
  ok         200 "ok\n"
  close      read the request head, close without answering (FIN)
  reset      read the request head, close with SO_LINGER 0 (RST)
  slow       read the request head, sleep SLOW seconds, then 200
  badheader  200 with a header whose name has a space ("Bad Header: x")
  app503     503 "app says 503\n" from the app itself
  blackhole  listen(0), never accept; the driver fills the accept queue
  kaclose    keep-alive: answer the FIRST request on a connection with 200
             (Content-Length, no "Connection: close"), then read the next
             request on that connection and close it unanswered (the
             keep-alive race, made deterministic)
  kaidle     keep-alive, the usual order: answer every request with 200
             keep-alive, and close a connection that stays idle for 0.2 s
             (like Node's keepAliveTimeout, scaled down)
The "refused" case uses a port with no listener; "unresolvable" uses a name
under .invalid (RFC 6761), so neither needs a mode here.

usage: r19_upstream.py LOGDIR BASEPORT SLOWSECONDS
"""
import socket
import struct
import sys
import threading
import time

MODES = ["ok", "close", "reset", "slow", "badheader", "app503", "blackhole", "kaclose", "kaidle"]
LOGDIR, BASE, SLOW = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
T0 = time.monotonic()


def log(mode, msg):
    with open(f"{LOGDIR}/up-{mode}.log", "a") as f:
        f.write(f"t={time.monotonic() - T0:.3f} {msg}\n")


def read_head(c, timeout=10):
    data = b""
    c.settimeout(timeout)
    try:
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return data, repr(e)
    return data, None


def handle_kaclose(c, peer):
    n = 0
    while True:
        head, err = read_head(c)
        first = head.split(b"\r\n", 1)[0]
        if not head:
            log("kaclose", f"conn from {peer[0]}:{peer[1]}: peer closed after {n} request(s) err={err}")
            break
        n += 1
        log("kaclose", f"conn from {peer[0]}:{peer[1]} request #{n} on this connection: {first!r}")
        if n == 1:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nka\n")
        else:
            log("kaclose", f"conn from {peer[0]}:{peer[1]}: closing without answering request #{n}")
            break
    c.close()


def handle_kaidle(c, peer):
    n = 0
    while True:
        head, err = read_head(c, 0.2 if n else 10)
        if not head:
            log("kaidle", f"conn from {peer[0]}:{peer[1]}: idle/closed after {n} request(s), closing (err={err})")
            break
        n += 1
        log("kaidle", f"conn from {peer[0]}:{peer[1]} request #{n} on this connection: {head.split(chr(13).encode(), 1)[0]!r}")
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nki\n")
    c.close()


def handle(mode, c, peer):
    if mode == "kaidle":
        return handle_kaidle(c, peer)
    if mode == "kaclose":
        return handle_kaclose(c, peer)
    head, err = read_head(c)
    first = head.split(b"\r\n", 1)[0]
    log(mode, f"accept from {peer[0]}:{peer[1]} request={first!r} err={err}")
    try:
        if mode == "ok":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        elif mode == "close":
            pass
        elif mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "slow":
            time.sleep(SLOW)
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow\n")
                log(mode, "sent late 200")
            except OSError as e:
                log(mode, f"late send failed: {e!r}")
        elif mode == "badheader":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nBad Header: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        elif mode == "app503":
            c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\napp says 503\n")
    finally:
        c.close()
        log(mode, "closed")


def serve(mode, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    if mode == "blackhole":
        s.listen(0)
        fillers = []
        # fill the accept queue (never accepted) so later SYNs are dropped
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(f)
        log(mode, "listening with full backlog")
        while True:
            time.sleep(3600)
    s.listen(64)
    log(mode, f"listening on {port}")
    while True:
        c, peer = s.accept()
        threading.Thread(target=handle, args=(mode, c, peer), daemon=True).start()


for i, m in enumerate(MODES):
    threading.Thread(target=serve, args=(m, BASE + i), daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(3600)
