// SPDX-License-Identifier: GPL-2.0
/*
 * Static init for run-qemu.sh: runs in the initramfs of the debug kernel.
 *
 *  1. catches fatal signals (init must not die), mounts proc, sysfs and
 *     debugfs, writes its lines to /dev/kmsg (a record each, see
 *     kmsg-out.h), and keeps transparent huge pages off its own data, heap
 *     and stack;
 *  2. makes failslab and fail_page_alloc fire on task-local fail-nth also
 *     for sleeping allocations and for order-0 pages (fail-nth.h);
 *  3. runs the tree's KUnit suite (SUITE) again through debugfs, so that
 *     its allocation sweep runs with injection on, while a mapper task on
 *     the last CPU maps, writes and unmaps accounted memory; prints the
 *     results file and the mapper's counts;
 *  4. sets up the mm of a distribution kernel: swap on /dev/ram0, a memcg
 *     with a limit for the sweeps, a uprobe on a function of its own text;
 *     and keeps khugepaged, THP's shrinker and proactive compaction from
 *     changing the parent's pages behind the snapshots;
 *  5. kind sweeps: for each kind of the distribution's mm, a child whose
 *     parent has that kind alone runs a fork sweep (step 6) in a memcg of
 *     its own (FORKFIX_KINDS=0: none);
 *  6. fork sweep: fails the 1st, 2nd, ... fault-injection point of fork()
 *     through /proc/thread-self/fail-nth until fork() succeeds, on a parent
 *     with the VMA kinds of the suite and of step 5 (x86_64: and an LDT),
 *     checking the parent's memory, maps and snapshot after every failed
 *     fork and the child's copy after every fork that succeeded; once
 *     removed, the memcg of each sweep may still be charged half a page
 *     per failed fork at most (FORKFIX_SWEEP=0: neither step 5 nor 6);
 *  7. walkers: processes that walk the parent's mm while it forks with
 *     failures, first a sweep, then random points, for
 *     FORKFIX_WALK_SECONDS (60 by default; after a sweep only);
 *  8. asks kmemleak for a scan and prints what it found, then the time of
 *     each step and "done failures=N";
 *  9. reboots (the host runs QEMU with -no-reboot, so QEMU exits).
 *
 * Every line meant for the host starts with "forkfix: ".  A failed check
 * prints "forkfix: FAIL ..." and the summary line counts it.
 *
 * The files of the program (one binary, built from all of them):
 *
 *   qemu-init.c     main() and the order of the steps; the fatal signals;
 *                   the KUnit rerun and its mapper; kmemleak
 *   qemu-init.h     what the files share: layout, kinds, regions,
 *                   snapshots, and the functions and globals they export
 *   init-io.c       say(), fail(), put(), cat(), read_file(), ...
 *   init-parent.c   the parent: its regions per kind, their pattern and
 *                   checks, the snapshots a failed fork must leave as they
 *                   were (with KSM, mbind and numa_maps)
 *   init-uffd.c     userfaultfd and its monitor thread
 *   init-probes.c   the uprobe on our text; x86_64: the LDT and the return
 *                   probe that counts its failed copies
 *   init-memcg.c    the memcgs of init and of each sweep
 *   init-sweep.c    the fork sweep and the kind sweeps
 *   init-walkers.c  the walkers of step 7
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fail-nth.h"
#include "kmsg-out.h"
#include "qemu-init.h"
#include "swap-setup.h"

#ifndef KUNIT_SUITE
#error "build with -DKUNIT_SUITE=\"<suite>\" (scripts/guest/Makefile: SUITE=)"
#endif

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

/*
 * x86_64: how many paging levels the kernel runs with.  A hint above 47 bits
 * is honoured only with 5-level paging (LA57); with 4 levels the mapping
 * lands below.  run-qemu.sh --five-level requires 5.
 */
static void paging_levels(void)
{
#ifdef __x86_64__
	void *hint = (void *)(1UL << 52), *p;

	p = mmap(hint, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("paging levels: mmap: %s", strerror(errno));
		return;
	}
	say("paging levels=%d (hint %p, mapped at %p)",
	    (unsigned long)p >= (1UL << 47) ? 5 : 4, hint, p);
	munmap(p, 4096);
#endif
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
	paging_levels();

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
