// SPDX-License-Identifier: GPL-2.0
/*
 * Static init for scripts/bench.sh: times the fork, exit and munmap paths
 * that the series touches, in guest time.  The host runs QEMU with -icount,
 * so guest time follows the number of guest instructions and the figures
 * repeat on a noisy host.
 *
 * Cases, each printed as "bench: case=NAME iters=N ns=T" (T: guest
 * nanoseconds per operation, the median of ROUNDS rounds):
 *   fork_exit_vmasN   fork() + child _exit() + waitpid() of a parent with N
 *                     extra VMAs, every fourth with a page written
 *   mmap_munmap       mmap() and munmap() of one page among 1000 VMAs
 *   munmap_span16     munmap() of a range covering 16 VMAs
 *   failfork_kK_nN    fork() that fails after copying K of the parent's
 *                     VMAs, N extra VMAs: fail-nth on vm_area_struct only
 *                     (failslab cache-filter), so the failure point is the
 *                     copy of VMA K+1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#define PAGE		4096UL
#define AREA		0x100000000000UL	/* the extra VMAs start here */
#define SPAN_AREA	0x180000000000UL
#define ROUNDS		7
#define DBG		"/sys/kernel/debug"

static int nr_extra;
static int failures;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		printf("bench: FAIL cannot write %s to %s: %s\n", val, path, strerror(errno));
		failures++;
	}
	if (fd >= 0)
		close(fd);
}

/* Set the extra VMAs to @n: single pages, read-only and writable in turn. */
static void set_extra(int n)
{
	if (nr_extra > n) {
		munmap((void *)(AREA + n * PAGE), (nr_extra - n) * PAGE);
		nr_extra = n;
	}
	for (; nr_extra < n; nr_extra++) {
		unsigned long addr = AREA + nr_extra * PAGE;
		int prot = nr_extra % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		char *p = mmap((void *)addr, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == MAP_FAILED) {
			printf("bench: FAIL mmap: %s\n", strerror(errno));
			failures++;
			return;
		}
		if (nr_extra % 4 == 0)
			p[0] = 1;
		if (prot != (PROT_READ | PROT_WRITE))
			mprotect(p, PAGE, prot);
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void result(const char *name, int iters, long long *rounds)
{
	qsort(rounds, ROUNDS, sizeof(*rounds), cmp_ll);
	printf("bench: case=%s iters=%d ns=%lld\n", name, iters, rounds[ROUNDS / 2] / iters);
	fflush(stdout);
}

static void bench_fork_exit(int n, int iters)
{
	long long rounds[ROUNDS], t;
	char name[64];
	int r, i, status;
	pid_t pid;

	set_extra(n);
	for (r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (i = 0; i < iters; i++) {
			pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid < 0 || waitpid(pid, &status, 0) != pid) {
				printf("bench: FAIL fork: %s\n", strerror(errno));
				failures++;
				return;
			}
		}
		rounds[r] = now_ns() - t;
	}
	snprintf(name, sizeof(name), "fork_exit_vmas%d", n);
	result(name, iters, rounds);
}

static void bench_mmap_munmap(int iters)
{
	long long rounds[ROUNDS], t;
	int r, i;
	void *p;

	set_extra(1000);
	for (r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (i = 0; i < iters; i++) {
			p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, PAGE)) {
				printf("bench: FAIL mmap/munmap: %s\n", strerror(errno));
				failures++;
				return;
			}
		}
		rounds[r] = now_ns() - t;
	}
	result("mmap_munmap", iters, rounds);
}

/* Only the munmap() of 16 VMAs (each with a page) is timed. */
static void bench_munmap_span(int iters)
{
	long long rounds[ROUNDS], t, sum;
	int r, i, j;
	char *p;

	for (r = 0; r < ROUNDS; r++) {
		sum = 0;
		for (i = 0; i < iters; i++) {
			p = mmap((void *)SPAN_AREA, 16 * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED) {
				printf("bench: FAIL mmap span: %s\n", strerror(errno));
				failures++;
				return;
			}
			for (j = 0; j < 16; j++) {
				p[j * PAGE] = 1;
				if (j % 2)
					mprotect(p + j * PAGE, PAGE, PROT_READ);
			}
			t = now_ns();
			munmap(p, 16 * PAGE);
			sum += now_ns() - t;
		}
		rounds[r] = sum;
	}
	result("munmap_span16", iters, rounds);
}

/* fork() that fails while copying VMA k + 1: k VMAs were copied. */
static void bench_failed_fork(int fd, int n, int k, int iters)
{
	long long rounds[ROUNDS], t;
	char name[64], buf[16];
	int r, i, len;
	pid_t pid;

	set_extra(n);
	len = snprintf(buf, sizeof(buf), "%d", k + 1);
	for (r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (i = 0; i < iters; i++) {
			if (write(fd, buf, len) != len) {
				printf("bench: FAIL write fail-nth: %s\n", strerror(errno));
				failures++;
				return;
			}
			pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid > 0) {
				waitpid(pid, NULL, 0);
				printf("bench: FAIL fork with fail-nth=%d of %d VMAs succeeded\n",
				       k + 1, n);
				failures++;
				return;
			}
		}
		rounds[r] = now_ns() - t;
	}
	if (write(fd, "0", 1) != 1)
		failures++;
	snprintf(name, sizeof(name), "failfork_k%d_n%d", k, n);
	result(name, iters, rounds);
}

int main(void)
{
	static const int ks[] = { 10, 50, 90 };
	unsigned int i;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", DBG, "debugfs", 0, NULL);
	printf("bench: start\n");

	/*
	 * The hot paths first: the failed forks free their objects in another
	 * order on each kernel, which would leave the allocators of the two
	 * kernels in different states for whatever is timed after them.
	 */
	bench_fork_exit(10, 100);
	bench_fork_exit(100, 50);
	bench_mmap_munmap(200);		/* 1000 VMAs from here on */
	bench_munmap_span(50);
	bench_fork_exit(1000, 20);

	/* Only vm_area_struct allocations count for fail-nth. */
	put("/sys/kernel/slab/vm_area_struct/failslab", "1");
	put(DBG "/failslab/cache-filter", "Y");
	put(DBG "/failslab/ignore-gfp-wait", "N");
	put(DBG "/failslab/verbose", "0");
	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		printf("bench: FAIL fail-nth: %s\n", strerror(errno));
		failures++;
	}
	for (i = 0; fd >= 0 && i < sizeof(ks) / sizeof(ks[0]); i++)
		bench_failed_fork(fd, 1000, ks[i], 50);
	if (fd >= 0) {
		bench_failed_fork(fd, 1000, 500, 20);
		bench_failed_fork(fd, 1000, 990, 20);
	}
	set_extra(100);
	for (i = 0; fd >= 0 && i < sizeof(ks) / sizeof(ks[0]); i++)
		bench_failed_fork(fd, 100, ks[i], 50);

	printf("bench: done failures=%d\n", failures);
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
