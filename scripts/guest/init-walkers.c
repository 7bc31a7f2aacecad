// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent walkers: processes that walk the parent's mm (swapoff, pageout,
 * uprobe registration, /proc readers, compaction, ksmd and khugepaged) while
 * it forks with failures, and the count of their rounds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu-init.h"
#include "swap-setup.h"

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
void walk_phase(double seconds, int max_point)
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
