// SPDX-License-Identifier: GPL-2.0
/*
 * Static init for scripts/class-race.sh: a race between swapoff and failed
 * forks, in a kernel with the test-only patches of kunit/<tree>/class/
 * (the walkers' checks for a failed fork reverted, a widened window after
 * a failed dup_mmap() and counters in debugfs forkfix_class/).
 *
 *  1. mounts proc, sysfs and debugfs; makes failslab and fail_page_alloc
 *     fire on task-local fail-nth for sleeping allocations and order 0;
 *  2. writes a swap header to the RAM disk /dev/ram0 (brd) and swaps on it;
 *  3. a child turns swap off and on again in a loop, on for a random
 *     20-100 ms each time, so that swapoff's try_to_unuse() walks the
 *     mmlist often; another child keeps pages of its own in swap, behind
 *     the parent's mm on the mmlist (holder());
 *  4. init is the parent: it maps an anonymous region A, then TAIL
 *     regions above it, and loops: MADV_PAGEOUT on A (while swap is on,
 *     A's PTEs become swap entries, and a fork that copies A puts the
 *     child's mm on the mmlist), then fork() with fail-nth set to a random
 *     point of the copy, so that most forks fail, many of them after A;
 *  5. stops after FORKFIX_RACE_SECONDS (environment) and powers off.
 *
 * "swapped" counts the forks whose parent had pages in swap right before.
 *
 * Progress and the final counts go to /dev/kmsg, so that they carry the
 * same time stamps as a splat: "forkfix: race-begin", "forkfix: race t=...",
 * "forkfix: race-end ...".  On the base with the checks reverted, swapoff
 * meets the XA_ZERO_ENTRY of a failed fork and the kernel oopses (the
 * host runs it with oops=panic); with the series, it finds an empty tree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail-nth.h"
#include "swap-setup.h"

#define PAGE		4096UL
#define BASE		0x200000000000UL
#define A_PAGES		64
#define TAIL		48
#define DBG		"/sys/kernel/debug"
#define CLASS		DBG "/forkfix_class"
#define RAM		SWAP_DEV

static int kmsg = -1;

/* One line to /dev/kmsg (time-stamped with the console) and stdout. */
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "<4>forkfix: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (kmsg < 0 || write(kmsg, line, n) != n)
		fwrite(line + 3, 1, n - 3, stdout);
	fflush(stdout);
}

static void die(const char *what)
{
	say("FAIL %s: %s", what, strerror(errno));
	sync();
	reboot(RB_AUTOBOOT);
	_exit(1);
}

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die(path);
	close(fd);
}

static long get(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtol(buf, NULL, 10);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The holder: a process with pages of its own in swap, paged out again
 * every 10 ms.  It swaps first, so that its mm joins the mmlist before the
 * parent's, behind it and the parent's children: swapoff then still has
 * entries in use when it reaches a failed fork's mm, and walks it even when
 * that mm holds no swap entry (as with the series).
 */
static void holder(void)
{
	unsigned char *h = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (h == MAP_FAILED)
		die("mmap in the holder");
	memset(h, 0xa5, 16 * PAGE);
	for (;;) {
		madvise(h, 16 * PAGE, MADV_PAGEOUT);
		usleep(10000);
	}
}

/* The child of step 3: swapoff, swapon, until killed. */
static void swapper(void)
{
	unsigned long cycles = 0, errors = 0;

	srand(getpid());
	for (;;) {
		/*
		 * Swap stays on for 20-100 ms, so that the parent's pageouts
		 * find it on; swapoff then walks the mmlist, and with luck a
		 * failed fork's mm in its window.
		 */
		usleep(20000 + rand() % 80000);
		errors += !!swapoff(RAM);
		errors += !!swapon(RAM, 0);
		if (++cycles % 1000 == 0)
			say("swapper cycles=%lu errors=%lu", cycles, errors);
	}
}

static unsigned char *map(unsigned long addr, size_t len, int prot)
{
	void *p = mmap((void *)addr, len, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* VmSwap of this process, in kB. */
static long vm_swap(void)
{
	static char buf[4096];
	ssize_t n;
	char *p;
	int fd = open("/proc/self/status", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "VmSwap:");
	return p ? strtol(p + 7, NULL, 10) : -1;
}

/* Pre-fault the stack: with fail-nth armed, growing it could fail. */
static void grow_stack(void)
{
	volatile char pad[256 * 1024];
	size_t i;

	for (i = sizeof(pad); i >= PAGE; i -= PAGE)
		pad[i - 1] = 1;
}

int main(void)
{
	unsigned long forks = 0, failed = 0, points = 0, swapped = 0;
	const char *what;
	size_t k;
	unsigned char *a, *t;
	double seconds, t0, next;
	int fd, i, status, n;
	pid_t swap_pid, hold_pid, pid;
	char buf[32];
	ssize_t len;
	long left;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("debugfs", DBG, "debugfs", 0, NULL))
		die("mount");
	if (mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11)) && errno != EEXIST)
		die("mknod /dev/kmsg");
	kmsg = open("/dev/kmsg", O_WRONLY);
	/* Warnings and worse on the console: not every swapon's "Adding". */
	put("/proc/sys/kernel/printk", "5");
	seconds = atof(getenv("FORKFIX_RACE_SECONDS") ?: "60");
	say("race init started: %.0f s, window delay %s ms", seconds,
	    getenv("FORKFIX_DELAY_MS") ?: "20");
	put(CLASS "/delay_ms", getenv("FORKFIX_DELAY_MS") ?: "20");
	for (k = 0; k < sizeof(fail_nth_settings) / sizeof(fail_nth_settings[0]); k++)
		put(fail_nth_settings[k][0], fail_nth_settings[k][1]);
	if (swap_setup(&what))
		die(what);

	/*
	 * The swapper first: forked later, it would share A's pages, and
	 * MADV_PAGEOUT leaves pages that another process maps alone.
	 */
	swap_pid = fork();
	if (swap_pid < 0)
		die("fork of the swapper");
	if (swap_pid == 0) {
		swapper();
		_exit(0);
	}
	hold_pid = fork();
	if (hold_pid < 0)
		die("fork of the holder");
	if (hold_pid == 0) {
		holder();
		_exit(0);
	}
	/* Let the holder's mm join the mmlist first. */
	sleep(1);

	/* A, then TAIL single pages with alternating protections above it. */
	a = map(BASE, A_PAGES * PAGE, PROT_READ | PROT_WRITE);
	memset(a, 0x5a, A_PAGES * PAGE);
	for (i = 0; i < TAIL; i++) {
		t = map(BASE + (A_PAGES + 1 + i) * PAGE, PAGE, PROT_READ | PROT_WRITE);
		t[0] = i;
		if (i % 2 && mprotect(t, PAGE, PROT_READ))
			die("mprotect");
	}

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0)
		die("/proc/thread-self/fail-nth");
	grow_stack();
	srand(1);
	/* The number of fault-injection points of one fork(), roughly. */
	for (n = 1; n < 5000; n++) {
		len = snprintf(buf, sizeof(buf), "%d", n);
		if (write(fd, buf, len) != len)
			die("fail-nth");
		pid = fork();
		len = pread(fd, buf, sizeof(buf) - 1, 0);
		if (write(fd, "0", 1) != 1)
			die("clearing fail-nth");
		buf[len > 0 ? len : 0] = '\0';
		left = strtol(buf, NULL, 10);
		if (pid == 0)
			_exit(0);
		if (pid > 0) {
			waitpid(pid, &status, 0);
			if (left)
				break;
		}
	}
	points = n;
	if (madvise(a, A_PAGES * PAGE, MADV_PAGEOUT))
		die("MADV_PAGEOUT");
	say("race-begin points=%lu swapped=%ld kB", points, vm_swap());

	t0 = now();
	next = t0 + 30;
	while (now() - t0 < seconds) {
		if (madvise(a, A_PAGES * PAGE, MADV_PAGEOUT))
			die("MADV_PAGEOUT");
		swapped += vm_swap() > 0;
		n = 1 + rand() % points;
		len = snprintf(buf, sizeof(buf), "%d", n);
		if (write(fd, buf, len) != len)
			die("fail-nth");
		pid = fork();
		if (write(fd, "0", 1) != 1)
			die("clearing fail-nth");
		if (pid == 0)
			_exit(0);
		forks++;
		if (pid < 0)
			failed++;
		else
			waitpid(pid, &status, 0);
		if (now() >= next) {
			next += 30;
			say("race t=%.0f forks=%lu failed=%lu windows=%ld walks=%ld walk_vmas=%ld swapped=%lu",
			    now() - t0, forks, failed, get(CLASS "/windows"),
			    get(CLASS "/walks"), get(CLASS "/walk_vmas"), swapped);
		}
	}
	kill(swap_pid, SIGKILL);
	kill(hold_pid, SIGKILL);
	waitpid(swap_pid, &status, 0);
	waitpid(hold_pid, &status, 0);
	say("race-end t=%.0f forks=%lu failed=%lu windows=%ld walks=%ld walk_vmas=%ld swapped=%lu",
	    now() - t0, forks, failed, get(CLASS "/windows"), get(CLASS "/walks"),
	    get(CLASS "/walk_vmas"), swapped);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
