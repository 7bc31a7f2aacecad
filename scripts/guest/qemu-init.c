// SPDX-License-Identifier: GPL-2.0
/*
 * Static init for run-qemu.sh: runs in the initramfs of the debug kernel.
 *
 *  1. mounts proc, sysfs and debugfs;
 *  2. makes failslab and fail_page_alloc fire on task-local fail-nth also
 *     for sleeping allocations and for order-0 pages;
 *  3. runs the tree's KUnit suite (SUITE) again through debugfs, so that
 *     its allocation sweep runs with injection on, and prints the results
 *     file;
 *  4. fork sweep: fails the 1st, 2nd, ... fault-injection point of fork()
 *     through /proc/thread-self/fail-nth until fork() succeeds, on a parent
 *     with the VMA kinds of the suite, checking the parent's memory and
 *     maps after every failed fork and the child's copy after every fork
 *     that succeeded;
 *  5. asks kmemleak for a scan and prints what it found;
 *  6. reboots (the host runs QEMU with -no-reboot, so QEMU exits).
 *
 * Every line meant for the host starts with "forkfix: ".  A failed check
 * prints "forkfix: FAIL ..." and the summary line counts it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail-nth.h"

#define PAGE		4096UL
#define SZ_2M		(2UL << 20)
/* Fixed addresses: below 47 bits; BASE and FAR in different top-level tables. */
#define BASE		0x200000000000UL
#define FAR		0x010000000000UL
#define SLOT		0x10000000UL
#define NR_MANY		48
#define MAX_POINTS	20000
#define DBG		"/sys/kernel/debug"
#ifndef KUNIT_SUITE
#error "build with -DKUNIT_SUITE=\"<suite>\" (scripts/guest/Makefile: SUITE=)"
#endif

enum kind {
	ANON, NEIGHBOUR, SHM_SHARED, SHM_PRIVATE, WIPEONFORK, DONTFORK,
	ACCOUNT, THP, FAR_ANON, MANY,
};

struct region {
	enum kind kind;
	unsigned char *addr;
	size_t len;
	size_t written;		/* bytes from addr filled with the pattern */
};

static struct region regions[16 + NR_MANY];
static int nr_regions;
static int failures;
static char maps_before[65536];
static size_t maps_before_len;
static char maps_now[65536];
/* Where the sweep is, for the report of a fatal signal. */
static volatile int sweep_point;
static volatile const char *sweep_phase = "setup";

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("forkfix: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	fputs("forkfix: FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, val, strlen(val));
		close(fd);
	}
	if (n < 0) {
		fail("cannot write '%s' to %s: %s", val, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Copy a file to stdout; returns the bytes copied or -1. */
static long cat(const char *path)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fail("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, n, stdout);
		total += n;
	}
	close(fd);
	fflush(stdout);
	return total;
}

static size_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static unsigned char pattern(const unsigned char *addr)
{
	uintptr_t a = (uintptr_t)addr;

	return (unsigned char)((a >> 12) * 31 + (a & 0xfff) * 7 + 1);
}

static void fill(struct region *r)
{
	size_t i;

	for (i = 0; i < r->written; i++)
		r->addr[i] = pattern(r->addr + i);
}

/* Offset of the first byte of @r that differs from what it should hold. */
static long check(const struct region *r, int zero)
{
	size_t i;

	for (i = 0; i < r->written; i++)
		if (r->addr[i] != (zero ? 0 : pattern(r->addr + i)))
			return (long)i;
	return -1;
}

static unsigned char *map_at(unsigned long addr, size_t len, int prot, int flags, int fd)
{
	void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);

	if (p == MAP_FAILED) {
		fail("mmap at %#lx: %s", addr, strerror(errno));
		return NULL;
	}
	return p;
}

static void add(enum kind kind, unsigned long addr, size_t len, size_t written,
		int flags, int fd, int advice)
{
	struct region *r = &regions[nr_regions];

	r->addr = map_at(addr, len, PROT_READ | PROT_WRITE, flags, fd);
	if (!r->addr)
		return;
	if (advice >= 0 && madvise(r->addr, len, advice))
		fail("madvise(%d) at %#lx: %s", advice, addr, strerror(errno));
	r->kind = kind;
	r->len = len;
	r->written = written;
	fill(r);
	nr_regions++;
}

/* The parent: the VMA kinds of the KUnit suite, and enough for a deep tree. */
static int build_parent(void)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	int i, before = failures, memfd = memfd_create("forkfix", 0);

	if (memfd < 0 || ftruncate(memfd, 1 << 20)) {
		fail("memfd: %s", strerror(errno));
		return -1;
	}
	add(ANON, BASE, 16 * PAGE, 16 * PAGE, anon, -1, -1);
	/* Same page table as ANON; the hole keeps the two apart. */
	add(NEIGHBOUR, BASE + 24 * PAGE, 4 * PAGE, 4 * PAGE, anon, -1, -1);
	add(SHM_SHARED, BASE + 1 * SLOT, 4 * PAGE, 4 * PAGE, MAP_SHARED, memfd, -1);
	add(SHM_PRIVATE, BASE + 2 * SLOT, 4 * PAGE, 4 * PAGE, MAP_PRIVATE, memfd, -1);
	add(WIPEONFORK, BASE + 3 * SLOT, 4 * PAGE, 4 * PAGE, anon, -1, MADV_WIPEONFORK);
	add(DONTFORK, BASE + 4 * SLOT, 4 * PAGE, 4 * PAGE, anon, -1, MADV_DONTFORK);
	add(ACCOUNT, BASE + 5 * SLOT, 64UL << 20, PAGE, anon, -1, -1);
	add(THP, BASE + 6 * SLOT, SZ_2M, SZ_2M, anon, -1, MADV_HUGEPAGE);
	add(FAR_ANON, FAR, 4 * PAGE, 4 * PAGE, anon, -1, -1);
	/* Read-only and writable pages in turn, so that they never merge. */
	for (i = 0; i < NR_MANY; i++) {
		unsigned long addr = BASE + 7 * SLOT + i * PAGE;

		add(MANY, addr, PAGE, PAGE, anon, -1, -1);
		if (i % 2 && mprotect((void *)addr, PAGE, PROT_READ))
			fail("mprotect at %#lx: %s", addr, strerror(errno));
	}
	close(memfd);
	return failures != before ? -1 : 0;
}

/* In the child of a fork that succeeded: is the copy right? */
static int child_check(void)
{
	int i, bad = 0;

	for (i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (r->kind == DONTFORK)
			continue;	/* not copied: touching it would fault */
		if (check(r, r->kind == WIPEONFORK) >= 0)
			bad++;
	}
	return bad ? 1 : 0;
}

/* In the parent after a failed fork: memory and maps as before. */
static void parent_check(int n)
{
	size_t len;
	long off;
	int i;

	for (i = 0; i < nr_regions; i++) {
		off = check(&regions[i], 0);
		if (off >= 0)
			fail("fork-sweep: point %d: parent region %d (kind %d) differs at +%ld",
			     n, i, regions[i].kind, off);
	}
	len = read_file("/proc/self/maps", maps_now, sizeof(maps_now));
	if (len != maps_before_len || memcmp(maps_now, maps_before, len))
		fail("fork-sweep: point %d: the parent's /proc/self/maps changed", n);
}

/*
 * init must not die: the kernel would panic and the host would only see
 * "Attempted to kill init".  Report where the sweep was, the maps, and end
 * the run; the host sees the FAIL line and no "done" line.
 */
static void fatal_signal(int sig, siginfo_t *info, void *ctx)
{
	char msg[160];
	int len;

	(void)ctx;
	len = snprintf(msg, sizeof(msg),
		       "forkfix: FAIL init got signal %d (code %d) at %p, fork-sweep point %d, %s\n",
		       sig, info->si_code, info->si_addr, sweep_point, sweep_phase);
	if (write(1, msg, len) < 0)
		_exit(1);
	len = (int)read_file("/proc/self/maps", maps_now, sizeof(maps_now));
	if (write(1, maps_now, len) < 0)
		_exit(1);
	sync();
	reboot(RB_AUTOBOOT);
	_exit(1);
}

static void catch_fatal_signals(void)
{
	static char stack[65536];
	struct sigaction sa = { .sa_sigaction = fatal_signal,
				.sa_flags = SA_SIGINFO | SA_ONSTACK };
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	unsigned int i;

	if (sigaltstack(&ss, NULL))
		fail("sigaltstack: %s", strerror(errno));
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/*
 * fork() with its n-th fault-injection point failing, for n = 1, 2, ...
 * The fail-nth file stays open: opening it allocates.  After fork(), a
 * count left over means the n-th point was never reached: the sweep is
 * complete.
 */
/*
 * While fail-nth is armed, the parent's own page faults count too (after a
 * fork that did not reach the n-th point).  Growing the stack then could
 * fail and kill init with SIGSEGV; grow it once, beforehand.
 */
static void grow_stack(void)
{
	volatile char pad[512 * 1024];
	size_t i;

	/* Top down, one page at a time, as a deep call would. */
	for (i = sizeof(pad); i >= PAGE; i -= PAGE)
		pad[i - 1] = 1;
}

static void fork_sweep(void)
{
	int fd, n, status, failed = 0, absorbed = 0, complete = 0;
	char buf[32];
	ssize_t len;
	long left;
	pid_t pid;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		fail("fork-sweep: /proc/thread-self/fail-nth: %s", strerror(errno));
		return;
	}
	grow_stack();
	maps_before_len = read_file("/proc/self/maps", maps_before, sizeof(maps_before));

	for (n = 1; n <= MAX_POINTS; n++) {
		sweep_point = n;
		sweep_phase = "arming fail-nth";
		len = snprintf(buf, sizeof(buf), "%d", n);
		if (write(fd, buf, len) != len) {
			fail("fork-sweep: write fail-nth: %s", strerror(errno));
			break;
		}
		sweep_phase = "fork";
		pid = fork();
		if (pid == 0)
			_exit(child_check());
		sweep_phase = "after fork, reading fail-nth";
		len = pread(fd, buf, sizeof(buf) - 1, 0);
		if (write(fd, "0", 1) != 1)
			fail("fork-sweep: clear fail-nth: %s", strerror(errno));
		buf[len > 0 ? len : 0] = '\0';
		left = strtol(buf, NULL, 10);

		sweep_phase = pid < 0 ? "checking the parent after a failed fork" :
					"waiting for the child";
		if (pid < 0) {
			failed++;
			if (errno != ENOMEM && errno != EAGAIN && errno != EINTR)
				fail("fork-sweep: point %d: fork() failed with %s", n,
				     strerror(errno));
			parent_check(n);
		} else {
			if (waitpid(pid, &status, 0) != pid ||
			    !WIFEXITED(status) || WEXITSTATUS(status))
				fail("fork-sweep: point %d: the child saw a wrong copy (status %#x)",
				     n, status);
			if (left) {
				complete = 1;
				break;
			}
			absorbed++;
		}
		if (n % 100 == 0)
			say("fork-sweep: %d points, %d failed fork(), %d absorbed", n,
			    failed, absorbed);
	}
	close(fd);
	if (!complete)
		fail("fork-sweep: fork() still fails after %d points", MAX_POINTS);
	if (!failed)
		fail("fork-sweep: no injected failure made fork() fail");
	say("sweep points=%d failed=%d absorbed=%d complete=%d vmas=%d",
	    complete ? n - 1 : n, failed, absorbed, complete, nr_regions);
}

static void kunit_rerun(void)
{
	put(DBG "/kunit/" KUNIT_SUITE "/run", "1");
	say("ktap-begin");
	cat(DBG "/kunit/" KUNIT_SUITE "/results");
	say("ktap-end");
}

static void kmemleak(void)
{
	static char buf[1 << 20];
	size_t len;
	int objects = 0;
	char *p;

	/* Objects younger than 5 s are not reported: scan, wait, scan. */
	put(DBG "/kmemleak", "scan");
	sleep(6);
	put(DBG "/kmemleak", "scan");
	len = read_file(DBG "/kmemleak", buf, sizeof(buf));
	for (p = buf; (p = strstr(p, "unreferenced object")); p++)
		objects++;
	say("kmemleak-begin");
	fwrite(buf, 1, len, stdout);
	say("kmemleak-end");
	say("kmemleak objects=%d", objects);
}

int main(void)
{
	double t0, t1, t2, t3;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_fatal_signals();
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("debugfs", DBG, "debugfs", 0, NULL))
		fail("mount: %s", strerror(errno));
	say("init started (GLIBC_TUNABLES=%s)", getenv("GLIBC_TUNABLES") ?: "unset");

	for (i = 0; i < sizeof(fail_nth_settings) / sizeof(fail_nth_settings[0]); i++)
		put(fail_nth_settings[i][0], fail_nth_settings[i][1]);

	t0 = now();
	kunit_rerun();
	t1 = now();
	if (!build_parent())
		fork_sweep();
	t2 = now();
	kmemleak();
	t3 = now();
	say("time kunit=%.1f sweep=%.1f kmemleak=%.1f", t1 - t0, t2 - t1, t3 - t2);
	say("done failures=%d", failures);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
