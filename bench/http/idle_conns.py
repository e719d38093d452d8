"""Open N keep-alive connections to 127.0.0.1:PORT, make one request on each (so the server has
accepted and answered it), print "ready", and hold them idle until killed.

    python3 idle_conns.py PORT N PATH
"""
import resource
import signal
import socket
import sys

port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns = []
request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(65536)
    top, _, body = head.partition(b"\r\n\r\n")
    length = int([l for l in top.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < length:
        body += s.recv(65536)
    conns.append(s)
print("ready", flush=True)
while True:
    signal.pause()
