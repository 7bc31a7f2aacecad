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
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#ifdef __x86_64__
#include <asm/ldt.h>
#endif

#include "fail-nth.h"
#include "kmsg-out.h"
#include "swap-setup.h"

#define PAGE		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
/* Fixed addresses: below 47 bits; BASE and FAR in different top-level tables. */
#define BASE		0x200000000000UL
#define FAR		0x010000000000UL
#define SLOT		0x10000000UL
#define NR_MANY		48
#define MAX_POINTS	20000
/* A shared hugetlb mapping over a whole PUD: PMD sharing. */
#define HUGE_SHARED_AT	(BASE + 64 * SLOT)
#define KSM_PAGES	32
/* Our regions, for the smaps and numa_maps checks: [FAR, OURS_END). */
#define OURS_END	(HUGE_SHARED_AT + SZ_1G)
#define DBG		"/sys/kernel/debug"
#define TRACING		"/sys/kernel/tracing"
#define KSM		"/sys/kernel/mm/ksm/"
#define MEMCG		"/sys/fs/cgroup/forkfix"
/* Init's memcg between the sweeps, and the one of each sweep: both in MEMCG. */
#define MEMCG_IDLE	MEMCG "/idle"
#define MEMCG_SWEEP	MEMCG "/sweep"
/* memory.max of MEMCG, over init and its sweeps. */
#define MEMCG_MAX	(256UL << 20)
/*
 * What a sweep's memcg may still hold, once it is gone and RCU has freed
 * what it held back, per fork that failed: half a page.  What per-CPU
 * caches keep of the sweep's tasks does not grow with the failed forks; a
 * page left by each does, and is past this.  A kind's sweep, with fewer
 * failed forks than the whole parent's, goes over its points KIND_PASSES
 * times, so that what stays in those caches is well under its bound.
 */
#define SWEEP_LEFT_PER_FAILED	(PAGE / 2)
#define KIND_PASSES	2
/* How long RCU gets to free what the sweep's last tasks held: 200 ms each. */
#define SWEEP_LEFT_TRIES	75
/*
 * How far memory.current may move across a failed fork that freed all it
 * charged: the per-CPU charge stocks (64 pages on each of the 2 CPUs), the
 * object stocks, and what the children of the last forks that succeeded
 * still hold until an RCU grace period ends.  The exact check of a leak
 * is the removed memcg's charge (SWEEP_LEFT_PER_FAILED); this one bounds what
 * the stocks blur.
 */
#define MEMCG_SLACK	(2UL << 20)
#ifndef KUNIT_SUITE
#error "build with -DKUNIT_SUITE=\"<suite>\" (scripts/guest/Makefile: SUITE=)"
#endif

enum kind {
	ANON, NEIGHBOUR, SHM_SHARED, SHM_PRIVATE, WIPEONFORK, DONTFORK,
	ACCOUNT, THP, FAR_ANON, MANY,
	/* The mm of a distribution kernel: each also has a sweep of its own. */
	SWAPPED, UFFD_MISSING, UFFD_WP, HUGE_PRIVATE, HUGE_SHARED, KSM_MERGED,
	MLOCKED, MBIND, UPROBE,
	NR_KINDS
};
#define FIRST_DISTRO_KIND SWAPPED

static const char *const kind_names[NR_KINDS] = {
	"anon", "neighbour", "shm-shared", "shm-private", "wipeonfork",
	"dontfork", "account", "thp", "far-anon", "many",
	"swapped", "uffd-missing", "uffd-wp", "hugetlb-private",
	"hugetlb-shared", "ksm", "mlocked", "mbind", "uprobe",
};

struct region {
	enum kind kind;
	unsigned char *addr;
	size_t len;
	size_t written;		/* bytes from addr filled with the pattern */
	unsigned char constant;	/* if not 0, every byte (KSM merges them) */
	size_t step;		/* if not 0, only the first page every step bytes */
};

/*
 * What a failed fork must leave as it was, besides the parent's bytes and
 * maps: read before every fork and compared after each one that failed.
 */
struct snapshot {
	char smaps[131072];	/* our regions only, without Referenced: */
	size_t smaps_len;
	char numa[16384];	/* numa_maps of our regions */
	size_t numa_len;
	long meminfo[4];	/* kB or pages, see meminfo_keys */
	long ksm[5];		/* see ksm_files */
	long memcg;		/* memory.current, bytes */
	unsigned long uffd_forks;
	uint64_t pagemap[8192];	/* the sweep of the whole parent, see below */
	size_t pagemap_len;
};

static const char *const meminfo_keys[] = {
	"HugePages_Free:", "HugePages_Rsvd:", "Committed_AS:", "SwapFree:",
};
static const char *const ksm_files[] = {
	"pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
	"ksm_zero_pages",
};

static struct region regions[32 + NR_MANY];
static int nr_regions;
static int failures;
static char maps_before[65536];
static size_t maps_before_len;
static char maps_now[65536];
/* Where the sweep is, for the report of a fatal signal. */
static volatile int sweep_point;
static const char *volatile sweep_phase = "setup";

/* One line of output, "forkfix: <prefix><text>", in one write(). */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];
	int len;

	len = snprintf(line, sizeof(line), "forkfix: %s", prefix);
	len += vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	fflush(stdout);
	emit_lines(1, line, len);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	va_start(ap, fmt);
	vline("FAIL ", fmt, ap);
	va_end(ap);
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
	size_t held = 0, end;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fail("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* Whole lines: one record each (see kmsg-out.h). */
	while ((n = read(fd, buf + held, sizeof(buf) - held)) > 0) {
		total += n;
		held += n;
		for (end = held; end > 0 && buf[end - 1] != '\n'; end--)
			;
		if (!end)
			end = held;	/* a line longer than the buffer */
		emit_lines(1, buf, end);
		memmove(buf, buf + end, held - end);
		held -= end;
	}
	emit_lines(1, buf, held);
	close(fd);
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

/*
 * The pattern of a page depends on its address only through the page
 * number modulo 256: whole pages are filled and checked with memcpy() and
 * memcmp() against one of 256 prepared pages (a byte loop over the 8 MiB
 * of the parent is most of a sweep point's time under TCG).
 */
static unsigned char pattern_pages[256][PAGE];
static unsigned char zero_page[PAGE];
static unsigned char constant_page[PAGE];

static const unsigned char *expected_page(const struct region *r, const unsigned char *addr,
					  int zero)
{
	size_t i;

	if (zero)
		return zero_page;
	if (r->constant) {
		if (constant_page[0] != r->constant)
			memset(constant_page, r->constant, PAGE);
		return constant_page;
	}
	if (!pattern_pages[0][0])
		for (i = 0; i < sizeof(pattern_pages); i++)
			pattern_pages[i / PAGE][i % PAGE] =
				pattern((const unsigned char *)(uintptr_t)i);
	return pattern_pages[((uintptr_t)addr / PAGE) % 256];
}

/* The next page of @r to fill or check after the one at @off. */
static size_t next_page(const struct region *r, size_t off)
{
	return r->step ? off + r->step : off + PAGE;
}

static void fill(struct region *r)
{
	size_t off, len;

	for (off = 0; off < r->written; off = next_page(r, off)) {
		len = r->written - off < PAGE ? r->written - off : PAGE;
		memcpy(r->addr + off, expected_page(r, r->addr + off, 0), len);
	}
}

/* Offset of the first byte of @r that differs from what it should hold. */
static long check(const struct region *r, int zero)
{
	const unsigned char *want;
	size_t off, len, i;

	for (off = 0; off < r->written; off = next_page(r, off)) {
		len = r->written - off < PAGE ? r->written - off : PAGE;
		want = expected_page(r, r->addr + off, zero);
		if (!memcmp(r->addr + off, want, len))
			continue;
		for (i = 0; i < len; i++)
			if (r->addr[off + i] != want[i])
				return (long)(off + i);
	}
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

/* Map a region; filled with the pattern unless @written is 0. */
static struct region *add(enum kind kind, unsigned long addr, size_t len, size_t written,
			  int flags, int fd, int advice)
{
	struct region *r = &regions[nr_regions];

	r->addr = map_at(addr, len, PROT_READ | PROT_WRITE, flags, fd);
	if (!r->addr)
		return NULL;
	if (advice >= 0 && madvise(r->addr, len, advice))
		fail("madvise(%d) at %#lx: %s", advice, addr, strerror(errno));
	r->kind = kind;
	r->len = len;
	r->written = written;
	r->constant = 0;
	/* A page of each huge page: reading 2 MiB each time costs the most. */
	r->step = flags & MAP_HUGETLB ? SZ_2M : 0;
	fill(r);
	nr_regions++;
	return r;
}

static long read_long(const char *path)
{
	char buf[64];

	if (!read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* --- userfaultfd: one descriptor per process, read by a monitor thread --- */

static int uffd = -1;
/* uffd_sync(): init asks through sync_req, the monitor answers on sync_ack. */
static int sync_req = -1, sync_ack = -1;
static unsigned long uffd_forks, uffd_missing, uffd_wp_faults, uffd_errors;

static unsigned long counter(unsigned long *c)
{
	return __atomic_load_n(c, __ATOMIC_SEQ_CST);
}

static void bump(unsigned long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST);
}

/* One message of the userfaultfd; the counters move before the wake-up. */
static void uffd_handle(const struct uffd_msg *msg)
{
	static unsigned char src[PAGE] __attribute__((aligned(4096)));
	unsigned long a = msg->arg.pagefault.address & ~(PAGE - 1);
	size_t i;

	if (msg->event == UFFD_EVENT_FORK) {
		/* Unregisters the child's ranges, if its mm still exists. */
		close((int)msg->arg.fork.ufd);
		bump(&uffd_forks);
	} else if (msg->event != UFFD_EVENT_PAGEFAULT) {
		bump(&uffd_errors);
	} else if (msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
		struct uffdio_writeprotect wp = {
			.range = { .start = a, .len = PAGE },
			.mode = 0,
		};

		bump(&uffd_wp_faults);
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			bump(&uffd_errors);
	} else {
		struct uffdio_copy copy = {
			.dst = a, .src = (unsigned long)src, .len = PAGE,
		};

		for (i = 0; i < PAGE; i++)
			src[i] = pattern((unsigned char *)a + i);
		bump(&uffd_missing);
		if (ioctl(uffd, UFFDIO_COPY, &copy))
			bump(&uffd_errors);
	}
}

/*
 * Resolves the faults of the process's registered ranges (missing: a page
 * of the pattern; write-protect: write access given back) and takes the
 * fork events: a fork waits in the kernel until this thread has read its
 * event.  Messages first, then a sync request: by the time it answers one,
 * every message read before it has been handled.
 */
static void *uffd_monitor(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = uffd, .events = POLLIN },
		{ .fd = sync_req, .events = POLLIN },
	};
	struct uffd_msg msg;
	uint64_t one = 1, v;

	(void)arg;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (read(uffd, &msg, sizeof(msg)) == sizeof(msg)) {
			uffd_handle(&msg);
			continue;
		}
		if ((pfd[1].revents & POLLIN) && read(sync_req, &v, sizeof(v)) == sizeof(v) &&
		    write(sync_ack, &one, sizeof(one)) != sizeof(one))
			break;
	}
	bump(&uffd_errors);
	/* A fork waiting for its event would wait forever: release it. */
	close(uffd);
	return NULL;
}

/* Wait until the monitor has handled every message read so far. */
static void uffd_sync(void)
{
	uint64_t one = 1, v;

	if (uffd < 0)
		return;
	if (write(sync_req, &one, sizeof(one)) != sizeof(one) ||
	    read(sync_ack, &v, sizeof(v)) != sizeof(v))
		fail("userfaultfd monitor: no answer: %s", strerror(errno));
}

static int uffd_setup(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	};
	pthread_attr_t attr;
	pthread_t thread;

	if (uffd >= 0)
		return 0;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		fail("userfaultfd with fork events and write-protect: %s", strerror(errno));
		return -1;
	}
	sync_req = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sync_ack = eventfd(0, EFD_CLOEXEC);
	if (sync_req < 0 || sync_ack < 0) {
		fail("eventfd: %s", strerror(errno));
		return -1;
	}
	/* A small stack: an 8 MiB one could take a transparent huge page. */
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 256 * 1024) ||
	    pthread_create(&thread, &attr, uffd_monitor, NULL)) {
		fail("userfaultfd monitor thread");
		return -1;
	}
	return 0;
}

static int uffd_register(struct region *r, unsigned long mode)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)r->addr, .len = r->len },
		.mode = mode,
	};

	if (uffd_setup() || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		fail("UFFDIO_REGISTER mode %#lx at %p: %s", mode, r->addr, strerror(errno));
		return -1;
	}
	return 0;
}

static int uffd_protect(void *addr, size_t len, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		fail("UFFDIO_WRITEPROTECT %d at %p: %s", on, addr, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The parent's userfaultfd still works: a missing page of the missing-mode
 * range (the last one, never filled) and a write to a write-protected page
 * each reach the monitor, which resolves them.  Both are put back as they
 * were afterwards.
 */
static void uffd_probe(const char *what)
{
	volatile unsigned char *p;
	unsigned long before;
	int i;

	for (i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (r->kind == UFFD_MISSING) {
			p = r->addr + r->len - PAGE;
			before = counter(&uffd_missing);
			if (*p != pattern((const unsigned char *)p) ||
			    counter(&uffd_missing) != before + 1)
				fail("%s: a missing page of the parent was not resolved by its userfaultfd",
				     what);
			if (madvise((void *)p, PAGE, MADV_DONTNEED))
				fail("%s: MADV_DONTNEED: %s", what, strerror(errno));
		} else if (r->kind == UFFD_WP) {
			p = r->addr;
			before = counter(&uffd_wp_faults);
			*p = pattern((const unsigned char *)p);
			if (counter(&uffd_wp_faults) != before + 1)
				fail("%s: a write to a write-protected page of the parent did not reach its userfaultfd",
				     what);
			uffd_protect(r->addr, PAGE, 1);
		}
	}
	if (counter(&uffd_errors))
		fail("%s: %lu userfaultfd errors", what, counter(&uffd_errors));
}

/* --- uprobe on a function of this program, through tracefs --- */

static int uprobe_on;

__attribute__((noinline)) int uprobe_target(int x)
{
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x + 1;
}

static long uprobe_hits(void)
{
	static char buf[4096];
	char *p, *end;

	read_file(TRACING "/uprobe_profile", buf, sizeof(buf));
	p = strstr(buf, " target ");
	if (!p)
		return -1;
	end = strchr(p, '\n');
	if (end)
		*end = '\0';
	p = strrchr(p, ' ');
	return p ? strtol(p, NULL, 10) : -1;
}

/* The probe in this program's text still fires (it hit once already). */
static void uprobe_probe(const char *what)
{
	long before;

	if (!uprobe_on)
		return;
	before = uprobe_hits();
	if (uprobe_target((int)before) != before + 1 || uprobe_hits() != before + 1)
		fail("%s: the uprobe on the parent's text did not fire (hits %ld, then %ld)",
		     what, before, uprobe_hits());
}

/*
 * A uprobe on uprobe_target() of /init: the text page of every process
 * running it gets a breakpoint (an anonymous copy of the page in the file's
 * text mapping), which fork copies.
 */
static void uprobe_setup(void)
{
	unsigned long addr = (unsigned long)uprobe_target, start, end, off;
	char line[256];
	long hits;
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!maps) {
		fail("uprobe: /proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &off) == 3 &&
		    addr >= start && addr < end) {
			found = 1;
			break;
		}
	fclose(maps);
	if (!found) {
		fail("uprobe: uprobe_target() not in /proc/self/maps");
		return;
	}
	mkdir(TRACING, 0755);
	if (mount("tracefs", TRACING, "tracefs", 0, NULL)) {
		fail("mount tracefs: %s", strerror(errno));
		return;
	}
	snprintf(line, sizeof(line), "p:forkfix/target /init:%#lx", addr - start + off);
	if (put(TRACING "/uprobe_events", line) ||
	    put(TRACING "/events/forkfix/target/enable", "1"))
		return;
	uprobe_on = 1;
	uprobe_target(0);
	hits = uprobe_hits();
	say("uprobe %s at /init:%#lx", hits == 1 ? "fires" : "did not fire", addr - start + off);
	if (hits != 1) {
		fail("uprobe: no hit after the first call (%ld)", hits);
		uprobe_on = 0;
	}
}

/* --- A copy that fails after the last VMA (x86_64) --- */

#define ARCH_DUP_TRACE	TRACING "/instances/forkfix"
static int arch_dup_on;

/*
 * x86_64: give the whole parent an LDT.  fork() copies it in
 * arch_dup_mmap(), after the loop over the VMAs, so an injected failure
 * there tears down a child with every VMA copied and no stop VMA.  A
 * return probe on ldt_dup_context(), filtered on a non-zero return and
 * traced in an instance of its own, counts those failures.
 */
static void arch_dup_setup(void)
{
#ifdef __x86_64__
	struct user_desc desc = {
		.entry_number = 0,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.limit_in_pages = 1,
		.useable = 1,
	};

	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc))) {
		fail("modify_ldt: %s", strerror(errno));
		return;
	}
	if (mkdir(ARCH_DUP_TRACE, 0755) && errno != EEXIST) {
		fail("mkdir " ARCH_DUP_TRACE ": %s", strerror(errno));
		return;
	}
	if (put(TRACING "/kprobe_events", "r:forkfix/ldt_dup ldt_dup_context ret=$retval") ||
	    put(ARCH_DUP_TRACE "/events/forkfix/ldt_dup/filter", "ret != 0") ||
	    put(ARCH_DUP_TRACE "/events/forkfix/ldt_dup/enable", "1"))
		return;
	arch_dup_on = 1;
#endif
}

/* The failed copies of the LDT traced so far; -1 without the probe. */
static long arch_dup_failed(void)
{
	static char buf[1 << 16];
	const char *p = buf;
	long n = 0;

	if (!arch_dup_on)
		return -1;
	if (!read_file(ARCH_DUP_TRACE "/trace", buf, sizeof(buf)))
		return -1;
	while ((p = strstr(p, " ldt_dup: ")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* --- KSM, memcg, NUMA --- */

/* @field (e.g. "Swap:") of the VMA at @addr in the smaps text @smaps, in kB. */
static long smaps_kb(const char *smaps, const void *addr, const char *field)
{
	char key[32];
	const char *p, *f, *next;

	snprintf(key, sizeof(key), "%lx-", (unsigned long)addr);
	for (p = smaps; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, strlen(key)))
			break;
	if (!p)
		return -1;
	/* The next VMA's header ends the block. */
	next = strstr(p, "VmFlags:");
	f = strstr(p, field);
	if (!f || (next && f > next))
		return -1;
	return strtol(f + strlen(field), NULL, 10);
}

static long self_smaps_kb(const void *addr, const char *field)
{
	static char buf[262144];

	if (read_file("/proc/self/smaps", buf, sizeof(buf)) >= sizeof(buf) - 1)
		fail("/proc/self/smaps is larger than %zu bytes", sizeof(buf));
	return smaps_kb(buf, addr, field);
}

/*
 * Let ksmd merge the region (its own smaps KSM: line, not the global
 * counters, which still count the pages of an exited sweep child), then
 * stop ksmd with the pages merged.
 */
static void ksm_merge(const struct region *r)
{
	long ksm = -1;
	int i;

	if (put(KSM "sleep_millisecs", "10") || put(KSM "pages_to_scan", "1000") ||
	    put(KSM "run", "1"))
		return;
	for (i = 0; i < 600; i++) {
		ksm = self_smaps_kb(r->addr, "KSM:");
		if (ksm == (long)(r->len / 1024))
			break;
		usleep(50000);
	}
	put(KSM "run", "0");
	if (ksm != (long)(r->len / 1024))
		fail("ksm: %ld kB of the region merged after 30 s, want %zu", ksm, r->len / 1024);
	else
		say("ksm: %ld kB merged, pages_sharing %ld", ksm, read_long(KSM "pages_sharing"));
}

/* Move init into the memcg of @dir. */
static int memcg_enter(const char *dir)
{
	char path[96], buf[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(buf, sizeof(buf), "%d", getpid());
	return put(path, buf);
}

/*
 * The sweeps run in a memcg with a limit, MEMCG: init lives in its child
 * MEMCG_IDLE, and each sweep gets a new child MEMCG_SWEEP, which holds only
 * what the failing forks charge (see fork_sweep() and kind_sweeps()).
 * favordynmods keeps the many moves between the two cheap: a move then
 * waits for no RCU grace period.
 */
static void memcg_setup(void)
{
	char buf[32];

	mkdir("/sys/fs", 0755);
	mkdir("/sys/fs/cgroup", 0755);
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, "favordynmods") &&
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL)) {
		fail("mount cgroup2: %s", strerror(errno));
		return;
	}
	if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		return;
	if (mkdir(MEMCG, 0755) && errno != EEXIST) {
		fail("mkdir " MEMCG ": %s", strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%lu", MEMCG_MAX);
	put(MEMCG "/memory.max", buf);
	/* MEMCG holds no task itself: its children get the controller. */
	if (put(MEMCG "/cgroup.subtree_control", "+memory"))
		return;
	if (mkdir(MEMCG_IDLE, 0755) && errno != EEXIST) {
		fail("mkdir " MEMCG_IDLE ": %s", strerror(errno));
		return;
	}
	memcg_enter(MEMCG_IDLE);
}

/* A sweep starts: its memcg, new and empty. */
static int sweep_memcg_begin(void)
{
	if (mkdir(MEMCG_SWEEP, 0755)) {
		fail("mkdir " MEMCG_SWEEP ": %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * MEMCG's charge beyond MEMCG_IDLE's, what the sweep's memcg still holds,
 * into @left; -1 when either cannot be read.
 */
static int sweep_left(long *left)
{
	long all = read_long(MEMCG "/memory.current");
	long idle = read_long(MEMCG_IDLE "/memory.current");

	if (all < 0 || idle < 0)
		return -1;
	*left = all - idle;
	return 0;
}

/* The byte counters of memory.stat that say what a sweep's memcg holds. */
static const char *const memcg_stat_keys[] = {
	"anon", "file", "kernel", "kernel_stack", "pagetables", "percpu", "sock",
	"vmalloc", "shmem", "slab_reclaimable", "slab_unreclaimable",
};

static long stat_value(const char *stat, const char *key)
{
	size_t len = strlen(key);
	const char *p;

	for (p = stat; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, len) && p[len] == ' ')
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/*
 * Which counters of memory.stat make up MEMCG's charge beyond MEMCG_IDLE's,
 * as "key=bytes ..." in @out: what a sweep's memcg held when it was judged.
 */
static void sweep_left_by(char *out, size_t size)
{
	static char all[8192], idle[8192];
	size_t i, len = 0;

	out[0] = '\0';
	if (!read_file(MEMCG "/memory.stat", all, sizeof(all)) ||
	    !read_file(MEMCG_IDLE "/memory.stat", idle, sizeof(idle))) {
		snprintf(out, size, "memory.stat unreadable");
		return;
	}
	for (i = 0; i < sizeof(memcg_stat_keys) / sizeof(memcg_stat_keys[0]); i++) {
		long a = stat_value(all, memcg_stat_keys[i]);
		long b = stat_value(idle, memcg_stat_keys[i]);

		if (a < 0 || b < 0 || a == b || len >= size)
			continue;
		len += snprintf(out + len, size - len, "%s%s=%ld", len ? " " : "",
				memcg_stat_keys[i], a - b);
	}
	if (!len)
		snprintf(out, size, "none");
}

/*
 * Give back the charges MEMCG's per-CPU stocks hold: a memory.high under
 * its usage drains them (the drain of another CPU's comes from a work
 * item, a moment later).  What the removed sweep's memcg frees late is
 * uncharged into these stocks, not from the page counter.  One page under
 * the usage: after the drain there is nothing to reclaim, or one page.
 */
static void memcg_drain(void)
{
	char buf[32];
	long cur = read_long(MEMCG "/memory.current");

	if (cur <= (long)PAGE)
		return;
	snprintf(buf, sizeof(buf), "%ld", cur - PAGE);
	put(MEMCG "/memory.high", buf);
	put(MEMCG "/memory.high", "max");
}

/*
 * A sweep ends, with no task left in its memcg: the memcg is removed,
 * which gives back its per-CPU charge stocks.  Every task of the sweep has
 * been reaped, so what the removed memcg is still charged for is what the
 * sweep's forks left behind, and what RCU has yet to free (it gets up to
 * 5 s).  The page counters of MEMCG and MEMCG_IDLE both hold MEMCG_IDLE's
 * stock: their difference is exact.  Returns the bytes left.
 */
static long sweep_memcg_end(const char *what, int failed)
{
	long max = (long)failed * SWEEP_LEFT_PER_FAILED;
	char by[256];
	long left = 0;
	double t;
	int tries;

	/*
	 * A memory.high under its usage drains the memcg's per-CPU stocks
	 * and reclaims what it can: dentries and inodes of /proc the sweep
	 * looked up are a cache, not a leak.
	 */
	put(MEMCG_SWEEP "/memory.high", "0");
	for (tries = 0; rmdir(MEMCG_SWEEP) && tries < 50; tries++)
		usleep(100000);
	if (tries == 50) {
		fail("%s: rmdir " MEMCG_SWEEP ": %s", what, strerror(errno));
		return -1;
	}
	/*
	 * Both counters move on every charge of MEMCG_IDLE, one after the
	 * other: a read between the two is retried like one over the bound.
	 */
	t = now();
	for (tries = 0; tries < SWEEP_LEFT_TRIES; tries++) {
		memcg_drain();
		usleep(20000);
		if (sweep_left(&left)) {
			fail("%s: cannot read memory.current of " MEMCG " and " MEMCG_IDLE, what);
			return -1;
		}
		if (left >= 0 && left <= max)
			break;
		usleep(200000);
	}
	sweep_left_by(by, sizeof(by));
	if (left < 0 || left > max)
		fail("%s: the memcg of the sweep is still charged %ld bytes once removed (at most %ld for %d failed forks, after %.1f s): %s",
		     what, left, max, failed, now() - t, by);
	else
		say("%s: memcg left %ld bytes (at most %ld for %d failed forks) after %.1f s: %s",
		    what, left, max, failed, now() - t, by);
	return left;
}

static int mbind_node1(void *addr, size_t len)
{
	unsigned long mask = 1UL << 1;

	/* MPOL_BIND = 2; static glibc has no mbind(). */
	return (int)syscall(SYS_mbind, addr, len, 2, &mask, 8 * sizeof(mask), 0);
}

/* The line of /proc/self/numa_maps for @addr, or "" */
static const char *numa_line(const void *addr)
{
	static char buf[16384], line[512];
	char key[32], *p, *end;

	read_file("/proc/self/numa_maps", buf, sizeof(buf));
	snprintf(key, sizeof(key), "%lx ", (unsigned long)addr);
	line[0] = '\0';
	for (p = buf; p && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		if (!strncmp(p, key, strlen(key))) {
			snprintf(line, sizeof(line), "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
			break;
		}
	}
	return line;
}

/* --- The parent --- */

/* Map the regions of one kind of the distribution's mm. */
static void add_kind(enum kind kind)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	struct region *r;
	char want[32];

	switch (kind) {
	case SWAPPED:
		/* Paged out again before every fork (prepare_fork()). */
		add(SWAPPED, BASE + 8 * SLOT, 16 * PAGE, 16 * PAGE, anon, -1, -1);
		break;
	case UFFD_MISSING:
		/* Half filled; the last page stays missing for the probe. */
		r = add(UFFD_MISSING, BASE + 9 * SLOT, 16 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r)
			uffd_register(r, UFFDIO_REGISTER_MODE_MISSING);
		break;
	case UFFD_WP:
		r = add(UFFD_WP, BASE + 10 * SLOT, 8 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r && !uffd_register(r, UFFDIO_REGISTER_MODE_WP))
			uffd_protect(r->addr, r->len, 1);
		break;
	case HUGE_PRIVATE:
		add(HUGE_PRIVATE, BASE + 11 * SLOT, 2 * SZ_2M, 2 * SZ_2M,
		    anon | MAP_HUGETLB, -1, -1);
		break;
	case HUGE_SHARED:
		/* Reserves nothing; its first two huge pages are faulted in. */
		add(HUGE_SHARED, HUGE_SHARED_AT, SZ_1G, 2 * SZ_2M,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, -1);
		break;
	case KSM_MERGED:
		r = add(KSM_MERGED, BASE + 12 * SLOT, KSM_PAGES * PAGE, 0, anon, -1,
			MADV_MERGEABLE);
		if (!r)
			break;
		r->constant = 0x5a;
		r->written = r->len;
		fill(r);
		ksm_merge(r);
		break;
	case MLOCKED:
		r = add(MLOCKED, BASE + 13 * SLOT, 8 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r && mlock(r->addr, r->len))
			fail("mlock: %s", strerror(errno));
		break;
	case MBIND:
		r = add(MBIND, BASE + 14 * SLOT, 8 * PAGE, 0, anon, -1, -1);
		if (!r)
			break;
		if (access("/sys/devices/system/node/node1", F_OK) ||
		    mbind_node1(r->addr, r->len)) {
			fail("mbind to node 1: %s", strerror(errno));
			break;
		}
		r->written = r->len;
		fill(r);
		snprintf(want, sizeof(want), "N1=%lu ", r->len / PAGE);
		if (!strstr(numa_line(r->addr), "bind:1") || !strstr(numa_line(r->addr), want))
			fail("mbind: numa_maps says '%s', want bind:1 and %s",
			     numa_line(r->addr), want);
		break;
	case UPROBE:
		/* The probe is on this program's text, in every process. */
		break;
	default:
		fail("internal: add_kind(%d)", kind);
	}
}

/* The parent: the VMA kinds of the KUnit suite, and enough for a deep tree. */
static int build_parent(void)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	int i, before = failures, memfd = memfd_create("forkfix", 0);
	enum kind k;

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
	arch_dup_setup();
	/* A THP that fell back to small pages would be collapsed mid-sweep. */
	if (self_smaps_kb((void *)(BASE + 6 * SLOT), "AnonHugePages:") != (long)(SZ_2M / 1024))
		fail("the THP region is not one huge page (AnonHugePages %ld kB)",
		     self_smaps_kb((void *)(BASE + 6 * SLOT), "AnonHugePages:"));
	for (k = FIRST_DISTRO_KIND; k < NR_KINDS; k++)
		add_kind(k);
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

/*
 * Keep the blocks (smaps) or lines (numa_maps) of @in whose start address
 * is in our regions, [FAR, OURS_END), or with @all every line, without the
 * lines starting with @skip (the accessed bits behind smaps' Referenced:
 * are the hardware's).
 */
static size_t ours(const char *in, char *out, size_t size, const char *skip, int all)
{
	const char *p, *end;
	unsigned long start;
	size_t len = 0, n;
	int keep = all;
	char c;

	for (p = in; *p; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			break;
		if (!all && sscanf(p, "%lx%c", &start, &c) == 2 && (c == '-' || c == ' '))
			keep = start >= FAR && start < OURS_END;
		if (!keep || (skip && !strncmp(p, skip, strlen(skip))))
			continue;
		n = end + 1 - p;
		if (len + n >= size)
			break;
		memcpy(out + len, p, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

/*
 * The pagemap entries of the pages of our regions (those written, at
 * least the first 64 of each): present, swapped, exclusively mapped, file
 * or shared, uffd write-protected, the swap entry; not the page frame
 * number, which compaction may change.
 */
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/*
 * /proc/self/pagemap of this process: a descriptor inherited across fork()
 * would still read the page tables of the process that opened it.
 */
static int pagemap_fd(void)
{
	static int fd = -1;
	static pid_t owner;

	if (fd >= 0 && owner != getpid()) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		owner = getpid();
		if (fd < 0)
			fail("/proc/self/pagemap: %s", strerror(errno));
	}
	return fd;
}

static size_t pagemap_snapshot(uint64_t *out, size_t max)
{
	int fd = pagemap_fd();
	size_t n = 0, pages;
	ssize_t got;
	int i;

	for (i = 0; i < nr_regions && fd >= 0; i++) {
		const struct region *r = &regions[i];

		pages = (r->written > 64 * PAGE ? r->written : 64 * PAGE) / PAGE;
		if (pages > r->len / PAGE)
			pages = r->len / PAGE;
		if (n + pages > max) {
			fail("internal: pagemap snapshot larger than %zu pages", max);
			break;
		}
		got = pread(fd, out + n, pages * 8, (off_t)((uintptr_t)r->addr / PAGE * 8));
		if (got != (ssize_t)(pages * 8)) {
			fail("pagemap at %p: %s", r->addr, strerror(errno));
			break;
		}
		for (; pages; pages--, n++)
			if (out[n] & PM_PRESENT)
				out[n] &= ~PM_PFN_MASK;
	}
	return n;
}

/*
 * @detail: smaps and numa_maps of each of our VMAs (the kind sweeps, whose
 * parent has a few); otherwise the pagemap entries of our regions (the
 * sweep of the whole parent: reading every VMA's smaps twice a point would
 * make it five times slower under TCG and KASAN, and smaps_rollup counts
 * the pages of init's own text and stack as they are first touched).
 */
static void take_snapshot(struct snapshot *s, int detail)
{
	static char buf[262144];
	const char *p;
	size_t i;

	if (detail) {
		read_file("/proc/self/smaps", buf, sizeof(buf));
		s->smaps_len = ours(buf, s->smaps, sizeof(s->smaps), "Referenced:", 0);
		read_file("/proc/self/numa_maps", buf, sizeof(buf));
		s->numa_len = ours(buf, s->numa, sizeof(s->numa), NULL, 0);
		s->pagemap_len = 0;
	} else {
		s->smaps_len = 0;
		s->smaps[0] = '\0';
		s->numa_len = 0;
		s->numa[0] = '\0';
		s->pagemap_len = pagemap_snapshot(s->pagemap,
						  sizeof(s->pagemap) / sizeof(s->pagemap[0]));
	}
	read_file("/proc/meminfo", buf, sizeof(buf));
	for (i = 0; i < sizeof(meminfo_keys) / sizeof(meminfo_keys[0]); i++) {
		p = strstr(buf, meminfo_keys[i]);
		s->meminfo[i] = p ? strtol(p + strlen(meminfo_keys[i]), NULL, 10) : -1;
	}
	for (i = 0; i < sizeof(ksm_files) / sizeof(ksm_files[0]); i++) {
		snprintf(buf, sizeof(buf), KSM "%s", ksm_files[i]);
		s->ksm[i] = read_long(buf);
	}
	s->memcg = read_long(MEMCG "/memory.current");
	s->uffd_forks = counter(&uffd_forks);
}

/* The first line where two texts differ, for the report. */
static void first_difference(const char *what, int n, const char *a, const char *b)
{
	size_t i = 0, start = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			start = i + 1;
		i++;
	}
	fail("fork-sweep: point %d: the parent's %s changed: '%.*s' became '%.*s'", n, what,
	     (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"), b + start);
}

/* Are all the pages of @r in swap?  (pagemap bit 62) */
static int all_swapped(const struct region *r)
{
	static uint64_t pm[64];
	int fd = pagemap_fd();
	size_t i, pages = r->len / PAGE;

	if (fd < 0 || pages > 64 || pread(fd, pm, pages * 8, (off_t)((uintptr_t)r->addr / PAGE * 8)) !=
			  (ssize_t)(pages * 8))
		return 0;
	for (i = 0; i < pages; i++)
		if (!(pm[i] & (1ULL << 62)))
			return 0;
	return 1;
}

static long memcg_moved, memcg_max_moved;

/* After a failed fork: the state of the snapshot as before it. */
static void compare_snapshots(int n, const struct snapshot *was, struct snapshot *is)
{
	long memcg;
	size_t i;
	int tries;

	if (was->smaps_len != is->smaps_len || memcmp(was->smaps, is->smaps, is->smaps_len))
		first_difference("smaps", n, was->smaps, is->smaps);
	if (was->numa_len != is->numa_len || memcmp(was->numa, is->numa, is->numa_len))
		first_difference("numa_maps", n, was->numa, is->numa);
	/* A page of ours caught in migration shows a migration entry: again. */
	for (tries = 0; tries < 3 && is->pagemap_len == was->pagemap_len &&
	     memcmp(is->pagemap, was->pagemap, is->pagemap_len * sizeof(is->pagemap[0])); tries++) {
		usleep(100000);
		is->pagemap_len = pagemap_snapshot(is->pagemap,
						   sizeof(is->pagemap) / sizeof(is->pagemap[0]));
	}
	if (was->pagemap_len != is->pagemap_len)
		fail("fork-sweep: point %d: pagemap snapshot of %zu pages, was %zu", n,
		     is->pagemap_len, was->pagemap_len);
	for (i = 0; i < is->pagemap_len && i < was->pagemap_len; i++)
		if (was->pagemap[i] != is->pagemap[i]) {
			fail("fork-sweep: point %d: pagemap entry %zu of our regions %#llx, was %#llx",
			     n, i, (unsigned long long)is->pagemap[i],
			     (unsigned long long)was->pagemap[i]);
			break;
		}
	for (i = 0; i < sizeof(meminfo_keys) / sizeof(meminfo_keys[0]); i++)
		if (was->meminfo[i] != is->meminfo[i])
			fail("fork-sweep: point %d: /proc/meminfo %s %ld, was %ld", n,
			     meminfo_keys[i], is->meminfo[i], was->meminfo[i]);
	for (i = 0; i < sizeof(ksm_files) / sizeof(ksm_files[0]); i++)
		if (was->ksm[i] != is->ksm[i] || is->ksm[i] < 0)
			fail("fork-sweep: point %d: ksm %s %ld, was %ld", n, ksm_files[i],
			     is->ksm[i], was->ksm[i]);
	memcg_moved = labs(is->memcg - was->memcg);
	if (memcg_moved > memcg_max_moved)
		memcg_max_moved = memcg_moved;
	/*
	 * Growth only: a drop is the RCU-freed memory of earlier children.
	 * Growth past the slack gets up to 5 s to settle before it counts.
	 */
	memcg = is->memcg;
	for (tries = 0; tries < 25 && memcg - was->memcg > (long)MEMCG_SLACK; tries++) {
		usleep(200000);
		memcg = read_long(MEMCG "/memory.current");
	}
	if (was->memcg < 0 || memcg - was->memcg > (long)MEMCG_SLACK)
		fail("fork-sweep: point %d: memory.current %ld, was %ld (slack %lu)", n,
		     memcg, was->memcg, MEMCG_SLACK);
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
			fail("fork-sweep: point %d: parent region %d (%s) differs at +%ld",
			     n, i, kind_names[regions[i].kind], off);
	}
	len = read_file("/proc/self/maps", maps_now, sizeof(maps_now));
	if (len != maps_before_len || memcmp(maps_now, maps_before, len))
		fail("fork-sweep: point %d: the parent's /proc/self/maps changed", n);
}

/* Right before every fork: the swapped kind goes back to swap. */
static void prepare_fork(void)
{
	int i;

	for (i = 0; i < nr_regions; i++)
		if (regions[i].kind == SWAPPED &&
		    madvise(regions[i].addr, regions[i].len, MADV_PAGEOUT))
			fail("MADV_PAGEOUT: %s", strerror(errno));
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
	/* A sweep child or a walker: init sees the FAIL line, and goes on. */
	if (getpid() != 1)
		_exit(128 + sig);
	len = (int)read_file("/proc/self/maps", maps_now, sizeof(maps_now));
	emit_lines(1, maps_now, len);
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

/*
 * One sweep: @kind is NULL for the whole parent ("sweep ..." line), or the
 * name of the one kind the parent has ("kind-sweep kind=... " line).
 */
/* Where a kind's sweep, in a child, leaves its count of failed forks. */
static int *kind_failed;

static int fork_sweep(const char *kind)
{
	int fd, n, status = 0, failed = 0, absorbed = 0, complete = 0, pass, points = 0;
	int swapped = 0, event_failed = 0, tries;
	static struct snapshot was, is;
	const struct region *sw = NULL;
	long memcg_start, memcg_end;
	unsigned long events;
	char buf[32], what[64], left_field[64];
	ssize_t len;
	long left;
	pid_t pid;
	double t;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		fail("fork-sweep: /proc/thread-self/fail-nth: %s", strerror(errno));
		return 0;
	}
	grow_stack();
	/* The first probes set up what they need (the uprobe's XOL area). */
	uffd_probe("before the sweep");
	uprobe_probe("before the sweep");
	maps_before_len = read_file("/proc/self/maps", maps_before, sizeof(maps_before));
	/*
	 * The snapshots' own buffers are touched before the memcg's usage is
	 * taken: their first use would count as growth over the sweep.
	 */
	take_snapshot(&was, kind != NULL);
	take_snapshot(&is, kind != NULL);
	parent_check(0);
	for (n = 0; n < nr_regions; n++)
		if (regions[n].kind == SWAPPED)
			all_swapped(&regions[n]);
	if (!kind && sweep_memcg_begin()) {
		close(fd);
		return 0;
	}
	memcg_start = read_long(MEMCG "/memory.current");
	memcg_max_moved = 0;
	for (n = 0; n < nr_regions; n++)
		if (regions[n].kind == SWAPPED)
			sw = &regions[n];
	t = now();

	for (pass = 0; pass < (kind ? KIND_PASSES : 1); pass++) {
		complete = 0;
		for (n = 1; n <= MAX_POINTS; n++) {
			sweep_point = n;
			sweep_phase = "snapshot";
			prepare_fork();
			take_snapshot(&was, kind != NULL);
			/* MADV_PAGEOUT skips pages another CPU's LRU batch still holds. */
			if (sw && (kind ? smaps_kb(was.smaps, sw->addr, "Swap:") >= (long)(sw->len / 1024) :
				   all_swapped(sw)))
				swapped++;
			/*
			 * The whole parent's sweep is init's: init enters the sweep's
			 * memcg for the fork only, so that the memcg holds what the
			 * fork charged and what the child, if any, used, and none of
			 * init's own later allocations.  A kind's sweep runs in a
			 * child that lives in the sweep's memcg (kind_sweeps()).
			 */
			sweep_phase = "entering the sweep's memcg";
			if (!kind && memcg_enter(MEMCG_SWEEP)) {
				fail("fork-sweep: point %d: cannot enter " MEMCG_SWEEP, n);
				break;
			}
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
			if (!kind && memcg_enter(MEMCG_IDLE)) {
				fail("fork-sweep: point %d: cannot go back to " MEMCG_IDLE, n);
				break;
			}
			if (pid < 0 && errno != ENOMEM && errno != EAGAIN && errno != EINTR)
				fail("fork-sweep: point %d: fork() failed with %s", n, strerror(errno));
			/* The fork event (and the close of the child's uffd) is handled. */
			uffd_sync();
			events = counter(&uffd_forks) - was.uffd_forks;

			sweep_phase = pid < 0 ? "checking the parent after a failed fork" :
						"waiting for the child";
			if (pid < 0) {
				failed++;
				/*
				 * A fork that fails after dup_mmap() (alloc_pid(), ...)
				 * has sent its event: the reader gets a descriptor of an
				 * mm that never ran.  More than one is wrong.
				 */
				if (events > 1)
					fail("fork-sweep: point %d: a failed fork sent %lu userfaultfd fork events",
					     n, events);
				event_failed += events == 1;
				take_snapshot(&is, kind != NULL);
				compare_snapshots(n, &was, &is);
				snprintf(what, sizeof(what), "fork-sweep: point %d", n);
				uffd_probe(what);
				uprobe_probe(what);
				parent_check(n);
			} else {
				if (waitpid(pid, &status, 0) != pid ||
				    !WIFEXITED(status) || WEXITSTATUS(status))
					fail("fork-sweep: point %d: the child saw a wrong copy (status %#x)",
					     n, status);
				if (uffd >= 0 && events != 1)
					fail("fork-sweep: point %d: %lu userfaultfd fork events for one fork",
					     n, events);
				if (left) {
					complete = 1;
					break;
				}
				absorbed++;
			}
			if (n % 100 == 0)
				say("fork-sweep: %s%s%d points, %d failed fork(), %d absorbed",
				    kind ?: "", kind ? ": " : "", n, failed, absorbed);
		}
		points += complete ? n - 1 : n;
		if (!complete)
			break;
	}
	close(fd);
	if (!complete)
		fail("fork-sweep: %s: fork() still fails after %d points", kind ?: "all kinds",
		     MAX_POINTS);
	if (!failed)
		fail("fork-sweep: %s: no injected failure made fork() fail", kind ?: "all kinds");
	if (sw && !swapped)
		fail("fork-sweep: %s: the swapped region was never in swap at a fork",
		     kind ?: "all kinds");
	/*
	 * Within the slack of one fork: a leak per failed fork adds up.  The
	 * VMAs, files and page tables of the last forks are freed after an RCU
	 * grace period, which TCG can stretch: give them up to 5 s.
	 */
	memcg_end = read_long(MEMCG "/memory.current");
	for (tries = 0; tries < 25 && memcg_end - memcg_start > (long)MEMCG_SLACK; tries++) {
		usleep(200000);
		memcg_end = read_long(MEMCG "/memory.current");
	}
	/*
	 * Only the whole parent's: a kind sweep's growth, with its fewer
	 * failed forks, is mostly the stocks', and is printed, not judged
	 * (sweep_memcg_end() judges every sweep exactly).
	 */
	if (!kind && memcg_end - memcg_start > (long)MEMCG_SLACK)
		fail("fork-sweep: %s: memory.current grew by %ld bytes over the sweep (slack %lu)",
		     kind ?: "all kinds", memcg_end - memcg_start, MEMCG_SLACK);
	/* A kind's sweep is judged by init, once its child is gone. */
	left_field[0] = '\0';
	if (!kind) {
		/* Init is back in MEMCG_IDLE, unless the loop broke off. */
		memcg_enter(MEMCG_IDLE);
		len = snprintf(left_field, sizeof(left_field), " memcg-left=%ld",
			       sweep_memcg_end("fork-sweep: all kinds", failed));
		if (arch_dup_on)
			snprintf(left_field + len, sizeof(left_field) - len,
				 " arch-dup-failed=%ld", arch_dup_failed());
	}
	snprintf(what, sizeof(what), "kind-sweep kind=%s ", kind ?: "");
	say("%spoints=%d failed=%d absorbed=%d complete=%d vmas=%d seconds=%.1f swapped-forks=%d uffd-events-of-failed-forks=%d memcg-start=%ld memcg-end=%ld memcg-max-move=%ld%s",
	    kind ? what : "sweep ", points, failed, absorbed, complete,
	    nr_regions, now() - t, swapped, event_failed, memcg_start, memcg_end,
	    memcg_max_moved, left_field);
	if (kind && kind_failed)
		*kind_failed = failed;
	return points;
}

/*
 * A sweep of its own for each kind of the distribution's mm, each in a
 * child of init whose parent has only that kind: the points and failed
 * forks per kind.  Run before init builds its own parent, so that the
 * children start without regions or a userfaultfd.
 */
static void kind_sweeps(void)
{
	char what[64];
	enum kind k;
	int status = 0;
	pid_t pid;

	kind_failed = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kind_failed == MAP_FAILED) {
		fail("kind sweeps: mmap: %s", strerror(errno));
		kind_failed = NULL;
		return;
	}
	for (k = FIRST_DISTRO_KIND; k < NR_KINDS; k++) {
		*kind_failed = 0;
		if (sweep_memcg_begin())
			return;
		pid = fork();
		if (pid < 0) {
			fail("fork of the sweep of kind %s: %s", kind_names[k], strerror(errno));
			rmdir(MEMCG_SWEEP);
			continue;
		}
		/*
		 * The child lives in the sweep's memcg from its start: its
		 * region, its forks and what they leave are charged there,
		 * and all but the leaks go when it exits.
		 */
		if (pid == 0) {
			failures = 0;
			if (memcg_enter(MEMCG_SWEEP))
				fail("the sweep of kind %s: cannot enter " MEMCG_SWEEP, kind_names[k]);
			if (!failures)
				add_kind(k);
			if (!failures)
				fork_sweep(kind_names[k]);
			_exit(failures ? 1 : 0);
		}
		/*
		 * The child's FAIL lines are on the console, but a line can be
		 * dropped: its exit status counts here too.
		 */
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			fail("the sweep of kind %s did not end (status %#x)", kind_names[k], status);
		else if (WEXITSTATUS(status))
			fail("the sweep of kind %s reported failures", kind_names[k]);
		snprintf(what, sizeof(what), "fork-sweep: %s", kind_names[k]);
		sweep_memcg_end(what, *kind_failed);
	}
}

/* --- Concurrent walkers --- */

enum walker { W_SWAP, W_PAGEOUT, W_UPROBE, W_PROC, W_COMPACT, W_KSM, NR_WALKERS };

static const char *const walker_names[NR_WALKERS] = {
	"swapoff-swapon", "pageout", "uprobe-toggle", "proc-readers", "compaction",
	"ksmd-khugepaged",
};

/* Shared between init and its walkers (MAP_SHARED). */
struct walk_state {
	int stop;
	unsigned long iterations[NR_WALKERS];
	unsigned long errors[NR_WALKERS];
};

static struct walk_state *walk;

/*
 * Read what a process's page tables say: smaps, numa_maps, pagemap.  Any
 * other process may exit under the reader (the files vanish, read empty or
 * fail with ESRCH), but @parent, the one forking with failures, lives
 * throughout: each of its files must read, start with the address of a
 * VMA, and its pagemap reads must be whole.  Returns -1 for an error.
 */
static int read_proc_of(int pid, int parent)
{
	static char buf[262144];
	unsigned long addr[] = { BASE, BASE + 8 * SLOT, BASE + 11 * SLOT, HUGE_SHARED_AT };
	static const char *const files[] = { "smaps", "numa_maps" };
	unsigned long start, end;
	char path[64];
	int bad = 0, fd;
	size_t i, len;
	ssize_t n;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, files[i]);
		errno = 0;
		len = read_file(path, buf, sizeof(buf));
		if (!parent) {
			bad |= !len && errno && errno != ENOENT && errno != ESRCH;
			continue;
		}
		/* smaps: "start-end perms ...", numa_maps: "start policy ..." */
		if (i == 0)
			bad |= sscanf(buf, "%lx-%lx ", &start, &end) != 2 || start >= end;
		else
			bad |= sscanf(buf, "%lx ", &start) != 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return parent || (errno != ENOENT && errno != ESRCH) || bad ? -1 : 0;
	for (i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
		n = pread(fd, buf, 16 * 8, (off_t)(addr[i] / PAGE * 8));
		if (n == 16 * 8)
			continue;
		bad |= parent || (n < 0 && errno != ESRCH);
		break;
	}
	close(fd);
	return bad ? -1 : 0;
}

/*
 * Full scans of ksmd and khugepaged, which walk every mm they know of; -1
 * when a counter cannot be read.
 */
static long scans(void)
{
	long ksm = read_long(KSM "full_scans");
	long khugepaged = read_long("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans");

	return ksm < 0 || khugepaged < 0 ? -1 : ksm + khugepaged;
}

/* Bytes of the parent that the pageout walker asks for each time. */
static ssize_t pageout_len;

/* One round of a walker; returns 0, or -1 for an error it counts. */
static int walk_once(enum walker w, int pidfd, const struct iovec *iov, int nr_iov)
{
	struct dirent *d;
	DIR *dir;
	int err = 0;

	switch (w) {
	case W_SWAP:
		/* swapoff's try_to_unuse() walks every mm on the mmlist. */
		err = swapoff(SWAP_DEV) != 0;
		err |= swapon(SWAP_DEV, 0) != 0;
		usleep(20000 + rand() % 80000);
		break;
	case W_PAGEOUT:
		/* The parent's pages to swap, as reclaim would: rmap walks. */
		err = syscall(SYS_process_madvise, pidfd, iov, nr_iov, MADV_PAGEOUT, 0) !=
		      pageout_len;
		usleep(10000);
		break;
	case W_UPROBE:
		/* register_for_each_vma(): every mm that maps /init's text. */
		err = put(TRACING "/events/forkfix/target/enable", "0") ||
		      put(TRACING "/events/forkfix/target/enable", "1");
		break;
	case W_PROC:
		dir = opendir("/proc");
		if (!dir)
			return -1;
		while ((d = readdir(dir)))
			if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
				err |= read_proc_of(atoi(d->d_name),
						    atoi(d->d_name) == getppid()) != 0;
		closedir(dir);
		break;
	case W_COMPACT:
		err = put("/proc/sys/vm/compact_memory", "1");
		usleep(10000);
		break;
	case W_KSM:
		/*
		 * Kernel threads: the walker counts their full scans, and an
		 * error when their counters cannot be read.
		 */
		usleep(10000);
		return scans() < 0 ? -1 : 0;
	default:
		return -1;
	}
	return err ? -1 : 0;
}

static void walker(enum walker w)
{
	struct iovec iov[sizeof(regions) / sizeof(regions[0])];
	int i, nr_iov = 0, pidfd = -1;
	long base = 0, scanned;

	srand(getpid());
	/*
	 * The walker's copies of the regions go: the parent's pages must be
	 * mapped by the parent alone for MADV_PAGEOUT to take them, and the
	 * walker must not share the hugetlb PMD.
	 */
	for (i = 0; i < nr_regions; i++)
		munmap(regions[i].addr, regions[i].len);
	if (w == W_PAGEOUT) {
		pidfd = (int)syscall(SYS_pidfd_open, getppid(), 0);
		for (i = 0; i < nr_regions; i++) {
			enum kind k = regions[i].kind;

			/* Not hugetlb or mlocked (EINVAL), not the uffd ranges. */
			if (k == HUGE_PRIVATE || k == HUGE_SHARED || k == UFFD_MISSING ||
			    k == UFFD_WP || k == DONTFORK || k == MLOCKED)
				continue;
			iov[nr_iov].iov_base = regions[i].addr;
			iov[nr_iov++].iov_len = regions[i].len;
			pageout_len += regions[i].len;
		}
	}
	if (w == W_KSM) {
		put(KSM "sleep_millisecs", "1");
		put(KSM "pages_to_scan", "100");
		put("/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "1");
		put("/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "1");
		put(KSM "run", "1");
		base = scans();
		if (base < 0) {
			walk->errors[w]++;
			base = 0;
		}
	}
	while (!__atomic_load_n(&walk->stop, __ATOMIC_SEQ_CST)) {
		if (walk_once(w, pidfd, iov, nr_iov))
			walk->errors[w]++;
		if (w == W_KSM) {
			scanned = scans();
			if (scanned >= 0)
				walk->iterations[w] = scanned - base;
		} else
			walk->iterations[w]++;
	}
	if (w == W_KSM) {
		put(KSM "run", "0");
		put("/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "10000");
	}
	_exit(0);
}

/*
 * The walkers run while the parent forks with failures: first a fail-nth
 * sweep, then random points of it, for @seconds.  The checks after a
 * failed fork are those that hold while others walk (the parent's bytes and
 * maps, its userfaultfd); the snapshot ones need a quiet machine.
 */
static void walk_phase(double seconds, int max_point)
{
	unsigned long at_first[NR_WALKERS], at_last[NR_WALKERS];
	unsigned long forks = 0, failed = 0, randoms = 0;
	int fd, n = 0, status = 0, sweep_done = 0, any_failed = 0;
	pid_t pids[NR_WALKERS], pid;
	char buf[32], what[64];
	double t0, t_end;
	ssize_t len;
	long left;
	int w;

	walk = mmap(NULL, sizeof(*walk), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (walk == MAP_FAILED) {
		fail("walkers: mmap: %s", strerror(errno));
		return;
	}
	for (w = 0; w < NR_WALKERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			walker(w);
		if (pids[w] < 0)
			fail("walkers: fork of %s: %s", walker_names[w], strerror(errno));
	}
	/* The uprobe comes and goes now: its probe waits for the end. */
	uprobe_on = 0;
	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		fail("walkers: fail-nth: %s", strerror(errno));
		return;
	}
	maps_before_len = read_file("/proc/self/maps", maps_before, sizeof(maps_before));
	memset(at_first, 0, sizeof(at_first));
	memset(at_last, 0, sizeof(at_last));
	t0 = now();
	t_end = t0 + seconds;
	srand(1);
	while (now() < t_end) {
		if (!sweep_done) {
			n++;
		} else {
			n = 1 + rand() % max_point;
			randoms++;
		}
		sweep_point = n;
		sweep_phase = "walkers";
		prepare_fork();
		len = snprintf(buf, sizeof(buf), "%d", n);
		if (write(fd, buf, len) != len) {
			fail("walkers: write fail-nth: %s", strerror(errno));
			break;
		}
		pid = fork();
		if (pid == 0)
			_exit(child_check());
		len = pread(fd, buf, sizeof(buf) - 1, 0);
		if (write(fd, "0", 1) != 1)
			fail("walkers: clear fail-nth: %s", strerror(errno));
		buf[len > 0 ? len : 0] = '\0';
		left = strtol(buf, NULL, 10);
		uffd_sync();
		forks++;
		if (pid < 0) {
			failed++;
			for (w = 0; w < NR_WALKERS; w++) {
				at_last[w] = walk->iterations[w];
				if (!any_failed)
					at_first[w] = at_last[w];
			}
			any_failed = 1;
			snprintf(what, sizeof(what), "walkers: point %d", n);
			uffd_probe(what);
			parent_check(n);
		} else {
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				fail("walkers: point %d: the child saw a wrong copy (status %#x)",
				     n, status);
			if (left && !sweep_done)
				sweep_done = n;
		}
	}
	close(fd);
	say("walkers seconds=%.0f forks=%lu failed=%lu sweep-points=%d sweep-complete=%d random=%lu",
	    now() - t0, forks, failed, sweep_done ? sweep_done : n, !!sweep_done, randoms);
	/* The rounds between the first and the last failed fork. */
	for (w = 0; w < NR_WALKERS; w++)
		say("walker name=%s iterations=%lu during-failed-forks=%lu errors=%lu",
		    walker_names[w], walk->iterations[w], at_last[w] - at_first[w],
		    walk->errors[w]);
	__atomic_store_n(&walk->stop, 1, __ATOMIC_SEQ_CST);
	for (w = 0; w < NR_WALKERS; w++)
		if (pids[w] > 0 && waitpid(pids[w], &status, 0) != pids[w])
			fail("walkers: %s did not end", walker_names[w]);
	if (!failed)
		fail("walkers: no fork failed");
	uprobe_on = 1;
	put(TRACING "/events/forkfix/target/enable", "1");
	uprobe_probe("after the walkers");
	uffd_probe("after the walkers");
	parent_check(-1);
}

/*
 * A task beside the debugfs run of the suite, on the last CPU: it maps,
 * writes and unmaps accounted anonymous memory in a loop.  Nothing the
 * suite does to stop a copy may make one of its maps fail.
 */
#define MAPPER_PAGES	64	/* mapped, written and unmapped each turn */

struct mapper {
	int stop;
	int running;
	unsigned long maps;
	unsigned long failed;
	int first_errno;
};

static void mapper_loop(struct mapper *m)
{
	size_t len = MAPPER_PAGES * PAGE;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	void *addr;

	CPU_ZERO(&set);
	CPU_SET(cpus > 1 ? cpus - 1 : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("mapper: sched_setaffinity: %s", strerror(errno));
	__atomic_store_n(&m->running, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&m->stop, __ATOMIC_SEQ_CST)) {
		addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (addr == MAP_FAILED) {
			if (!m->failed++)
				m->first_errno = errno;
			continue;
		}
		memset(addr, 0x5a, len);
		munmap(addr, len);
		m->maps++;
	}
	_exit(0);
}

static void kunit_rerun(void)
{
	struct mapper *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	if (m == MAP_FAILED) {
		fail("mapper: mmap: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0)
		fail("mapper: fork: %s", strerror(errno));
	if (!pid)
		mapper_loop(m);
	while (pid > 0 && !__atomic_load_n(&m->running, __ATOMIC_SEQ_CST))
		usleep(1000);

	put(DBG "/kunit/" KUNIT_SUITE "/run", "1");

	__atomic_store_n(&m->stop, 1, __ATOMIC_SEQ_CST);
	if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			WEXITSTATUS(status)))
		fail("mapper: did not exit cleanly");
	say("ktap-begin");
	cat(DBG "/kunit/" KUNIT_SUITE "/results");
	say("ktap-end");
	say("mapper maps=%lu failed=%lu", m->maps, m->failed);
	if (m->failed)
		fail("mapper: %lu of %lu maps of accounted memory failed while the suite ran, the first with %s",
		     m->failed, m->maps + m->failed, strerror(m->first_errno));
	if (!m->maps)
		fail("mapper: no map while the suite ran");
	munmap(m, sizeof(*m));
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
	emit_lines(1, buf, len);
	say("kmemleak-end");
	say("kmemleak objects=%d", objects);
}

/*
 * No transparent huge pages for init's own data, bss, heap and stack: the
 * first touch of a buffer in a 2 MiB-aligned stretch of them would charge
 * the memcg 2 MiB in the middle of a sweep.  Our regions are mapped later
 * and keep the system's THP setting.
 */
static void no_thp_for_init(void)
{
	char line[256], perms[8];
	unsigned long start, end;
	FILE *maps = fopen("/proc/self/maps", "r");

	if (!maps) {
		fail("/proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 &&
		    !strcmp(perms, "rw-p") &&
		    madvise((void *)start, end - start, MADV_NOHUGEPAGE))
			fail("MADV_NOHUGEPAGE at %#lx: %s", start, strerror(errno));
	fclose(maps);
}

int main(void)
{
	double t0, t1, t2, t3, t4, t5, walk_seconds;
	const char *what;
	int points = 0, sweep;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_fatal_signals();
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("debugfs", DBG, "debugfs", 0, NULL))
		fail("mount: %s", strerror(errno));
	if (kmsg_stdout())
		fail("output through /dev/kmsg: %s (lines may be cut by kernel messages)",
		     strerror(errno));
	say("init started (GLIBC_TUNABLES=%s)", getenv("GLIBC_TUNABLES") ?: "unset");
	no_thp_for_init();

	for (i = 0; i < sizeof(fail_nth_settings) / sizeof(fail_nth_settings[0]); i++)
		put(fail_nth_settings[i][0], fail_nth_settings[i][1]);

	t0 = now();
	kunit_rerun();
	t1 = now();
	/* The distribution's mm: swap, memcg, a uprobe on our text. */
	if (swap_setup(&what))
		fail("%s: %s", what, strerror(errno));
	memcg_setup();
	uprobe_setup();
	/*
	 * khugepaged collapses only fully populated ranges: the sparse 64 MiB
	 * region stays as it is while the snapshots compare it.
	 */
	put("/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none", "0");
	/*
	 * Nor is its huge page split for being mostly zero (which a
	 * max_ptes_none below 511 allows), and no compaction nobody asked
	 * for moves the parent's pages while a snapshot reads them.
	 */
	put("/sys/kernel/mm/transparent_hugepage/shrink_underused", "0");
	put("/proc/sys/vm/compaction_proactiveness", "0");
	put("/proc/sys/vm/watermark_boost_factor", "0");
	say("setup: swap %s, memcg %s, uprobe %s, nodes %s, huge pages %ld",
	    SWAP_DEV, MEMCG, uprobe_on ? "on" : "off",
	    access("/sys/devices/system/node/node1", F_OK) ? "1" : "2+",
	    read_long("/proc/sys/vm/nr_hugepages"));
	sweep = atoi(getenv("FORKFIX_SWEEP") ?: "1");
	if (sweep && atoi(getenv("FORKFIX_KINDS") ?: "1"))
		kind_sweeps();
	else
		say("kind sweeps: off");
	t2 = now();
	if (!sweep)
		say("fork sweep: off");
	else if (!build_parent())
		points = fork_sweep(NULL);
	t3 = now();
	walk_seconds = atof(getenv("FORKFIX_WALK_SECONDS") ?: "60");
	if (points > 1 && walk_seconds > 0)
		walk_phase(walk_seconds, points);
	t4 = now();
	kmemleak();
	t5 = now();
	say("time kunit=%.1f kinds=%.1f sweep=%.1f walkers=%.1f kmemleak=%.1f", t1 - t0,
	    t2 - t1, t3 - t2, t4 - t3, t5 - t4);
	say("done failures=%d", failures);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
