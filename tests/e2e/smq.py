#!/usr/bin/env python3
# smq.py: a tiny socketmap (netstring) client for the end-to-end tests.
#
#   smq.py [-a HOST] [-p PORT] [-t SECS] NAME KEY
#       send "<len>:NAME KEY," and print the reply payload exactly as
#       received (no newline added), so "NOTFOUND " keeps its space.
#   smq.py [...] -n N NAME KEY
#       send the same request N times on one connection; print each reply
#       payload on a line of its own.
#   smq.py [...] --raw BYTES
#       send BYTES (Python escapes: \x00, \r, \n ...) as they are, then
#       print whatever comes back (raw) until EOF or the timeout.
#       --half-close shuts down the write side after sending.
#   smq.py [...] --exim REQUEST
#       Exim readsocket style: send REQUEST, shut down the write side,
#       print everything read until EOF.
#   smq.py --serve -a HOST -p PORT REPLY
#       a fake socketmap server answering every request with REPLY; each
#       request payload is appended, one a line, to the file --log names.
#       Used only to test the test world itself.
#
# Exit status: 0 when a reply was read, 2 on a protocol error, 3 on a
# timeout, 4 when the peer closed without replying.  Errors are printed
# as "<closed>", "<timeout>" or "<bad netstring: ...>" on stdout.
# Python 3 standard library only.

import argparse
import socket
import sys
import time

NETSTRING_MAX = 100000 + 16	# Postfix's reply limit plus the framing


def netstring(payload):
	return str(len(payload)).encode() + b":" + payload + b","


class ProtoError(Exception):
	pass


def read_netstring(sock, deadline):
	"""Read one netstring; return its payload."""
	buf = b""
	while True:
		c = recv_some(sock, 1, deadline)
		if c == b":":
			break
		if not c.isdigit() or len(buf) > 7:
			raise ProtoError("bad length byte %r after %r" % (c, buf))
		buf += c
	if not buf:
		raise ProtoError("empty length")
	n = int(buf)
	if n > NETSTRING_MAX:
		raise ProtoError("length %d over limit" % n)
	payload = b""
	while len(payload) < n:
		payload += recv_some(sock, n - len(payload), deadline)
	c = recv_some(sock, 1, deadline)
	if c != b",":
		raise ProtoError("missing comma, got %r" % c)
	return payload


class Closed(Exception):
	pass


def recv_some(sock, n, deadline):
	left = deadline - time.monotonic()
	if left <= 0:
		raise socket.timeout()
	sock.settimeout(left)
	data = sock.recv(n)
	if not data:
		raise Closed()
	return data


def read_all(sock, deadline):
	out = b""
	while True:
		try:
			out += recv_some(sock, 65536, deadline)
		except (Closed, ConnectionResetError):
			return out, True
		except socket.timeout:
			return out, False


def connect(host, port, timeout):
	return socket.create_connection((host, port), timeout=timeout)


def out(b):
	sys.stdout.buffer.write(b)
	sys.stdout.buffer.flush()


def client(args):
	deadline = time.monotonic() + args.timeout
	try:
		sock = connect(args.addr, args.port, args.timeout)
	except OSError as e:
		out(b"<connect: " + str(e).encode() + b">")
		return 5
	if args.raw is not None or args.exim is not None:
		data = (args.raw if args.raw is not None else args.exim)
		data = data.encode("utf-8").decode("unicode_escape").encode("latin-1")
		sock.sendall(data)
		if args.exim is not None or args.half_close:
			sock.shutdown(socket.SHUT_WR)
		got, eof = read_all(sock, deadline)
		out(got)
		return 0 if eof else 3
	if args.name is None or args.key is None:
		print("usage: smq.py NAME KEY", file=sys.stderr)
		return 64
	req = netstring(args.name.encode() + b" " + args.key.encode("utf-8",
	    "surrogateescape"))
	for i in range(args.count):
		sock.sendall(req)
		try:
			payload = read_netstring(sock, deadline)
		except socket.timeout:
			out(b"<timeout>")
			return 3
		except (Closed, ConnectionResetError):
			out(b"<closed>")
			return 4
		except ProtoError as e:
			out(b"<bad netstring: " + str(e).encode() + b">")
			return 2
		out(payload)
		if args.count > 1:
			out(b"\n")
	sock.close()
	return 0


def serve(args):
	"""A fake socketmap server: one thread per connection."""
	import threading
	ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	ls.bind((args.addr, args.port))
	ls.listen(16)
	reply = netstring(args.name.encode("utf-8").decode(
	    "unicode_escape").encode("latin-1"))
	lock = threading.Lock()

	def conn(s):
		try:
			while True:
				p = read_netstring(s, time.monotonic() + 30)
				if args.log:
					with lock, open(args.log, "ab") as f:
						f.write(p + b"\n")
				s.sendall(reply)
		except Exception:
			pass
		s.close()

	while True:
		s, _ = ls.accept()
		threading.Thread(target=conn, args=(s,), daemon=True).start()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("-a", "--addr", default="127.0.0.1")
	ap.add_argument("-p", "--port", type=int, default=8461)
	ap.add_argument("-t", "--timeout", type=float, default=20.0)
	ap.add_argument("-n", "--count", type=int, default=1)
	ap.add_argument("--raw")
	ap.add_argument("--exim")
	ap.add_argument("--half-close", action="store_true")
	ap.add_argument("--serve", action="store_true")
	ap.add_argument("--log")
	ap.add_argument("name", nargs="?")
	ap.add_argument("key", nargs="?")
	args = ap.parse_args()
	if args.serve:
		return serve(args)
	return client(args)


if __name__ == "__main__":
	sys.exit(main())
