# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests of spamwrath-firewall (firewall.sh, firewall-nft.sh;
# sourced after tests/lib.sh): a server namespace $NS and a client
# namespace $CNS joined by a veth pair, a listener on the server's port 25,
# and whether a client gets through to it.

# fw_net V6CLIENT...: the veth pair veth0 between $NS (192.0.2.1/24 and
# 2001:db8:f::1/64) and $CNS (192.0.2.10 and 192.0.2.11, and each
# V6CLIENT with a /64), both ends up.
fw_net() {
	ip -n "$NS" link set lo up
	ip -n "$CNS" link set lo up
	ip -n "$NS" link add veth0 type veth peer name veth0 netns "$CNS"
	ip -n "$NS" addr add 192.0.2.1/24 dev veth0
	ip -n "$NS" addr add 2001:db8:f::1/64 dev veth0 nodad
	ip -n "$CNS" addr add 192.0.2.10/24 dev veth0
	ip -n "$CNS" addr add 192.0.2.11/24 dev veth0
	for _v6 in "$@"; do ip -n "$CNS" addr add "$_v6/64" dev veth0 nodad; done
	ip -n "$NS" link set veth0 up
	ip -n "$CNS" link set veth0 up
}

# fw_listen [WHAT]: in $NS, a listener on port 25 (IPv4 and IPv6) that
# takes every connection and closes it; returns once 192.0.2.11 gets
# through (WHAT prefixes the failure). It ends with the processes of $NS,
# which the test's at_exit kills.
fw_listen() {
	(ip netns exec "$NS" perl -MIO::Socket::IP -e '
		my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 25, Listen => 64,
			ReuseAddr => 1, V6Only => 0) or die "listen: $!";
		while (my $c = $s->accept) { close $c }' &)
	wait_for 2 connects 192.0.2.11 192.0.2.1 || fail "${1:+$1: }the listener never came up"
}

# connects SRC DST: can the client namespace open a TCP connection from
# SRC to DST port 25?
connects() {
	ip netns exec "$CNS" perl -MIO::Socket::IP -e \
		'exit(IO::Socket::IP->new(PeerHost => $ARGV[1], PeerPort => 25,
		  LocalHost => $ARGV[0], Timeout => 2) ? 0 : 1)' "$1" "$2"
}
