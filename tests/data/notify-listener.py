# SPDX-License-Identifier: GPL-2.0-or-later
# Stands in for systemd's notification socket: receives sd_notify
# datagrams on the path given and writes each one, one line per field,
# to stdout (flushed), so a test can wait for READY=1, STATUS=, etc.
import os
import socket
import sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
while True:
    msg = s.recv(65536).decode("utf-8", "replace")
    for field in msg.split("\n"):
        if field:
            print(field, flush=True)
