#!/usr/bin/env python3
# httpsd.py: a small HTTPS server for the behaviours nginx cannot produce.
# nginx serves every normal case; this one only does the odd ones.
#
#   httpsd.py --listen IP:PORT [--listen [IPV6]:PORT] --cert C --key K
#             --mode MODE [--response FILE] [--interval SECS]
#
# Modes:
#   raw    after the request headers, send FILE byte for byte (status line,
#          headers and body as written), send close_notify, close.  An
#          HTTP/1.0 response without Content-Length gives a close-delimited
#          body.
#   drip   like raw, but only the headers (up to the blank line) go at
#          once; the body follows one byte every --interval seconds.
#   stall  accept TCP connections and never send a byte (no TLS handshake).
#   hold   complete the TLS handshake, then never answer.
#   endless after the request headers, send FILE (the status line and
#          headers of a chunked response), then 4 KiB chunks for ever,
#          as fast as the client reads, until it goes away.
#   reset  like raw, but end with a TCP reset (no close_notify, no FIN)
#          half a second after FILE (once the client has read it).
#   dirty  like raw, but close the TCP connection without close_notify.
#   handshake  read the ClientHello, answer with the first bytes of a
#          TLS record (a ServerHello that never completes), then stall.
#   plain  no TLS at all: read what the client sends, answer with FILE
#          as it is (garbage where a TLS handshake should be), close.
#
# Every accepted connection is logged as one line "conn" to --log (when
# given) so a test can count fetch attempts.  Python 3 stdlib only.

import argparse
import socket
import struct
import ssl
import sys
import threading
import time

HEADERS_MAX = 16384
HOLD_SECS = 120
CHUNK = b"1000\r\n" + b"x" * 4096 + b"\r\n"


def parse_listen(s):
	host, _, port = s.rpartition(":")
	if host.startswith("[") and host.endswith("]"):
		return socket.AF_INET6, host[1:-1], int(port)
	return socket.AF_INET, host, int(port)


def read_request(s):
	"""Read up to the end of the request headers (bounded)."""
	buf = b""
	s.settimeout(10)
	while b"\r\n\r\n" not in buf and len(buf) < HEADERS_MAX:
		d = s.recv(4096)
		if not d:
			break
		buf += d
	return buf


def handle(args, ctx, raw, response):
	try:
		if args.mode == "stall":
			time.sleep(HOLD_SECS)
			return
		if args.mode == "handshake":
			raw.settimeout(10)
			raw.recv(4096)
			# Handshake record, TLS 1.2, 512 bytes announced; 6 sent.
			raw.sendall(b"\x16\x03\x03\x02\x00\x02")
			time.sleep(HOLD_SECS)
			return
		if args.mode == "plain":
			raw.settimeout(10)
			raw.recv(4096)
			raw.sendall(response)
			return
		s = ctx.wrap_socket(raw, server_side=True)
		if args.mode == "hold":
			time.sleep(HOLD_SECS)
			return
		read_request(s)
		if args.mode == "raw":
			s.sendall(response)
		elif args.mode == "endless":
			s.sendall(response)
			while True:
				s.sendall(CHUNK)
		elif args.mode == "reset":
			s.sendall(response)
			time.sleep(0.5)
			s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
			    struct.pack("ii", 1, 0))
			s.close()
			return
		elif args.mode == "dirty":
			s.sendall(response)
			s.close()
			return
		elif args.mode == "drip":
			head, sep, body = response.partition(b"\r\n\r\n")
			s.sendall(head + sep)
			for i in range(len(body)):
				time.sleep(args.interval)
				s.sendall(body[i:i + 1])
		try:
			s.unwrap()
		except (OSError, ssl.SSLError):
			pass
		s.close()
	except (OSError, ssl.SSLError):
		pass
	finally:
		try:
			raw.close()
		except OSError:
			pass


def serve(args, ls, ctx, response):
	while True:
		raw, _ = ls.accept()
		if args.log:
			with open(args.log, "a") as f:
				f.write("conn\n")
		threading.Thread(target=handle, args=(args, ctx, raw, response),
		    daemon=True).start()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--listen", action="append", required=True)
	ap.add_argument("--cert")
	ap.add_argument("--key")
	ap.add_argument("--mode", required=True,
	    choices=("raw", "drip", "stall", "hold", "endless", "reset",
	    "dirty", "handshake", "plain"))
	ap.add_argument("--response")
	ap.add_argument("--interval", type=float, default=2.0)
	ap.add_argument("--log")
	args = ap.parse_args()

	response = b""
	if args.response:
		with open(args.response, "rb") as f:
			response = f.read()
	ctx = None
	if args.mode not in ("stall", "handshake", "plain"):
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(args.cert, args.key)
	threads = []
	for spec in args.listen:
		fam, host, port = parse_listen(spec)
		ls = socket.socket(fam, socket.SOCK_STREAM)
		ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		ls.bind((host, port))
		ls.listen(16)
		t = threading.Thread(target=serve, args=(args, ls, ctx, response),
		    daemon=True)
		t.start()
		threads.append(t)
	print("ready", flush=True)
	for t in threads:
		t.join()
	return 0


if __name__ == "__main__":
	sys.exit(main())
