// SPDX-License-Identifier: GPL-2.0
/*
 * The fork sweeps: fork() with its 1st, 2nd, ... fault-injection point
 * failing (/proc/thread-self/fail-nth) until it succeeds, checking the
 * parent after every failed fork and the child's copy after every fork that
 * succeeded; once for the whole parent, and before that once for each kind
 * of the distribution's mm, in a child whose parent has that kind alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu-init.h"

/* Where the sweep is, for the report of a fatal signal. */
volatile int sweep_point;
const char *volatile sweep_phase = "setup";

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

int fork_sweep(const char *kind)
{
	int fd, n, status = 0, failed = 0, absorbed = 0, complete = 0, pass, points = 0;
	int swapped = 0, event_failed = 0, tries, start = 1, end = 0;
	static struct snapshot was, is;
	const struct region *sw = NULL;
	long memcg_start, memcg_end;
	unsigned long events;
	char buf[32], what[64], left_field[96];
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

	for (pass = 0; ; pass++) {
		if (kind && pass == KIND_PASSES)
			break;
		/*
		 * The whole parent's LDT is copied late in fork(), after the
		 * last VMA.  Slab refills and page-table pages are points too,
		 * and how many come before the copy varies by one or two from
		 * a fork to the next, so a pass can step over the copy's
		 * points.  Go over the tail again until one copy failed.
		 */
		if (!kind && pass) {
			if (!arch_dup_on || arch_dup_failed() != 0 || pass > ARCH_DUP_PASSES)
				break;
			start = end > ARCH_DUP_TAIL ? end - ARCH_DUP_TAIL : 1;
			say("fork-sweep: no copy of the LDT failed yet: points %d to %d again",
			    start, end);
		}
		complete = 0;
		for (n = start; n <= MAX_POINTS; n++) {
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
		points += (complete ? n - 1 : n) - (start - 1);
		if (!complete)
			break;
		if (!pass)
			end = n;
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
				 " arch-dup-failed=%ld passes=%d", arch_dup_failed(), pass);
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
void kind_sweeps(void)
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
