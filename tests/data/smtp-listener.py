# SPDX-License-Identifier: GPL-2.0-or-later
# A stand-in for an MTA in the end-to-end test: listens on port 25, and
# logs to the file given what Postfix would log: a connect line for every
# client, a "User unknown" reject naming the client for RCPT TO:<nobody@...>.
import socket
import sys
import threading
import time

LOG = sys.argv[1]
lock = threading.Lock()


def log(msg):
    stamp = time.strftime("%b %e %H:%M:%S", time.gmtime())
    with lock, open(LOG, "a") as f:
        f.write("%s mx postfix/smtpd[1001]: %s\n" % (stamp, msg))


def serve(conn, peer):
    ip = peer[0]
    try:
        log("connect from unknown[%s]" % ip)
        conn.sendall(b"220 mx.example.org ESMTP\r\n")
        for line in conn.makefile("rb"):
            if line.upper().startswith(b"RCPT TO:<NOBODY@"):
                log("NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <nobody@example.org>: "
                    "Recipient address rejected: User unknown in local recipient table; "
                    "from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>" % ip)
                conn.sendall(b"550 5.1.1 <nobody@example.org>: User unknown\r\n")
            elif line.upper().startswith(b"QUIT"):
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"250 ok\r\n")
    except OSError:
        pass
    finally:
        conn.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 25))
srv.listen(16)
print("listening", flush=True)
while True:
    c, a = srv.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
