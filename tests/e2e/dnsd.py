#!/usr/bin/env python3
# dnsd.py: a misbehaving DNS server for the end-to-end tests, in front of
# nsd.  It answers UDP only (nothing listens on TCP, so a TCP fallback is
# refused) and forwards every question it has no trick for to the
# upstream server (nsd), relaying nsd's answer unchanged.
#
#   dnsd.py --listen IP --upstream IP [--port 53] [--log FILE]
#
# The trick is chosen by the label just above "test" in the question, so
# "_mta-sts.wrongid.test" and "mta-sts.wrongid.test" get the same one:
#
#   noanswer   never answer.
#   wrongid    first an NXDOMAIN with another query id, then (200 ms
#              later) the real answer: a client that took the first one
#              would see no record.
#   wrongonly  only NXDOMAINs with wrong ids, never the real answer.
#   otherq     first an NXDOMAIN with the right id for another question,
#              then the real answer.
#   trunc      an empty answer with TC set (and no TCP listener).
#   garbage    random bytes, an empty datagram, a header-only packet, and
#              a reply with the right id and question whose records are
#              cut short (unparsable).
#   loop       a CNAME loop, one hop per answer:
#              NAME -> l1.loop.test -> l2.loop.test -> NAME.
#   loopin     the same loop, all three CNAMEs in one answer.
#   chain      a 50-deep CNAME chain, one hop per answer: NAME ->
#              c1.chain.test -> ... -> c50.chain.test, which holds a valid
#              TXT record "v=STSv1; id=1".
#   chainin    the same chain in one answer.
#   slowre     forwarded, but every TXT question after the first for a
#              name waits SLOW_SECS first (a re-check that takes long).
#
# Every question is logged as "TRICK QNAME QTYPE" (TRICK "fwd" when
# forwarded) to --log, so a test can count queries.  Python 3 stdlib only.

import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

CHAIN_DEPTH = 50
UPSTREAM_TIMEOUT = 2.0
DELAY_REAL = 0.2
SLOW_SECS = 3.0

T_CNAME = 5
T_TXT = 16
C_IN = 1

log_lock = threading.Lock()
seen_txt = set()


def parse_query(pkt):
	"""Return (id, flags, qname labels, qtype, question bytes) or None."""
	if len(pkt) < 12:
		return None
	qid, flags, qd = struct.unpack("!HHH", pkt[:6])
	if qd != 1:
		return None
	pos = 12
	labels = []
	while True:
		if pos >= len(pkt):
			return None
		n = pkt[pos]
		if n == 0:
			pos += 1
			break
		if n > 63 or pos + 1 + n > len(pkt):
			return None
		labels.append(pkt[pos + 1:pos + 1 + n].decode("latin-1").lower())
		pos += 1 + n
	if pos + 4 > len(pkt):
		return None
	qtype, _ = struct.unpack("!HH", pkt[pos:pos + 4])
	return qid, flags, labels, qtype, pkt[12:pos + 4]


def wire_name(name):
	out = b""
	for lab in name.strip(".").split("."):
		if lab:
			out += bytes([len(lab)]) + lab.encode()
	return out + b"\0"


def rr(owner, rtype, ttl, rdata):
	return wire_name(owner) + struct.pack("!HHIH", rtype, C_IN, ttl,
	    len(rdata)) + rdata


def txt_rdata(s):
	b = s.encode()
	return bytes([len(b)]) + b


def reply(qid, qflags, question, rcode=0, answers=(), tc=False):
	flags = 0x8000 | (qflags & 0x0100) | 0x0080 | rcode	# QR, RD, RA
	if tc:
		flags |= 0x0200
	return struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0) + \
	    question + b"".join(answers)


def question_for(name, qtype):
	return wire_name(name) + struct.pack("!HH", qtype, C_IN)


def trick_of(labels):
	if len(labels) >= 2 and labels[-1] == "test":
		return labels[-2]
	return ""


def forward(args, pkt):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(UPSTREAM_TIMEOUT)
	try:
		s.sendto(pkt, (args.upstream, 53))
		data, _ = s.recvfrom(65535)
		return data
	except OSError:
		return None
	finally:
		s.close()


def loop_next(name):
	first = name.split(".")[0]
	if first == "l1":
		return "l2.loop.test"
	if first == "l2":
		return "_mta-sts.loop.test"
	return "l1.loop.test"


def handle(args, sock, pkt, peer):
	q = parse_query(pkt)
	if q is None:
		return
	qid, qflags, labels, qtype, question = q
	name = ".".join(labels)
	trick = trick_of(labels)
	known = ("noanswer", "wrongid", "wrongonly", "otherq", "trunc",
	    "garbage", "loop", "loopin", "chain", "chainin", "slowre")
	if trick not in known:
		trick = "fwd"
	if args.log:
		with log_lock, open(args.log, "a") as f:
			f.write("%s %s %d\n" % (trick, name, qtype))

	def send(b):
		try:
			sock.sendto(b, peer)
		except OSError:
			pass

	if trick == "noanswer":
		return
	if trick == "slowre":
		with log_lock:
			again = qtype == T_TXT and name in seen_txt
			seen_txt.add(name)
		if again:
			time.sleep(SLOW_SECS)
		trick = "fwd"
	if trick == "fwd":
		r = forward(args, pkt)
		if r is not None:
			send(r)
		return
	if trick in ("wrongid", "wrongonly"):
		for i in range(1 if trick == "wrongid" else 3):
			send(reply(qid ^ (0x5a5a + i), qflags, question, rcode=3))
		if trick == "wrongid":
			time.sleep(DELAY_REAL)
			r = forward(args, pkt)
			if r is not None:
				send(r)
		return
	if trick == "otherq":
		send(reply(qid, qflags, question_for("_mta-sts.elsewhere.test",
		    qtype), rcode=3))
		time.sleep(DELAY_REAL)
		r = forward(args, pkt)
		if r is not None:
			send(r)
		return
	if trick == "trunc":
		send(reply(qid, qflags, question, tc=True))
		return
	if trick == "garbage":
		send(os.urandom(random.randint(1, 600)))
		send(b"")
		send(struct.pack("!H", qid) + b"\x81")
		send(struct.pack("!HHHHHH", qid, 0x8180, 1, 5, 0, 0) + question +
		    wire_name(name) + struct.pack("!HHIH", T_TXT, C_IN, 60, 200) +
		    b"\x10v=STSv1; id=")
		return
	if trick == "loop":
		send(reply(qid, qflags, question, answers=[rr(name, T_CNAME, 60,
		    wire_name(loop_next(name)))]))
		return
	if trick == "loopin":
		a = "_mta-sts.loopin.test"
		b = "l1.loopin.test"
		c = "l2.loopin.test"
		send(reply(qid, qflags, question, answers=[
		    rr(a, T_CNAME, 60, wire_name(b)),
		    rr(b, T_CNAME, 60, wire_name(c)),
		    rr(c, T_CNAME, 60, wire_name(a))]))
		return
	if trick == "chain":
		first = labels[0]
		if first.startswith("c") and first[1:].isdigit():
			n = int(first[1:])
		else:
			n = 0
		if n >= CHAIN_DEPTH:
			ans = [rr(name, T_TXT, 60, txt_rdata("v=STSv1; id=1"))] \
			    if qtype == T_TXT else []
		else:
			ans = [rr(name, T_CNAME, 60,
			    wire_name("c%d.chain.test" % (n + 1)))]
		send(reply(qid, qflags, question, answers=ans))
		return
	if trick == "chainin":
		ans = []
		prev = name
		for n in range(1, CHAIN_DEPTH + 1):
			nxt = "c%d.chainin.test" % n
			ans.append(rr(prev, T_CNAME, 60, wire_name(nxt)))
			prev = nxt
		ans.append(rr(prev, T_TXT, 60, txt_rdata("v=STSv1; id=1")))
		send(reply(qid, qflags, question, answers=ans))
		return


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--listen", required=True)
	ap.add_argument("--port", type=int, default=53)
	ap.add_argument("--upstream", required=True)
	ap.add_argument("--log")
	args = ap.parse_args()
	sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	sock.bind((args.listen, args.port))
	print("ready", flush=True)
	while True:
		pkt, peer = sock.recvfrom(65535)
		threading.Thread(target=handle, args=(args, sock, pkt, peer),
		    daemon=True).start()


if __name__ == "__main__":
	sys.exit(main())
