/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mdwe_exec PROGRAM [ARG...]: runs PROGRAM under the seccomp filter that
 * systemd 252 (Debian 12) installs for MemoryDenyWriteExecute=yes: no
 * mapping both writable and executable, no mprotect() to executable, each
 * refused with EPERM. spamwrath.service sets it, so PCRE2 cannot JIT there;
 * the tests run the engine under this filter to prove the interpreter
 * fallback. Exits 99 when the filter cannot be installed or does not work.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MDWE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define MDWE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define MDWE_ARCH AUDIT_ARCH_I386
#endif

#ifndef __NR_pkey_mprotect
#define __NR_pkey_mprotect __NR_mprotect
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
/* The low 32 bits of argument 2 (prot), on a little-endian machine. */
#define LOAD_PROT BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]))

static int mdwe_install(void)
{
#ifdef MDWE_ARCH
	struct sock_filter prog[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MDWE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
#ifdef __NR_mmap2
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap2, 2, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 2, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, 3, 6),
		/* mmap: refuse PROT_WRITE and PROT_EXEC together */
		LOAD_PROT,
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 2, 3),
		/* mprotect, pkey_mprotect: refuse PROT_EXEC */
		LOAD_PROT,
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
		fprintf(stderr, "mdwe_exec: cannot install the seccomp filter: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
#else
	fprintf(stderr, "mdwe_exec: no seccomp filter for this architecture\n");
	return -1;
#endif
}

/* The filter must refuse what PCRE2's JIT allocator does. */
static int mdwe_works(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED) {
		munmap(p, 4096);
		fprintf(stderr, "mdwe_exec: a writable and executable mapping was allowed\n");
		return -1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mdwe_exec: a plain mapping was refused: %s\n", strerror(errno));
		return -1;
	}
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0) {
		munmap(p, 4096);
		fprintf(stderr, "mdwe_exec: mprotect to executable was allowed\n");
		return -1;
	}
	munmap(p, 4096);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mdwe_exec PROGRAM [ARG...]\n");
		return 2;
	}
	if (mdwe_install() < 0 || mdwe_works() < 0)
		return 99;
	execvp(argv[1], argv + 1);
	fprintf(stderr, "mdwe_exec: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
