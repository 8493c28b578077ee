#!/usr/bin/env python3
"""Scripted HTTPS server for tests/unit/test_fetch.c (standard library only).

  fetch_server.py certs DIR   make a test CA and the certificates in DIR/certs
  fetch_server.py serve DIR   serve on loopback until standard input closes

`serve` binds 127.0.0.1 and 127.0.0.3 (and ::1 when it works) on one random
port and writes "port=N" and "ipv6=0|1" to DIR/ports.  Before each fetch the
test writes DIR/case, "key=value" lines read at every new connection:

  cert=NAME        certificate DIR/certs/NAME.pem (default valid)
  mode=MODE        what to answer (default cl)
  status=N         status code (default 200)
  ctype=VALUE      Content-Type; "-" leaves the header out (default text/plain)
  location=URL     Location header
  size=N           body length for modes that take one
  cert3=, mode3=   used instead for connections to 127.0.0.3

For every connection the server writes DIR/request: "sni=NAME", "addr=ADDR",
then the request head as received.  Handshake errors go to DIR/tls_error.
"""

import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

# The TLS 1.1 case needs the deprecated versions on purpose.
warnings.filterwarnings("ignore", category=DeprecationWarning)

POLICY = (b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\n"
          b"max_age: 86400\r\n")
HEAD_MAX = 65536
IO_TIMEOUT = 30

# name: (subject CN, SAN list or None, days, signing CA)
CERTS = {
    "valid": ("mta-sts.example.test", ["mta-sts.example.test"], 30, "ca"),
    "wrongname": ("mta-sts.other.test", ["mta-sts.other.test"], 30, "ca"),
    "wildcard": ("*.example.test", ["*.example.test"], 30, "ca"),
    "partial": ("mta-sts*.example.test", ["mta-sts*.example.test"], 30, "ca"),
    "partial2": ("mta*.example.test", ["mta*.example.test"], 30, "ca"),
    "cnonly": ("mta-sts.example.test", None, 30, "ca"),
    "expired": ("mta-sts.example.test", ["mta-sts.example.test"], -1, "ca"),
    "untrusted": ("mta-sts.example.test", ["mta-sts.example.test"], 30,
                  "ca2"),
    "multi": ("mta-sts.example.test",
              ["www.example.test", "mta-sts.example.test"], 30, "ca"),
}


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    """A trusted CA, an untrusted CA, and one leaf per CERTS entry."""
    certs = os.path.join(d, "certs")
    os.makedirs(certs, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    for ca in ("ca", "ca2"):
        openssl("req", "-x509", *ec, "-nodes",
                "-keyout", os.path.join(certs, ca + ".key"),
                "-out", os.path.join(certs, ca + ".pem"), "-days", "30",
                "-subj", "/CN=mtastsd test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, (cn, sans, days, ca) in CERTS.items():
        base = os.path.join(certs, name)
        openssl("req", "-new", *ec, "-nodes", "-keyout", base + ".key",
                "-out", base + ".csr", "-subj", "/CN=" + cn)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            if sans is not None:
                f.write("subjectAltName=" +
                        ",".join("DNS:" + s for s in sans) + "\n")
        openssl("x509", "-req", "-in", base + ".csr",
                "-CA", os.path.join(certs, ca + ".pem"),
                "-CAkey", os.path.join(certs, ca + ".key"),
                "-CAcreateserial", "-days", str(days),
                "-out", base + ".pem", "-extfile", ext)
    # A hashed directory holding the trusted CA, for fetch_ssl_ctx_new(cadir).
    cadir = os.path.join(certs, "cadir")
    os.makedirs(cadir, exist_ok=True)
    with open(os.path.join(certs, "ca.pem"), "rb") as src:
        with open(os.path.join(cadir, "ca.pem"), "wb") as dst:
            dst.write(src.read())
    openssl("rehash", cadir)


def read_case(d):
    case = {}
    try:
        with open(os.path.join(d, "case")) as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line:
                    k, v = line.split("=", 1)
                    case[k] = v
    except OSError:
        pass
    return case


def write_file(d, name, data):
    tmp = os.path.join(d, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(d, name))


class Server:
    def __init__(self, d):
        self.d = d
        self.sni = None

    def context(self, cert, mode):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base = os.path.join(self.d, "certs", cert)
        ctx.load_cert_chain(base + ".pem", base + ".key")
        if mode == "tls11":
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        holder = self

        def on_sni(sock, name, c):
            holder.sni = name
        ctx.sni_callback = on_sni
        return ctx

    def handle(self, conn, local):
        case = read_case(self.d)
        cert = case.get("cert", "valid")
        mode = case.get("mode", "cl")
        if local == "127.0.0.3":
            cert = case.get("cert3", cert)
            mode = case.get("mode3", mode)
        conn.settimeout(IO_TIMEOUT)
        if mode == "tcp_close":
            conn.close()
            return
        if mode == "stall_tls":
            # Never answer the ClientHello; wait for the client to give up.
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            conn.close()
            return
        self.sni = None
        try:
            s = self.context(cert, mode).wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            write_file(self.d, "tls_error", str(e).encode())
            conn.close()
            return
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < HEAD_MAX:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            write_file(self.d, "request",
                       b"sni=" + (self.sni or "").encode() + b"\naddr=" +
                       local.encode() + b"\n" + head)
            self.answer(s, case, mode)
        except (ssl.SSLError, OSError):
            pass
        try:
            s.close()
        except OSError:
            pass

    def answer(self, s, case, mode):
        status = int(case.get("status", "200"))
        ctype = case.get("ctype", "text/plain")
        size = int(case.get("size", "0"))
        hdr = "HTTP/1.1 %d X\r\n" % status
        if ctype != "-":
            hdr += "Content-Type: %s\r\n" % ctype
        if "location" in case:
            hdr += "Location: %s\r\n" % case["location"]
        body = POLICY
        if size > 0:
            pad = b"ext: " + b"a" * size + b"\r\n"
            body = (POLICY + pad)[:size]

        if mode == "cl":
            s.sendall((hdr + "Content-Length: %d\r\n\r\n" %
                       len(body)).encode() + body)
            s.unwrap()
        elif mode == "chunked":
            out = (hdr + "Transfer-Encoding: chunked\r\n\r\n").encode()
            step = max(1, len(body) // 3) if size == 0 else 4096
            for i in range(0, len(body), step):
                part = body[i:i + step]
                out += b"%x\r\n" % len(part) + part + b"\r\n"
            s.sendall(out + b"0\r\n\r\n")
            s.unwrap()
        elif mode == "http10":
            s.sendall(hdr.replace("HTTP/1.1", "HTTP/1.0").encode() +
                      b"\r\n" + body)
            s.unwrap()
        elif mode == "chunked_big":
            # F20: a valid policy, then a 70000-byte extension line.
            body = POLICY + b"ext: " + b"x" * 70000 + b"\r\n"
            s.sendall((hdr + "Transfer-Encoding: chunked\r\n\r\n").encode())
            for i in range(0, len(body), 4096):
                part = body[i:i + 4096]
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            s.unwrap()
        elif mode == "cl_two":
            # Two Content-Length fields that disagree (RFC 9112 6.3).
            s.sendall((hdr + "Content-Length: 3\r\nContent-Length: %d\r\n\r\n"
                       % len(body)).encode() + body)
            s.unwrap()
        elif mode == "cl_same":
            s.sendall((hdr + "Content-Length: %d\r\nContent-Length: %d\r\n\r\n"
                       % (len(body), len(body))).encode() + body)
            s.unwrap()
        elif mode == "cl_big":
            s.sendall((hdr + "Content-Length: 70000\r\n\r\n").encode())
            s.sendall(b"a" * 70000)
            s.unwrap()
        elif mode == "slow":
            s.sendall((hdr + "Content-Length: 100\r\n\r\n").encode())
            for _ in range(100):
                s.sendall(b"a")
                time.sleep(2)
        elif mode == "close_mid":
            s.sendall((hdr + "Content-Length: 1000\r\n\r\n").encode() +
                      body[:50])
            s.unwrap()
        elif mode == "close_mid_dirty":
            # Close-delimited body cut by a TCP close without close_notify.
            s.sendall(hdr.replace("HTTP/1.1", "HTTP/1.0").encode() +
                      b"\r\n" + body[:50])
            time.sleep(0.1)
            s.shutdown(socket.SHUT_RDWR)
        elif mode == "chunk_trunc":
            s.sendall((hdr + "Transfer-Encoding: chunked\r\n\r\n").encode() +
                      b"%x\r\n" % len(body) + body + b"\r\n")
            s.unwrap()
        elif mode == "garbage":
            s.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\nnot http at all\r\n\r\n")
            s.unwrap()
        elif mode == "big_header":
            s.sendall((hdr + "X-Big: ").encode())
            s.sendall(b"b" * (1 << 20))
            s.sendall(b"\r\nContent-Length: 0\r\n\r\n")
        elif mode == "silent":
            s.unwrap()
        else:
            s.sendall(b"HTTP/1.1 500 unknown mode\r\nContent-Length: 0\r\n\r\n")


def bind_all():
    """127.0.0.1, 127.0.0.3 and if possible ::1, all on one free port."""
    for _ in range(50):
        socks = []
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s3 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s3)
            s3.bind(("127.0.0.3", port))
        except OSError:
            for x in socks:
                x.close()
            continue
        ipv6 = 0
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.bind(("::1", port))
            socks.append(s6)
            ipv6 = 1
        except OSError:
            s6.close()
        for x in socks:
            x.listen(16)
        return socks, port, ipv6
    sys.exit("fetch_server: cannot bind")


def serve(d):
    socks, port, ipv6 = bind_all()
    srv = Server(d)

    def watch_stdin():
        # The test holds our standard input; when it goes, so do we.
        while sys.stdin.buffer.read(1):
            pass
        os._exit(0)
    threading.Thread(target=watch_stdin, daemon=True).start()
    write_file(d, "ports", b"port=%d\nipv6=%d\n" % (port, ipv6))
    while True:
        ready, _, _ = select.select(socks, [], [])
        for ls in ready:
            conn, _ = ls.accept()
            local = conn.getsockname()[0]
            threading.Thread(target=srv.handle, args=(conn, local),
                             daemon=True).start()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("certs", "serve"):
        sys.exit("usage: fetch_server.py certs|serve DIR")
    if sys.argv[1] == "certs":
        make_certs(sys.argv[2])
    else:
        serve(sys.argv[2])


if __name__ == "__main__":
    main()
