#!/usr/bin/env python3
# crowd.py: hostile and numerous socketmap clients for the end-to-end
# tests (t-72-clients, t-74-resources).  smq.py is the polite single
# client; this one opens thousands of connections, never reads, or sends
# one byte at a time.
#
#   crowd.py [-a HOST] -p PORT many N NAME KEY [--want REPLY]
#       open N connections at once (all held open), then send one request
#       on each and read one reply from each.  Prints
#       "connected=N replied=N ok=N bad=N ms=N" (ok: the payload is
#       --want; bad lists the first odd reply on a second line).
#   crowd.py [...] each NAME KEYFILE
#       one connection per line of KEYFILE, all at once, one request each;
#       print "KEY REPLY" per key (REPLY "<error>" when none came).
#   crowd.py [...] hold N --until FILE
#       open N connections, print "connected=N", hold them idle until
#       FILE is removed (or --secs pass), close them all.
#   crowd.py [...] noread N NAME KEY --until FILE [--rcvbuf BYTES]
#       open N connections; on each, send the request over and over and
#       never read a byte, until the socket stops taking data; print
#       "connected=N sent=BYTES" and hold until FILE is removed.  A small
#       --rcvbuf keeps the unread replies in the daemon rather than in
#       the kernel.
#   crowd.py [...] drip NAME KEY [--delay SECS] [-n COUNT]
#       send COUNT requests one byte per write, SECS apart, on one
#       connection; print each reply payload on a line.
#   crowd.py [...] steady NAME KEY --want REPLY [--secs S] [--until FILE]
#       one polite connection kept open, a request every 0.1 s until FILE
#       is removed or S seconds pass; print "requests=N ok=N first_bad=..."
#       (a client that lives through whatever others do).
#   crowd.py [...] bigprefix
#       announce a 10 MB netstring ("10000000:") and try to send its 10 MB
#       body; print "sent=BYTES closed=0|1 reply=PAYLOAD ms=N" where
#       closed says the daemon ended the connection before all was sent.
#
# Python 3 standard library only.

import argparse
import errno
import os
import selectors
import socket
import sys
import time

CONNECT_BATCH = 200		# connects in flight at once
BIG = 10 * 1000 * 1000


def netstring(payload):
	return str(len(payload)).encode() + b":" + payload + b","


def take_netstring(buf):
	"""(payload, rest) when buf starts with a whole netstring, else None.
	Raises ValueError on bad framing."""
	i = buf.find(b":")
	if i == -1:
		if len(buf) > 10 or (buf and not buf.isdigit()):
			raise ValueError("bad length %r" % buf[:20])
		return None
	if i == 0 or not buf[:i].isdigit():
		raise ValueError("bad length %r" % buf[:20])
	n = int(buf[:i])
	if len(buf) < i + 1 + n + 1:
		return None
	if buf[i + 1 + n:i + 2 + n] != b",":
		raise ValueError("missing comma")
	return buf[i + 1:i + 1 + n], buf[i + 2 + n:]


def open_many(args, n, deadline):
	"""Open n connections, CONNECT_BATCH in flight; return the sockets."""
	sel = selectors.DefaultSelector()
	done = []
	pending = 0
	started = 0
	while (started < n or pending > 0) and time.monotonic() < deadline:
		while started < n and pending < CONNECT_BATCH:
			s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
			if args.rcvbuf:
				s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
				    args.rcvbuf)
			s.setblocking(False)
			try:
				s.connect((args.addr, args.port))
			except BlockingIOError:
				pass
			except OSError:
				s.close()
				started += 1
				continue
			sel.register(s, selectors.EVENT_WRITE)
			pending += 1
			started += 1
		for key, _ in sel.select(timeout=0.2):
			s = key.fileobj
			sel.unregister(s)
			pending -= 1
			if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
				done.append(s)
			else:
				s.close()
	for key in list(sel.get_map().values()):
		key.fileobj.close()
	sel.close()
	return done


def wait_until(args):
	end = time.monotonic() + args.secs
	while time.monotonic() < end:
		if args.until and not os.path.exists(args.until):
			return
		time.sleep(0.05)


def cmd_many(args):
	t0 = time.monotonic()
	deadline = t0 + args.timeout
	socks = open_many(args, args.n, deadline)
	req = netstring(args.name.encode() + b" " + args.key.encode())
	sel = selectors.DefaultSelector()
	state = {}
	for s in socks:
		state[s] = [req, b""]
		sel.register(s, selectors.EVENT_WRITE)
	replied = ok = bad = 0
	first_bad = None
	while state and time.monotonic() < deadline:
		for key, ev in sel.select(timeout=0.2):
			s = key.fileobj
			st = state[s]
			try:
				if ev & selectors.EVENT_WRITE:
					n = s.send(st[0])
					st[0] = st[0][n:]
					if not st[0]:
						sel.modify(s, selectors.EVENT_READ)
					continue
				d = s.recv(65536)
			except OSError as e:
				d = None
				err = str(e)
			if not d:
				bad += 1
				if first_bad is None:
					first_bad = "<closed %s>" % (err if d is None
					    else "eof")
				sel.unregister(s)
				del state[s]
				continue
			st[1] += d
			try:
				r = take_netstring(st[1])
			except ValueError as e:
				r = (("<" + str(e) + ">").encode(), b"")
			if r is None:
				continue
			replied += 1
			if r[0].decode("utf-8", "replace") == args.want:
				ok += 1
			else:
				bad += 1
				if first_bad is None:
					first_bad = r[0].decode("utf-8", "replace")
			sel.unregister(s)
			del state[s]
	ms = int((time.monotonic() - t0) * 1000)
	print("connected=%d replied=%d ok=%d bad=%d ms=%d" % (len(socks),
	    replied, ok, bad + len(state), ms))
	if first_bad is not None:
		print("first_bad=%s" % first_bad)
	for s in socks:
		s.close()
	return 0


def cmd_each(args):
	with open(args.keyfile) as f:
		keys = [k.strip() for k in f if k.strip()]
	deadline = time.monotonic() + args.timeout
	socks = open_many(args, len(keys), deadline)
	sel = selectors.DefaultSelector()
	state = {}
	for s, k in zip(socks, keys):
		state[s] = [k, netstring(args.name.encode() + b" " + k.encode()),
		    b""]
		sel.register(s, selectors.EVENT_WRITE)
	got = {}
	while state and time.monotonic() < deadline:
		for key, ev in sel.select(timeout=0.2):
			s = key.fileobj
			st = state[s]
			try:
				if ev & selectors.EVENT_WRITE:
					n = s.send(st[1])
					st[1] = st[1][n:]
					if not st[1]:
						sel.modify(s, selectors.EVENT_READ)
					continue
				d = s.recv(65536)
			except OSError:
				d = b""
			r = None
			if d:
				st[2] += d
				try:
					r = take_netstring(st[2])
				except ValueError:
					r = (b"<bad netstring>", b"")
				if r is None:
					continue
			got[st[0]] = r[0].decode("utf-8", "replace") if r else \
			    "<closed>"
			sel.unregister(s)
			del state[s]
	for k in keys:
		print("%s %s" % (k, got.get(k, "<error>")))
	for s in socks:
		s.close()
	return 0


def cmd_hold(args):
	socks = open_many(args, args.n, time.monotonic() + args.timeout)
	print("connected=%d" % len(socks), flush=True)
	wait_until(args)
	for s in socks:
		s.close()
	return 0


def cmd_noread(args):
	socks = open_many(args, args.n, time.monotonic() + args.timeout)
	req = netstring(args.name.encode() + b" " + args.key.encode()) * 200
	sent = 0
	end = time.monotonic() + args.timeout
	live = list(socks)
	quiet = {}
	while live and time.monotonic() < end:
		for s in list(live):
			try:
				n = s.send(req)
				sent += n
				quiet[s] = time.monotonic()
			except BlockingIOError:
				# Full for a second: the daemon stopped reading.
				if time.monotonic() - quiet.get(s, 0) > 1.0:
					live.remove(s)
			except OSError:
				live.remove(s)
		time.sleep(0.01)
	print("connected=%d sent=%d" % (len(socks), sent), flush=True)
	wait_until(args)
	for s in socks:
		s.close()
	return 0


def cmd_drip(args):
	s = socket.create_connection((args.addr, args.port), timeout=args.timeout)
	s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	req = netstring(args.name.encode() + b" " + args.key.encode())
	buf = b""
	for _ in range(args.count):
		for i in range(len(req)):
			s.sendall(req[i:i + 1])
			time.sleep(args.delay)
		while True:
			r = take_netstring(buf)
			if r is not None:
				break
			d = s.recv(65536)
			if not d:
				print("<closed>")
				return 0
			buf += d
		payload, buf = r
		print(payload.decode("utf-8", "replace"), flush=True)
	s.close()
	return 0


def cmd_steady(args):
	s = socket.create_connection((args.addr, args.port), timeout=5)
	req = netstring(args.name.encode() + b" " + args.key.encode())
	n = ok = 0
	first_bad = ""
	buf = b""
	end = time.monotonic() + args.secs
	try:
		while time.monotonic() < end:
			if args.until and not os.path.exists(args.until):
				break
			s.sendall(req)
			n += 1
			while True:
				r = take_netstring(buf)
				if r is not None:
					break
				d = s.recv(65536)
				if not d:
					raise OSError("closed")
				buf += d
			payload, buf = r
			if payload.decode("utf-8", "replace") == args.want:
				ok += 1
			elif not first_bad:
				first_bad = payload.decode("utf-8", "replace")
			time.sleep(0.1)
	except (OSError, ValueError) as e:
		first_bad = first_bad or "<%s>" % e
	print("requests=%d ok=%d first_bad=%s" % (n, ok, first_bad))
	s.close()
	return 0


def cmd_bigprefix(args):
	t0 = time.monotonic()
	s = socket.create_connection((args.addr, args.port), timeout=args.timeout)
	s.sendall(b"10000000:")
	block = b"x" * 65536
	sent = 0
	closed = 0
	got = b""
	s.setblocking(False)
	end = t0 + args.timeout
	while sent < BIG and time.monotonic() < end:
		try:
			sent += s.send(block)
		except BlockingIOError:
			time.sleep(0.01)
		except OSError as e:
			if e.errno in (errno.EPIPE, errno.ECONNRESET):
				closed = 1
				break
			raise
		try:
			d = s.recv(65536)
			if d == b"":
				closed = 1
				break
			got += d
		except BlockingIOError:
			pass
		except OSError:
			closed = 1
			break
	# Whatever reply arrived before the close.
	s.setblocking(True)
	s.settimeout(1)
	try:
		while True:
			d = s.recv(65536)
			if not d:
				break
			got += d
	except OSError:
		pass
	ms = int((time.monotonic() - t0) * 1000)
	print("sent=%d closed=%d reply=%s ms=%d" % (sent, closed,
	    got.decode("utf-8", "replace"), ms))
	s.close()
	return 0


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("-a", "--addr", default="127.0.0.1")
	ap.add_argument("-p", "--port", type=int, default=8461)
	ap.add_argument("-t", "--timeout", type=float, default=30.0)
	ap.add_argument("--want", default="")
	ap.add_argument("--until")
	ap.add_argument("--secs", type=float, default=60.0)
	ap.add_argument("--delay", type=float, default=0.01)
	ap.add_argument("--rcvbuf", type=int, default=0)
	ap.add_argument("-n", "--count", type=int, default=1)
	ap.add_argument("mode", choices=("many", "hold", "noread", "drip",
	    "steady", "bigprefix", "each"))
	ap.add_argument("rest", nargs="*")
	args = ap.parse_args()
	r = args.rest
	if args.mode in ("many", "noread", "hold"):
		args.n = int(r[0])
		r = r[1:]
	if args.mode in ("many", "noread", "drip", "steady"):
		args.name, args.key = r[0], r[1]
	if args.mode == "each":
		args.name, args.keyfile = r[0], r[1]
	return globals()["cmd_" + args.mode](args)


if __name__ == "__main__":
	sys.exit(main())
