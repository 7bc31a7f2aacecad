// SPDX-License-Identifier: GPL-2.0
/*
 * The memcgs of qemu-init: init lives in MEMCG_IDLE, each sweep gets a new
 * MEMCG_SWEEP, both under MEMCG with a limit; what a sweep's memcg is still
 * charged for once removed is what its failed forks leaked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu-init.h"

/* Move init into the memcg of @dir. */
int memcg_enter(const char *dir)
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
void memcg_setup(void)
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
int sweep_memcg_begin(void)
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
long sweep_memcg_end(const char *what, int failed)
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
