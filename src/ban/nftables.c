/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nftables backend: in table inet TABLE, set4 (ipv4_addr, flags
 * timeout) and set6 (ipv6_addr, flags interval,timeout: the /ipv6_prefix
 * networks), spoken to through libnftnl's messages on one netlink socket
 * of libmnl's, in batches: no nft process, and no libnftables, whose
 * command parser reads the whole of an interval set back before each
 * change (measured in bench/results/2026-12-06-nftables-library.txt).
 *
 * A batch is one kernel transaction: all of it happens or none. So an add
 * is "add if absent, delete, add with the timeout", which sets the new
 * timeout on any kernel (updating an element's timeout in place came only
 * with Linux 6.10), and a batch the kernel refuses is split in halves to
 * find the elements it will take. An interval set holds a network as two
 * elements: its first address, and the first address after it flagged as
 * an interval end (none when the network ends the address space).
 *
 * The kernel processes a batch inside the sendmsg() that carries it, so
 * when that returns every error is already queued on the socket. That
 * also answers which bans are in their sets (a restore): a batch that
 * deletes them all, sent without its end, is checked message by message,
 * each element it cannot find reported, and then dropped whole.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "backend.h"
#include "log.h"

/* nft's data type numbers for a set's key, as `nft list` names them. */
#define BAN_NFT_TYPE_IPV4 7	/* ipv4_addr */
#define BAN_NFT_TYPE_IPV6 8	/* ipv6_addr */
/* Longer bans are re-added by banset.c before this runs out; the kernel
 * takes much more (it refuses past about 584 years of milliseconds). */
#define BAN_NFT_TIMEOUT_MAX (10L * 365 * 86400)
/* Room kept free at the end of the batch buffer for the next message: an
 * element list stops before its attribute passes 64 KiB (libnftnl). */
#define BAN_NFT_MSG_ROOM (128u * 1024)
/* The socket buffers a batch of a million elements needs (SO_*BUFFORCE:
 * CAP_NET_ADMIN, which the daemon has). */
#define BAN_NFT_SOCKBUF (256 * 1024 * 1024)
/* Elements in one NEWSETELEM message; libnftnl also stops at 64 KiB. */
#define BAN_NFT_PER_MSG 512
/* Bans tested in one batch: the kernel keeps an error for each missing one
 * until the batch is done. */
#define BAN_NFT_TEST_BATCH 16384
/* A receive buffer as large as the kernel makes a dump's messages (32 KiB),
 * and some. */
#define BAN_NFT_DUMP_BUF (64 * 1024)

struct ban_nft_set {
	char *name;
	bool interval;		/* holds networks as start and end elements */
	uint64_t handle;	/* the kernel's, to notice a set made anew */
};

struct ban_nft {
	struct ban_backend base;
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char *table;
	uint64_t table_handle;		/* a table made anew gets another */
	struct ban_nft_set set[2];	/* 0: IPv4, 1: IPv6 */
	long size, timeout;		/* for making a set again */
	unsigned prefix[2];		/* the judge's: does set4 need ranges? */
	char *buf;			/* the batch being built */
	size_t len, cap;
	uint32_t first_seq;		/* of the batch's first message */
	size_t nmsg;
};

/* A failed batch: its first error. */
struct ban_nft_error {
	int err;			/* negative errno, 0: none */
	char text[BAN_WHY_MAX];
};

static struct ban_nft *ban_nft_of(struct ban_backend *be)
{
	return (struct ban_nft *)be;
}

static int ban_nft_fam(int family)
{
	return family == 4 ? 0 : 1;
}

/* --- the socket and batches --- */

static int ban_nft_socket(struct ban_nft *n)
{
	int size = BAN_NFT_SOCKBUF, one = 1, fd;

	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	n->portid = mnl_socket_get_portid(n->nl);
	fd = mnl_socket_get_fd(n->nl);
	/* without them a large batch is refused (EMSGSIZE) and its errors lost */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		log_warn("nftables: cannot enlarge the netlink buffers (%s): large batches may "
			 "fail", strerror(errno));
	/* errors without the request echoed, and with the kernel's own words */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	n->seq = (uint32_t)time(NULL);
	return 0;
}

/* Room for one more message at the end of the batch. */
static char *ban_nft_room(struct ban_nft *n)
{
	if (n->cap - n->len < BAN_NFT_MSG_ROOM) {
		size_t cap = n->cap ? 2 * n->cap : 4 * BAN_NFT_MSG_ROOM;
		char *v = realloc(n->buf, cap);

		if (!v)
			return NULL;
		n->buf = v;
		n->cap = cap;
	}
	return n->buf + n->len;
}

static int ban_nft_begin(struct ban_nft *n)
{
	char *p;

	n->len = 0;
	n->nmsg = 0;
	p = ban_nft_room(n);
	if (!p)
		return -1;
	nftnl_batch_begin(p, n->seq++);
	n->len += ((struct nlmsghdr *)p)->nlmsg_len;
	n->first_seq = n->seq;
	return 0;
}

/* A message header at the end of the batch; its payload follows, then ban_nft_put_end. */
static struct nlmsghdr *ban_nft_put(struct ban_nft *n, uint16_t type, uint16_t flags)
{
	char *p = ban_nft_room(n);

	if (!p)
		return NULL;
	n->nmsg++;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags, n->seq++);
}

static void ban_nft_put_end(struct ban_nft *n, struct nlmsghdr *nlh)
{
	n->len += nlh->nlmsg_len;
}

/* The text of an error reply: strerror, and the kernel's own message when it gives one. */
static void ban_nft_error_text(const struct nlmsghdr *nlh, int err, char *buf, size_t len)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	/* NETLINK_CAP_ACK: the request's header alone, inside nlmsgerr, then attributes */
	const char *p = (const char *)(e + 1), *end = (const char *)nlh + nlh->nlmsg_len;

	snprintf(buf, len, "%s", strerror(-err));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			return;
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && a->nla_len > sizeof(*a)) {
			snprintf(buf, len, "%s (%.*s)", strerror(-err),
				 (int)strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)),
				 (const char *)mnl_attr_get_payload(a));
			return;
		}
		p += MNL_ALIGN(a->nla_len);
	}
}

/* Drops what an earlier exchange left unread on the socket. */
static void ban_nft_drain(struct ban_nft *n)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];

	while (recv(mnl_socket_get_fd(n->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT) > 0)
		;
}

/*
 * Ends the batch and sends it. 0 when the kernel took all of it; 1 with
 * its first error in *e (the kernel then took none of it); -1 when it
 * could not be sent.
 */
static int ban_nft_send(struct ban_nft *n, struct ban_nft_error *e)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	char *p = ban_nft_room(n);
	ssize_t r;

	e->err = 0;
	e->text[0] = '\0';
	if (!p) {
		snprintf(e->text, sizeof(e->text), "out of memory");
		return -1;
	}
	nftnl_batch_end(p, n->seq++);
	n->len += ((struct nlmsghdr *)p)->nlmsg_len;
	if (mnl_socket_sendto(n->nl, n->buf, n->len) < 0) {
		snprintf(e->text, sizeof(e->text), "cannot send to the kernel: %s",
			 strerror(errno));
		return -1;
	}
	while ((r = recv(mnl_socket_get_fd(n->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int left = (int)r;

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR || err->error == 0 || e->err ||
			    nlh->nlmsg_seq - n->first_seq >= n->nmsg)
				continue;	/* an ack, or left over from an earlier exchange */
			e->err = err->error;
			ban_nft_error_text(nlh, err->error, e->text, sizeof(e->text));
		}
	}
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !e->err) {
		/* ENOBUFS: replies were lost, the outcome is unknown */
		e->err = -errno;
		snprintf(e->text, sizeof(e->text), "reading the kernel's reply: %s",
			 strerror(errno));
	}
	return e->err ? 1 : 0;
}

/* A request with its replies read through cb (a get, or a dump). 0, or a negative errno. */
static int ban_nft_talk(struct ban_nft *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t r;
	int rc;

	ban_nft_drain(n);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((r = mnl_socket_recvfrom(n->nl, rbuf, sizeof(rbuf))) > 0) {
		rc = mnl_cb_run(rbuf, (size_t)r, seq, n->portid, cb, data);
		if (rc <= MNL_CB_STOP)
			return rc < 0 ? -errno : 0;
	}
	return r < 0 ? -errno : -EIO;
}

/* --- sets --- */

/* A set as the kernel describes it. */
struct ban_nft_info {
	uint32_t key_type, key_len, flags, size;
	uint64_t handle;
};

static int ban_nft_info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ban_nft_info *info = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		info->key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
		info->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
		info->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
		info->size = nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ?
			nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) : 0;
		info->handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* A set with the table and name given, and nothing else (for requests). */
static struct nftnl_set *ban_nft_set_ref(const char *table, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* 0 and *info when the set exists, 1 when it (or its table) does not, -errno. */
static int ban_nft_get_set(struct ban_nft *n, const char *table, const char *name,
			   struct ban_nft_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = ban_nft_set_ref(table, name);
	struct nlmsghdr *nlh;
	int rc;

	if (!s)
		return -ENOMEM;
	memset(info, 0, sizeof(*info));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, n->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = ban_nft_talk(n, nlh, ban_nft_info_cb, info);
	return rc == -ENOENT ? 1 : rc;
}

static int ban_nft_table_cb(const struct nlmsghdr *nlh, void *data)
{
	uint64_t *handle = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0)
		*handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* 0 and the table's handle, 1 when it does not exist, or -errno. Set
 * handles count up inside their table: only the table's own handle tells
 * a table made anew (by a ruleset that flushes and declares it). */
static int ban_nft_get_table(struct ban_nft *n, const char *name, uint64_t *handle)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int rc;

	if (!t)
		return -ENOMEM;
	*handle = 0;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, n->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	rc = ban_nft_talk(n, nlh, ban_nft_table_cb, handle);
	return rc == -ENOENT ? 1 : rc;
}

static void ban_nft_describe(const struct ban_nft_info *i, char *buf, size_t len)
{
	const char *type = i->key_type == BAN_NFT_TYPE_IPV4 ? "ipv4_addr" :
			   i->key_type == BAN_NFT_TYPE_IPV6 ? "ipv6_addr" : NULL;
	int k = type ? snprintf(buf, len, "type %s", type) :
		snprintf(buf, len, "key type %" PRIu32 " of %" PRIu32 " bytes", i->key_type,
			 i->key_len);

	if ((size_t)k < len)
		snprintf(buf + k, len - (size_t)k, ", flags%s%s%s%s",
			 i->flags & NFT_SET_INTERVAL ? " interval" : "",
			 i->flags & NFT_SET_TIMEOUT ? " timeout" : "",
			 i->flags & NFT_SET_MAP ? " map" : "",
			 i->flags & (NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_MAP) ? "" : " none");
}

/* What set f must be: its key type and flags. */
static uint32_t ban_nft_want_flags(const struct ban_nft *n, int f)
{
	/* networks (ipv4_prefix below 32, IPv6 always) need ranges */
	bool ranges = f == 1 || n->prefix[0] < 32;

	return NFT_SET_TIMEOUT | (ranges ? NFT_SET_INTERVAL : 0);
}

/* 0 when set f exists and will do, 1 when it is missing, -1 (logged) otherwise. */
static int ban_nft_check(struct ban_nft *n, const char *table, const char *name, int f,
			 struct ban_nft_info *info)
{
	uint32_t type = f ? BAN_NFT_TYPE_IPV6 : BAN_NFT_TYPE_IPV4, want = ban_nft_want_flags(n, f);
	char got[128];
	int rc = ban_nft_get_set(n, table, name, info);

	if (rc < 0) {
		log_error("nftables: cannot read set inet %s %s: %s", table, name, strerror(-rc));
		return -1;
	}
	if (rc == 1)
		return 1;
	if (info->key_type == type && info->key_len == (f ? 16u : 4u) &&
	    (info->flags & want) == want && !(info->flags & (NFT_SET_MAP | NFT_SET_OBJECT |
							     NFT_SET_CONCAT)))
		return 0;
	ban_nft_describe(info, got, sizeof(got));
	log_error("nftables: set inet %s %s exists as %s, but spamwrath needs type %s with flags "
		  "%stimeout; delete it (nft delete set inet %s %s, after removing the rules "
		  "that use it) or name another set in the nftables section", table, name, got,
		  f ? "ipv6_addr" : "ipv4_addr", want & NFT_SET_INTERVAL ? "interval," : "", table,
		  name);
	return -1;
}

/* Adds a NEWSET for set f to the batch. */
static int ban_nft_put_newset(struct ban_nft *n, const char *table, const char *name, int f)
{
	struct nftnl_set *s = ban_nft_set_ref(table, name);
	struct nlmsghdr *nlh;

	if (!s)
		return -1;
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)f + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, ban_nft_want_flags(n, f));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, f ? BAN_NFT_TYPE_IPV6 : BAN_NFT_TYPE_IPV4);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, f ? 16 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)n->size);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, (uint64_t)n->timeout * 1000);
	nlh = ban_nft_put(n, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh) {
		nftnl_set_free(s);
		return -1;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ban_nft_put_end(n, nlh);
	return 0;
}

/* Creates the table (when missing) and the sets marked in make, in one batch. */
static int ban_nft_create(struct ban_nft *n, const char *table, const char *const name[2],
			  const bool make[2])
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct ban_nft_error e;
	struct nlmsghdr *nlh;
	int rc = -1;

	if (!t || ban_nft_begin(n) < 0)
		goto out;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, table) < 0)
		goto out;
	/* without NLM_F_EXCL: an existing table is left as it is */
	nlh = ban_nft_put(n, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	ban_nft_put_end(n, nlh);
	for (int f = 0; f < 2; f++)
		if (make[f] && ban_nft_put_newset(n, table, name[f], f) < 0)
			goto out;
	rc = ban_nft_send(n, &e);
	if (rc != 0)
		log_error("nftables: cannot create table inet %s or its sets: %s", table, e.text);
	else
		for (int f = 0; f < 2; f++)
			if (make[f])
				log_info("nftables: created set inet %s %s (type %s, flags %stimeout, "
					 "size %ld)", table, name[f], f ? "ipv6_addr" : "ipv4_addr",
					 ban_nft_want_flags(n, f) & NFT_SET_INTERVAL ? "interval," : "",
					 n->size);
out:
	if (t)
		nftnl_table_free(t);
	return rc == 0 ? 0 : -1;
}

/*
 * Makes sure table holds set4 and set6 as needed: both checked before
 * anything is created, so that a refusal changes nothing. The handles of
 * the sets are noted in handle[] (by kernel order of creation).
 */
static int ban_nft_ensure_names(struct ban_nft *n, const char *table, const char *const name[2],
				uint64_t handle[2])
{
	struct ban_nft_info info[2];
	bool make[2];

	for (int f = 0; f < 2; f++) {
		int rc = ban_nft_check(n, table, name[f], f, &info[f]);

		if (rc < 0)
			return -1;
		make[f] = rc == 1;
	}
	if ((make[0] || make[1]) && ban_nft_create(n, table, name, make) < 0)
		return -1;
	for (int f = 0; f < 2; f++) {
		if (make[f] && ban_nft_get_set(n, table, name[f], &info[f]) != 0) {
			log_error("nftables: set inet %s %s is gone right after its creation", table,
				  name[f]);
			return -1;
		}
		handle[f] = info[f].handle;
	}
	for (int f = 0; f < 2; f++)
		if (info[f].size && info[f].size != (uint32_t)n->size)
			log_info("nftables: set inet %s %s exists with size %" PRIu32 " (configured "
				 "%ld); keeping it", table, name[f], info[f].size, n->size);
	return 0;
}

static int ban_nft_ensure(struct ban_backend *be, const struct config *c)
{
	struct ban_nft *n = ban_nft_of(be);
	const char *name[2] = { c->nft_set4, c->nft_set6 };
	uint64_t handle[2];

	n->size = c->nft_size;
	n->timeout = c->bantime;
	n->prefix[0] = c->ipv4_prefix;
	n->prefix[1] = c->ipv6_prefix;
	return ban_nft_ensure_names(n, c->nft_table, name, handle);
}

static int ban_nft_use(struct ban_backend *be, const struct config *c)
{
	struct ban_nft *n = ban_nft_of(be);
	const char *name[2] = { c->nft_set4, c->nft_set6 };
	char *t = strdup(c->nft_table), *s4 = strdup(name[0]), *s6 = strdup(name[1]);
	struct ban_nft_info info;
	/* the same sets: their handles stay, so that a renewal is still noticed */
	bool same = n->table && strcmp(n->table, c->nft_table) == 0 &&
		    strcmp(n->set[0].name, name[0]) == 0 && strcmp(n->set[1].name, name[1]) == 0;

	if (!t || !s4 || !s6) {
		free(t);
		free(s4);
		free(s6);
		log_error("nftables: out of memory");
		return -1;
	}
	free(n->table);
	free(n->set[0].name);
	free(n->set[1].name);
	n->table = t;
	n->set[0].name = s4;
	n->set[1].name = s6;
	if (same)
		return 0;
	ban_nft_get_table(n, t, &n->table_handle);
	for (int f = 0; f < 2; f++) {
		n->set[f].interval = ban_nft_want_flags(n, f) & NFT_SET_INTERVAL;
		if (ban_nft_get_set(n, t, n->set[f].name, &info) == 0) {
			/* an existing set of the user's may have ranges where we need none */
			n->set[f].interval = info.flags & NFT_SET_INTERVAL;
			n->set[f].handle = info.handle;
		}
	}
	return 0;
}

static const char *ban_nft_set_name(const struct ban_backend *be, int family)
{
	return ((const struct ban_nft *)be)->set[ban_nft_fam(family)].name;
}

/* --- elements --- */

/* The first address after network a, in out (same width): false when a
 * ends the address space, which an interval then leaves open. */
static bool ban_nft_after(const struct addr *a, uint8_t out[16])
{
	unsigned width = addr_width(a) / 8, bit = a->prefix;

	memcpy(out, a->bytes, width);
	if (bit == 0)
		return false;
	/* add 1 at the network's last bit, carrying to the left */
	for (int i = (int)((bit - 1) / 8); i >= 0; i--) {
		unsigned step = i == (int)((bit - 1) / 8) ? 1u << (7 - (bit - 1) % 8) : 1u;
		unsigned v = out[i] + step;

		out[i] = (uint8_t)v;
		if (v < 256)
			return true;
	}
	return false;
}

/* Appends the element(s) of a to s: with a timeout (ms) unless 0. */
static int ban_nft_elem(struct nftnl_set *s, const struct addr *a, bool interval,
			uint64_t timeout_ms)
{
	unsigned width = addr_width(a) / 8;
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t end[16];

	if (!e)
		return -1;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, a->bytes, width);
	if (timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	nftnl_set_elem_add(s, e);
	if (!interval || !ban_nft_after(a, end))
		return 0;
	e = nftnl_set_elem_alloc();
	if (!e)
		return -1;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, end, width);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);
	return 0;
}

/* Adds the elements of s to the batch as messages of type (and flags). */
static int ban_nft_put_elems(struct ban_nft *n, struct nftnl_set *s, uint16_t type,
			     uint16_t flags)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	int more = 1;

	if (!it)
		return -1;
	while (more > 0 && nftnl_set_elems_iter_cur(it)) {
		struct nlmsghdr *nlh = ban_nft_put(n, type, flags);

		if (!nlh) {
			nftnl_set_elems_iter_destroy(it);
			return -1;
		}
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		ban_nft_put_end(n, nlh);
	}
	nftnl_set_elems_iter_destroy(it);
	return 0;
}

/* A set of family f's with no elements yet, to carry some. */
static struct nftnl_set *ban_nft_elems_of(const struct ban_nft *n, int f)
{
	return ban_nft_set_ref(n->table, n->set[f].name);
}

static enum ban_refusal ban_nft_refusal(int err)
{
	/* the set's size reached (the kernel counts expired elements not yet collected) */
	return err == -ENFILE ? BAN_FULL : BAN_REFUSED;
}

/* What the kernel's errno means for an element: it says EEXIST ("File
 * exists") for an overlap in an interval set (the same element again is
 * no error), ENFILE ("Too many open files in system") for a full set. */
static void ban_nft_why(int err, const char *text, char why[BAN_WHY_MAX])
{
	if (err == -EEXIST)
		snprintf(why, BAN_WHY_MAX, "it overlaps a range already in the set");
	else
		snprintf(why, BAN_WHY_MAX, "%s", text);
}

/* The kernel says ENFILE ("Too many open files in system") for a full set: say that. */
static void ban_nft_full_why(char why[BAN_WHY_MAX])
{
	snprintf(why, BAN_WHY_MAX, "set full: its size is reached");
}

/* One add of a as "add if absent, delete, add": 0, or -errno with why. */
static int ban_nft_add_once(struct ban_nft *n, const struct addr *a, long timeout,
			    char why[BAN_WHY_MAX])
{
	int f = ban_nft_fam(a->family);
	bool interval = n->set[f].interval;
	uint64_t ms = (uint64_t)timeout * 1000;
	struct nftnl_set *add = ban_nft_elems_of(n, f), *del = ban_nft_elems_of(n, f);
	struct ban_nft_error e = { .err = -ENOMEM };
	int rc = -1;

	snprintf(why, BAN_WHY_MAX, "out of memory");
	if (!add || !del || ban_nft_elem(add, a, interval, ms) < 0 ||
	    ban_nft_elem(del, a, interval, 0) < 0 || ban_nft_begin(n) < 0 ||
	    ban_nft_put_elems(n, add, NFT_MSG_NEWSETELEM, NLM_F_CREATE) < 0 ||
	    ban_nft_put_elems(n, del, NFT_MSG_DELSETELEM, 0) < 0 ||
	    ban_nft_put_elems(n, add, NFT_MSG_NEWSETELEM, NLM_F_CREATE) < 0)
		goto out;
	rc = ban_nft_send(n, &e);
	if (rc != 0 && e.err == -ENFILE)
		ban_nft_full_why(why);
	else if (rc != 0)
		ban_nft_why(e.err, e.text, why);
out:
	if (add)
		nftnl_set_free(add);
	if (del)
		nftnl_set_free(del);
	return rc == 0 ? 0 : e.err ? e.err : -EIO;
}

static int ban_nft_add(struct ban_backend *be, const struct addr *a, long timeout,
		       char why[BAN_WHY_MAX])
{
	struct ban_nft *n = ban_nft_of(be);
	int f = ban_nft_fam(a->family);
	const char *name[2] = { n->set[0].name, n->set[1].name };
	uint64_t handle[2];
	int rc = ban_nft_add_once(n, a, timeout, why);

	if (rc != -ENOENT)
		return rc == 0 ? 0 : ban_nft_refusal(rc);
	/* the table or the set is gone (nft flush ruleset): make it again */
	log_warn("nftables: set inet %s %s disappeared; creating it again", n->table,
		 n->set[f].name);
	if (ban_nft_ensure_names(n, n->table, name, handle) < 0) {
		snprintf(why, BAN_WHY_MAX, "set inet %s %s is gone and cannot be created again",
			 n->table, n->set[f].name);
		return BAN_REFUSED;
	}
	rc = ban_nft_add_once(n, a, timeout, why);
	return rc == 0 ? 0 : ban_nft_refusal(rc);
}

static int ban_nft_del(struct ban_backend *be, const struct addr *a)
{
	struct ban_nft *n = ban_nft_of(be);
	int f = ban_nft_fam(a->family);
	struct nftnl_set *del = ban_nft_elems_of(n, f);
	struct ban_nft_error e = { .err = 0 };
	char text[ADDR_STRLEN];
	int rc = -1;

	if (!del || ban_nft_elem(del, a, n->set[f].interval, 0) < 0 || ban_nft_begin(n) < 0 ||
	    ban_nft_put_elems(n, del, NFT_MSG_DELSETELEM, 0) < 0)
		snprintf(e.text, sizeof(e.text), "out of memory");
	else
		rc = ban_nft_send(n, &e);
	if (del)
		nftnl_set_free(del);
	/* absent, or its set gone: nothing to delete */
	if (rc == 0 || e.err == -ENOENT)
		return 0;
	log_error("nftables: cannot delete %s from set inet %s %s: %s", addr_format(a, text),
		  n->table, n->set[f].name, e.text);
	return -1;
}

/* --- membership --- */

static int ban_nft_count_one(struct nftnl_set_elem *e, void *data)
{
	(void)e;
	++*(size_t *)data;
	return 0;
}

/* The number of elements in one NEWSETELEM message. */
static size_t ban_nft_count(const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	size_t n = 0;

	if (s && nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, ban_nft_count_one, &n);
	if (s)
		nftnl_set_free(s);
	return n;
}

/*
 * 1 when set f holds no element (after a reboot), 0 when it holds some,
 * or -errno. The first reply of a dump tells, on a socket of its own that
 * is then closed: a whole dump would walk the set again for every message
 * it sends, quadratic in the kernel.
 */
static int ban_nft_empty(struct ban_nft *n, int f)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nftnl_set *s = ban_nft_elems_of(n, f);
	char *buf = malloc(BAN_NFT_DUMP_BUF);
	struct nlmsghdr *nlh;
	int rc = -ENOMEM, left;
	ssize_t r;

	if (!nl || !s || !buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, 1);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	rc = -EIO;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (r = mnl_socket_recvfrom(nl, buf, BAN_NFT_DUMP_BUF)) <= 0)
		goto out;
	left = (int)r;
	rc = 1;
	for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left) && rc == 1;
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			rc = e->error ? e->error : 1;
		} else if (nlh->nlmsg_type != NLMSG_DONE) {
			rc = ban_nft_count(nlh) ? 0 : 1;
		}
	}
out:
	if (s)
		nftnl_set_free(s);
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return rc;
}

/*
 * Tests v[lo..hi) at once, sets left[] of the missing ones to -1: a batch
 * that deletes each ban's element(s), a message each, sent without its
 * end, so that the kernel checks every message, reports the ones it
 * cannot do (ENOENT: not there) and then drops the whole transaction;
 * nothing changes. A present ban costs no reply at all. (A test a ban,
 * NFT_MSG_GETSETELEM, costs a reply each, 8 us at 100,000 bans; a dump
 * walks the set again for each of its messages: quadratic.) 0, or -errno.
 */
static int ban_nft_test_range(struct ban_nft *n, const struct banset_entry *const *v,
			      size_t lo, size_t hi, long *left)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	int f = ban_nft_fam(v[lo]->a.family);
	ssize_t r;

	if (ban_nft_begin(n) < 0)
		return -ENOMEM;
	for (size_t i = lo; i < hi; i++) {
		struct nftnl_set *s = ban_nft_elems_of(n, f);
		int rc = s && ban_nft_elem(s, &v[i]->a, n->set[f].interval, 0) == 0 ?
			ban_nft_put_elems(n, s, NFT_MSG_DELSETELEM, 0) : -1;

		if (s)
			nftnl_set_free(s);
		if (rc < 0)
			return -ENOMEM;
		left[i] = 0;	/* present, what is left unknown, unless an error comes */
	}
	/* no NFNL_MSG_BATCH_END: the kernel aborts the transaction */
	if (mnl_socket_sendto(n->nl, n->buf, n->len) < 0)
		return -errno;
	while ((r = recv(mnl_socket_get_fd(n->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int k = (int)r;

		for (; mnl_nlmsg_ok(nlh, k); nlh = mnl_nlmsg_next(nlh, &k)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			uint32_t at = nlh->nlmsg_seq - n->first_seq;

			if (nlh->nlmsg_type != NLMSG_ERROR || e->error == 0)
				continue;
			if (nlh->nlmsg_seq == n->first_seq - 1)
				return e->error;	/* the batch itself (no memory for errors) */
			if (at < hi - lo)
				left[lo + at] = -1;
		}
	}
	return r < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? -errno : 0;
}

static int ban_nft_present(struct ban_backend *be, const struct banset_entry *const *v,
			   size_t n, long *left)
{
	struct ban_nft *nb = ban_nft_of(be);
	int f, rc;

	if (n == 0)
		return 0;
	f = ban_nft_fam(v[0]->a.family);
	rc = ban_nft_empty(nb, f);
	for (size_t i = 0; rc == 1 && i < n; i++)
		left[i] = -1;
	for (size_t lo = 0; rc == 0 && lo < n; lo += BAN_NFT_TEST_BATCH)
		rc = ban_nft_test_range(nb, v, lo, lo + BAN_NFT_TEST_BATCH < n ?
					lo + BAN_NFT_TEST_BATCH : n, left);
	if (rc >= 0)
		return 0;
	log_error("nftables: cannot read set inet %s %s: %s", nb->table, nb->set[f].name,
		  strerror(-rc));
	return -1;
}

/* --- many at once --- */

struct ban_nft_many {
	struct ban_nft *n;
	const struct banset_entry *const *v;
	time_t now;
	bool update;		/* some may be present: "add if absent, delete, add" */
	ban_refused_fn *refused;
	void *ctx;
	bool full;		/* an element alone was refused for want of room */
	char why[BAN_WHY_MAX];
};

/* Adds one chunk's elements (add: with their timeouts; del: without) to
 * the batch: once, or as "add if absent, delete, add" to update. */
static int ban_nft_put_chunk(struct ban_nft_many *m, struct nftnl_set *add, struct nftnl_set *del)
{
	struct ban_nft *n = m->n;

	if (ban_nft_put_elems(n, add, NFT_MSG_NEWSETELEM, NLM_F_CREATE) < 0)
		return -1;
	if (!m->update)
		return 0;
	if (ban_nft_put_elems(n, del, NFT_MSG_DELSETELEM, 0) < 0 ||
	    ban_nft_put_elems(n, add, NFT_MSG_NEWSETELEM, NLM_F_CREATE) < 0)
		return -1;
	return 0;
}

/* One batch of v[lo..hi): 0 all in, else the error (none in). */
static int ban_nft_try_range(struct ban_nft_many *m, size_t lo, size_t hi,
			     struct ban_nft_error *e)
{
	struct ban_nft *n = m->n;
	int f = ban_nft_fam(m->v[lo]->a.family);
	bool interval = n->set[f].interval;
	struct nftnl_set *add = NULL, *del = NULL;
	int rc = -1;

	e->err = -ENOMEM;
	snprintf(e->text, sizeof(e->text), "out of memory");
	if (ban_nft_begin(n) < 0)
		goto out;
	for (size_t i = lo; i < hi; i++) {
		long left = (long)(m->v[i]->until - m->now);

		if (left > BAN_NFT_TIMEOUT_MAX)
			left = BAN_NFT_TIMEOUT_MAX;
		if ((!add && !(add = ban_nft_elems_of(n, f))) ||
		    (!del && !(del = ban_nft_elems_of(n, f))) ||
		    ban_nft_elem(add, &m->v[i]->a, interval, (uint64_t)(left < 1 ? 1 : left) * 1000) < 0 ||
		    (m->update && ban_nft_elem(del, &m->v[i]->a, interval, 0) < 0))
			goto out;
		/* a chunk per BAN_NFT_PER_MSG bans keeps each message small */
		if ((i - lo + 1) % BAN_NFT_PER_MSG == 0 || i + 1 == hi) {
			if (ban_nft_put_chunk(m, add, del) < 0)
				goto out;
			nftnl_set_free(add);
			nftnl_set_free(del);
			add = del = NULL;
		}
	}
	rc = ban_nft_send(n, e);
out:
	if (add)
		nftnl_set_free(add);
	if (del)
		nftnl_set_free(del);
	return rc == 0 ? 0 : e->err ? e->err : -EIO;
}

/*
 * v[lo..hi) in one batch; when the kernel refuses it (and so takes none
 * of it), each half on its own, down to the single elements it refuses.
 * Once one is refused alone for want of room, the rest is too, unasked.
 */
static int ban_nft_add_range(struct ban_nft_many *m, size_t lo, size_t hi)
{
	struct ban_nft_error e;
	int rc;

	if (lo >= hi)
		return 0;
	if (m->full) {
		for (size_t i = lo; i < hi; i++)
			m->refused(m->ctx, i, BAN_FULL, m->why);
		return 0;
	}
	rc = ban_nft_try_range(m, lo, hi, &e);
	if (rc == 0)
		return 0;
	if (rc == -ENOMEM && e.err == -ENOMEM && strcmp(e.text, "out of memory") == 0)
		return -1;
	if (hi - lo == 1) {
		if (ban_nft_refusal(rc) == BAN_FULL) {
			m->full = true;
			ban_nft_full_why(m->why);
			m->refused(m->ctx, lo, BAN_FULL, m->why);
		} else {
			ban_nft_why(rc, e.text, m->why);
			m->refused(m->ctx, lo, BAN_REFUSED, m->why);
		}
		return 0;
	}
	if (ban_nft_add_range(m, lo, lo + (hi - lo) / 2) < 0)
		return -1;
	return ban_nft_add_range(m, lo + (hi - lo) / 2, hi);
}

static int ban_nft_add_many(struct ban_backend *be, const struct banset_entry *const *v,
			    size_t n, time_t now, bool update, ban_refused_fn *refused, void *ctx)
{
	struct ban_nft_many m = {
		.n = ban_nft_of(be), .v = v, .now = now, .update = update, .refused = refused,
		.ctx = ctx,
	};

	if (ban_nft_add_range(&m, 0, n) < 0) {
		log_error("nftables: out of memory adding %zu bans", n);
		return -1;
	}
	return 0;
}

/* --- the backend --- */

/* 1 when a set was made anew under us (nft flush ruleset, then a load
 * that declares it): it is empty. 0 when both are as they were. */
static int ban_nft_renewed(struct ban_backend *be)
{
	struct ban_nft *n = ban_nft_of(be);
	const char *name[2] = { n->set[0].name, n->set[1].name };
	struct ban_nft_info info;
	bool renewed = false, gone = false;
	uint64_t handle[2], table;
	int rc = ban_nft_get_table(n, n->table, &table);

	if (rc < 0)
		return 0;	/* cannot tell; the next tick asks again */
	if (rc == 0 && table != n->table_handle)
		renewed = true;
	for (int f = 0; f < 2; f++) {
		rc = ban_nft_get_set(n, n->table, name[f], &info);
		if (rc == 1)
			gone = true;
		else if (rc == 0 && info.handle != n->set[f].handle)
			renewed = true;
	}
	if (gone) {
		log_warn("nftables: table inet %s or its sets disappeared (nft flush ruleset?); "
			 "creating them again", n->table);
		if (ban_nft_ensure_names(n, n->table, name, handle) < 0)
			return 0;	/* said; tried again at the next tick */
		renewed = true;
	}
	if (!renewed)
		return 0;
	ban_nft_get_table(n, n->table, &n->table_handle);
	for (int f = 0; f < 2; f++)
		if (ban_nft_get_set(n, n->table, name[f], &info) == 0)
			n->set[f].handle = info.handle;
	return 1;
}

static struct ban_backend *ban_nft_open(void)
{
	struct ban_nft *n = calloc(1, sizeof(*n));

	if (!n) {
		log_error("nftables: out of memory");
		return NULL;
	}
	n->base.ops = &ban_nftables_ops;
	if (ban_nft_socket(n) < 0) {
		log_error("nftables: cannot open a netlink socket to the kernel's nf_tables: %s "
			  "(needs CAP_NET_ADMIN)", strerror(errno));
		if (n->nl)
			mnl_socket_close(n->nl);
		free(n);
		return NULL;
	}
	return &n->base;
}

static void ban_nft_close(struct ban_backend *be)
{
	struct ban_nft *n = ban_nft_of(be);

	mnl_socket_close(n->nl);
	free(n->table);
	free(n->set[0].name);
	free(n->set[1].name);
	free(n->buf);
	free(n);
}

const struct ban_ops ban_nftables_ops = {
	.name = "nftables",
	.timeout_max = BAN_NFT_TIMEOUT_MAX,
	.open = ban_nft_open,
	.close = ban_nft_close,
	.ensure = ban_nft_ensure,
	.use = ban_nft_use,
	.set_name = ban_nft_set_name,
	.add = ban_nft_add,
	.del = ban_nft_del,
	.present = ban_nft_present,
	.add_many = ban_nft_add_many,
	.renewed = ban_nft_renewed,
};
