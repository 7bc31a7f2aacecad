// SPDX-License-Identifier: GPL-2.0
/*
 * init of the guest of scripts/stress-ng.sh: runs Debian's stress-ng (its
 * binary and the shared libraries it needs are in the initramfs) twice,
 * first as it is, then while fault injection fails a share of the
 * allocations of stress-ng's own tasks, and reports what the kernel
 * counted.  There is no shell.
 *
 *  1. mounts proc, sysfs, debugfs, tracefs, devtmpfs and a tmpfs /tmp;
 *     swap on the RAM disk /dev/ram0; an ext2 file system on /dev/ram1
 *     (its blocks, made on the host, are in /stress/ext2.blocks) mounted on
 *     /stress-tmp, stress-ng's directory (its swap stressor makes swap
 *     files there);
 *  2. puts kretprobes on copy_process() and dup_mmap(), with histogram
 *     triggers that count, for stress-ng's tasks (comm "stress-ng*"),
 *     every return and every error by errno;
 *  3. reads /stress/plan: "seconds N", "probability P" (percent), then
 *     groups of stressors, each a "group NAME" line and "arg X" lines,
 *     stress-ng's arguments in order (--timeout among them);
 *  4. runs stress-ng with each group's arguments, --yaml and --temp-path,
 *     one group after the other, in two phases: "clean-NAME", and then
 *     "inject-NAME", where the child marks itself
 *     (/proc/self/make-it-fail, inherited by every task it forks) before
 *     its exec and, once it has started, failslab and fail_page_alloc
 *     fail P percent of its tasks' allocations (task-filter: never init's);
 *  5. prints, per phase, "forkfix-stress-phase: <phase> start", the
 *     counters before and after as "forkfix-stress-count: <phase>
 *     <before|after> <name> <value>", the histograms as
 *     "forkfix-stress-hist: <phase> <before|after> <line>", stress-ng's
 *     output and YAML as "forkfix-stress-log:" and "forkfix-stress-yaml:"
 *     lines, and "forkfix-stress-phase: <phase> end status=exit:<code>|
 *     signal:<sig>|timeout seconds=<s>";
 *  6. kmemleak's report, "forkfix-stress-done", and reboots (QEMU runs
 *     with -no-reboot and exits).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-io.h"
#include "swap-setup.h"

#define PLAN		"/stress/plan"
#define EXT2_BLOCKS	"/stress/ext2.blocks"
#define EXT2_DEV	"/dev/ram1"
#define STRESS_DIR	"/stress-tmp"
#define STRESS_NG	"/usr/bin/stress-ng"
#define TRACING		"/sys/kernel/tracing"
#define MAX_ARGS	64
#define MAX_GROUPS	4
/* fault_attr's times: counted down by each failure it injects. */
#define FAULT_TIMES	1000000000L

static const char *const fault_dirs[] = {
	"/sys/kernel/debug/failslab",
	"/sys/kernel/debug/fail_page_alloc",
};

/* A file on the console, a line a record, each line prefixed. */
static void cat_prefixed(const char *path, const char *prefix, int max_lines)
{
	char line[800];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		out("%s (%s: %s)", prefix, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (++n > max_lines)
			continue;
		out("%s %s", prefix, line);
	}
	if (n > max_lines)
		out("%s (%d more lines)", prefix, n - max_lines);
	fclose(f);
}

static int put_loud(const char *path, const char *val)
{
	int len = strcspn(val, "\n");

	if (!put(path, val))
		return 0;
	say("FAIL writing '%.*s' to %s: %s", len, val, path, strerror(errno));
	if (!strncmp(path, TRACING, strlen(TRACING)))
		cat_prefixed(TRACING "/error_log", "forkfix: tracing error_log:", 10);
	return -1;
}

/*
 * The ext2 file system of /dev/ram1: the host's mke2fs made it; the file
 * holds its blocks that are not all zeroes (a RAM disk reads zeroes
 * elsewhere), each as a little-endian u64 offset, a u32 length and the
 * data.
 */
static int ext2_setup(void)
{
	static char buf[1 << 16];
	uint64_t off;
	uint32_t len;
	int in, dev, ret = -1;

	in = open(EXT2_BLOCKS, O_RDONLY);
	if (in < 0) {
		say("FAIL %s: %s", EXT2_BLOCKS, strerror(errno));
		return -1;
	}
	if (mknod(EXT2_DEV, S_IFBLK | 0600, makedev(1, 1)) && errno != EEXIST) {
		say("FAIL mknod %s: %s", EXT2_DEV, strerror(errno));
		close(in);
		return -1;
	}
	dev = open(EXT2_DEV, O_WRONLY);
	if (dev < 0) {
		say("FAIL %s: %s", EXT2_DEV, strerror(errno));
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = read(in, &off, sizeof(off));

		if (n == 0) {
			ret = 0;
			break;
		}
		if (n != sizeof(off) || read(in, &len, sizeof(len)) != sizeof(len) ||
		    len > sizeof(buf) || read(in, buf, len) != (ssize_t)len) {
			say("FAIL %s is cut short", EXT2_BLOCKS);
			break;
		}
		if (pwrite(dev, buf, len, off) != (ssize_t)len) {
			say("FAIL writing %s at %llu: %s", EXT2_DEV, (unsigned long long)off,
			    strerror(errno));
			break;
		}
	}
	if (fsync(dev) && !ret) {
		say("FAIL fsync %s: %s", EXT2_DEV, strerror(errno));
		ret = -1;
	}
	close(dev);
	close(in);
	if (ret)
		return ret;
	mkdir(STRESS_DIR, 01777);
	if (mount(EXT2_DEV, STRESS_DIR, "ext2", 0, NULL)) {
		say("FAIL mount ext2 %s on %s: %s", EXT2_DEV, STRESS_DIR, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The kretprobes and their histograms.  A trigger's own filter picks
 * stress-ng's tasks: the event's filter would only stop the recording.
 * 256 instances: a task sleeps in copy_process() (page allocations,
 * locks), and a return that finds no free instance is missed (counted in
 * kprobe_profile, which the host reads).
 */
static int probes_setup(void)
{
	static const char trig[] = TRACING "/events/forkfix/%s/trigger";
	char path[256];

	if (put_loud(TRACING "/kprobe_events",
		     "r256:forkfix/copy_process copy_process ret=$retval:s64\n"))
		return -1;
	snprintf(path, sizeof(path), trig, "copy_process");
	if (put_loud(path, "hist:keys=common_cpu:size=128 if comm ~ \"stress-ng*\"\n") ||
	    put_loud(path, "hist:keys=ret:size=256 if comm ~ \"stress-ng*\" && ret < 0 && ret >= -4095\n"))
		return -1;
	/*
	 * dup_mmap() is out of line in every tree we test (6.12.y's test
	 * patches make it visible to KUnit; mainline has it in mm/mmap.c): a
	 * probe that cannot be placed is a failure of the run.
	 */
	if (put_loud(TRACING "/kprobe_events",
		     "r256:forkfix/dup_mmap dup_mmap ret=$retval:s32\n"))
		return -1;
	snprintf(path, sizeof(path), trig, "dup_mmap");
	if (put_loud(path, "hist:keys=common_cpu:size=128 if comm ~ \"stress-ng*\"\n") ||
	    put_loud(path, "hist:keys=ret:size=256 if comm ~ \"stress-ng*\" && ret != 0\n"))
		return -1;
	return 0;
}

/* Fault injection, off (probability 0), for tasks that ask for it only. */
static int faults_setup(void)
{
	char path[128], times[32];
	size_t i;
	int bad = 0;

	snprintf(times, sizeof(times), "%ld", FAULT_TIMES);
	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
#define FA(file, val)								\
		do {								\
			snprintf(path, sizeof(path), "%s/%s", fault_dirs[i], file); \
			bad |= put_loud(path, val);				\
		} while (0)
		FA("probability", "0");
		FA("interval", "1");
		FA("times", times);
		FA("space", "0");
		FA("verbose", "0");
		FA("task-filter", "Y");
		FA("ignore-gfp-wait", "N");
#undef FA
	}
	/*
	 * User pages never fail: a fault whose page fails returns
	 * VM_FAULT_OOM ("Huh VM_FAULT_OOM leaked"); page tables, slab and
	 * everything fork allocates are not highmem and stay in play.
	 */
	bad |= put_loud("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "Y");
	bad |= put_loud("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	return bad ? -1 : 0;
}

static void faults_probability(const char *p)
{
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/probability", fault_dirs[i]);
		put_loud(path, p);
	}
}

static void counters(const char *phase, const char *when)
{
	char buf[256], prefix[96], path[160];
	FILE *f;
	size_t i;

	f = fopen("/proc/stat", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "processes ", 10))
			out("forkfix-stress-count: %s %s processes %s", phase, when,
			    strtok(buf + 10, "\n"));
	if (f)
		fclose(f);
	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/times", fault_dirs[i]);
		get(path, buf, sizeof(buf));
		out("forkfix-stress-count: %s %s %s_times %s", phase, when,
		    strrchr(fault_dirs[i], '/') + 1, buf);
	}
	snprintf(prefix, sizeof(prefix), "forkfix-stress-hist: %s %s copy_process", phase, when);
	cat_prefixed(TRACING "/events/forkfix/copy_process/hist", prefix, 400);
	snprintf(prefix, sizeof(prefix), "forkfix-stress-hist: %s %s dup_mmap", phase, when);
	cat_prefixed(TRACING "/events/forkfix/dup_mmap/hist", prefix, 400);
	snprintf(prefix, sizeof(prefix), "forkfix-stress-profile: %s %s", phase, when);
	cat_prefixed(TRACING "/kprobe_profile", prefix, 20);
}

/*
 * What a run may leave behind outside its process group: tasks that still
 * carry make-it-fail (they would fail allocations, and be counted, in the
 * next run) are killed; swap files still on are turned off.  Both counts
 * are printed.
 */
static void leftovers(const char *phase)
{
	char path[300], val[16], line[512], file[256];
	int tasks = 0, swaps = 0;
	struct dirent *d;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	while (proc && (d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9' || atoi(d->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/make-it-fail", d->d_name);
		get(path, val, sizeof(val));
		if (strcmp(val, "1"))
			continue;
		kill(atoi(d->d_name), SIGKILL);
		tasks++;
	}
	if (proc)
		closedir(proc);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	f = fopen("/proc/swaps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s", file) != 1 || file[0] != '/' || !strcmp(file, SWAP_DEV))
			continue;
		if (swapoff(file))
			say("swapoff %s after %s: %s", file, phase, strerror(errno));
		swaps++;
	}
	if (f)
		fclose(f);
	out("forkfix-stress-count: %s after leftover_tasks %d", phase, tasks);
	out("forkfix-stress-count: %s after leftover_swaps %d", phase, swaps);
}

/*
 * Failures start once stress-ng has loaded and forked its stressors (they
 * inherit make-it-fail whenever they fork): a failed exec or library load
 * would say nothing of fork.
 */
static const char *inject_probability;
static int injecting;

static void inject_tick(double elapsed)
{
	if (inject_probability && !injecting && elapsed > 5) {
		faults_probability(inject_probability);
		injecting = 1;
	}
}

/*
 * One run of stress-ng: in a process group of its own, output to a file,
 * killed with its group if it outlives @seconds plus two minutes.  The
 * phase's name is the file name of its output.
 */
static void run_phase(const char *phase, char **argv, int seconds, const char *probability)
{
	double start, limit = seconds + 120;
	char logfile[64], yaml[64], result[32];
	pid_t child;
	int status;

	snprintf(logfile, sizeof(logfile), "/tmp/%s.log", phase);
	snprintf(yaml, sizeof(yaml), "/tmp/%s.yaml", phase);
	counters(phase, "before");
	out("forkfix-stress-phase: %s start", phase);
	start = now();
	child = fork();
	if (child < 0) {
		say("FAIL fork for stress-ng: %s", strerror(errno));
		return;
	}
	if (child == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char **a;
		int n;

		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		for (n = 0; argv[n]; n++)
			;
		a = calloc(n + 7, sizeof(*a));
		if (!a || chdir(STRESS_DIR))
			_exit(126);
		memcpy(a, argv, n * sizeof(*a));
		a[n++] = "--yaml";
		a[n++] = yaml;
		a[n++] = "--temp-path";
		a[n++] = STRESS_DIR;
		a[n] = NULL;
		if (probability && put("/proc/self/make-it-fail", "1")) {
			printf("forkfix: make-it-fail: %s\n", strerror(errno));
			_exit(126);
		}
		execv(STRESS_NG, a);
		printf("forkfix: exec %s: %s\n", STRESS_NG, strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	inject_probability = probability;
	injecting = 0;
	status = wait_group(child, start, limit, inject_tick, result, sizeof(result));
	if (injecting)
		faults_probability("0");
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) >= 126)
		say("FAIL stress-ng did not start in %s (exit %d; its log follows)", phase,
		    WEXITSTATUS(status));
	leftovers(phase);
	{
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "forkfix-stress-log: %s", phase);
		cat_prefixed(logfile, prefix, 300);
		snprintf(prefix, sizeof(prefix), "forkfix-stress-yaml: %s", phase);
		cat_prefixed(yaml, prefix, 400);
	}
	counters(phase, "after");
	out("forkfix-stress-phase: %s end status=%s seconds=%.1f", phase, result, now() - start);
}

int main(void)
{
	static const char *const mounts[][2] = {
		{ "proc", "/proc" }, { "sysfs", "/sys" }, { "debugfs", "/sys/kernel/debug" },
		{ "tracefs", TRACING }, { "devtmpfs", "/dev" }, { "tmpfs", "/tmp" },
	};
	static char lines[MAX_ARGS][256];
	static char *argv[MAX_GROUPS][MAX_ARGS + 2];
	char line[256], probability[16] = "", phase[64], *groups[MAX_GROUPS];
	int argc[MAX_GROUPS] = { 0 }, nr_groups = 0, nr_lines = 0, seconds = 0, ok = 1, g;
	const char *what;
	size_t i;
	FILE *plan;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
		if (mount(mounts[i][0], mounts[i][1], mounts[i][0], 0, NULL)) {
			say("FAIL mount %s on %s: %s", mounts[i][0], mounts[i][1], strerror(errno));
			ok = 0;
		}
	out_fd = kmsg_open();
	if (out_fd < 0) {
		out_fd = 1;
		say("no /dev/kmsg (%s): markers may be cut by kernel messages", strerror(errno));
	}
	if (swap_setup(&what)) {
		say("FAIL %s: %s", what, strerror(errno));
		ok = 0;
	}
	if (ext2_setup() || probes_setup() || faults_setup())
		ok = 0;
	put("/sys/kernel/mm/ksm/run", "1");
	plan = fopen(PLAN, "r");
	if (!plan) {
		say("FAIL %s: %s", PLAN, strerror(errno));
		ok = 0;
	}
	while (plan && fgets(line, sizeof(line), plan)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "seconds ", 8)) {
			seconds = atoi(line + 8);
			continue;
		}
		if (!strncmp(line, "probability ", 12)) {
			snprintf(probability, sizeof(probability), "%d", atoi(line + 12));
			continue;
		}
		if (nr_lines == MAX_ARGS || (strncmp(line, "group ", 6) && strncmp(line, "arg ", 4)) ||
		    (!strncmp(line, "group ", 6) && nr_groups == MAX_GROUPS) ||
		    (!strncmp(line, "arg ", 4) && (!nr_groups || argc[nr_groups - 1] == MAX_ARGS))) {
			say("FAIL bad plan line '%s'", line);
			ok = 0;
			continue;
		}
		snprintf(lines[nr_lines], sizeof(lines[nr_lines]), "%s", strchr(line, ' ') + 1);
		if (line[0] == 'g') {
			g = nr_groups++;
			groups[g] = lines[nr_lines];
			argv[g][argc[g]++] = STRESS_NG;
		} else {
			g = nr_groups - 1;
			argv[g][argc[g]++] = lines[nr_lines];
		}
		nr_lines++;
	}
	if (plan)
		fclose(plan);
	if (seconds <= 0 || atoi(probability) <= 0 || !nr_groups) {
		say("FAIL %s gives no seconds, no probability or no group", PLAN);
		ok = 0;
	}
	say("stress: cpus %ld, swap %s, files on %s (ext2 on %s), %d groups of %d s a phase, %s%% of allocations failed in the second",
	    sysconf(_SC_NPROCESSORS_ONLN), SWAP_DEV, STRESS_DIR, EXT2_DEV, nr_groups, seconds,
	    probability);
	for (g = 0; ok && g < nr_groups; g++) {
		snprintf(phase, sizeof(phase), "clean-%s", groups[g]);
		run_phase(phase, argv[g], seconds, NULL);
	}
	for (g = 0; ok && g < nr_groups; g++) {
		snprintf(phase, sizeof(phase), "inject-%s", groups[g]);
		run_phase(phase, argv[g], seconds, probability);
	}
	kmemleak();
	say("forkfix-stress-done");
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
