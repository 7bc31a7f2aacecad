// SPDX-License-Identifier: GPL-2.0
/*
 * init of the guest of scripts/mm-selftests.sh: runs the kernel's own
 * tools/testing/selftests/mm binaries, built statically from the tree
 * under test, one after the other, the way run_vmtests.sh sets them up,
 * and reports each one's exit status on the console.  There is no shell:
 * each binary is run directly with the arguments of the plan.
 *
 *  1. mounts proc, sysfs, debugfs, devtmpfs and a tmpfs /tmp; swap on the
 *     brd RAM disk; the pool of huge pages the kernel command line asked
 *     for (hugepages=) is checked;
 *  2. reads /selftests/plan, one test a line:
 *       <seconds> <flags> <binary> [argument...]
 *     flags: "-" none, "h" drop caches and compact memory first (as
 *     run_vmtests.sh does for its hugetlb tests), "o" overcommit_memory 1
 *     while it runs (mremap_test maps 2 GiB of shmem at once);
 *  3. for each: prints "forkfix-selftest-start: <n> <binary> <args>", runs
 *     it from /selftests in a process group of its own, kills the group
 *     when the time is up, prints
 *       "forkfix-selftest: n=<n> name=<binary> status=exit:<code>|signal:<sig>|timeout seconds=<s>"
 *     and restores the knobs the tests change (THP, KSM, overcommit, the
 *     pool of huge pages) to their values at boot;
 *  4. asks kmemleak for a scan, prints "forkfix-selftests-done" and
 *     reboots (QEMU runs with -no-reboot and exits).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest-io.h"
#include "swap-setup.h"

#define DIR_TESTS	"/selftests"
#define PLAN		DIR_TESTS "/plan"
#define MAX_ARGS	16
#define MAX_KNOBS	64

/*
 * The knobs a test may leave changed when it dies (cow and ksm_tests put
 * theirs back only on a normal exit): their values at boot, written back
 * after every test.  THP's "[always] madvise never" files keep the word
 * in brackets.
 */
static struct knob {
	char path[320];
	char value[64];
} knobs[MAX_KNOBS];
static int nr_knobs;

static void knob_save(const char *path)
{
	struct knob *k;
	char *open_b, *close_b;

	if (nr_knobs == MAX_KNOBS || access(path, W_OK))
		return;
	k = &knobs[nr_knobs++];
	snprintf(k->path, sizeof(k->path), "%s", path);
	get(path, k->value, sizeof(k->value));
	open_b = strchr(k->value, '[');
	close_b = open_b ? strchr(open_b, ']') : NULL;
	if (open_b && close_b) {
		*close_b = '\0';
		memmove(k->value, open_b + 1, strlen(open_b + 1) + 1);
	}
}

static void knobs_save(void)
{
	static const char *const files[] = {
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/kernel/mm/transparent_hugepage/defrag",
		"/sys/kernel/mm/transparent_hugepage/shmem_enabled",
		"/sys/kernel/mm/transparent_hugepage/use_zero_page",
		"/sys/kernel/mm/transparent_hugepage/khugepaged/defrag",
		"/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none",
		"/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan",
		"/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs",
		"/sys/kernel/mm/ksm/run",
		"/sys/kernel/mm/ksm/sleep_millisecs",
		"/sys/kernel/mm/ksm/pages_to_scan",
		"/sys/kernel/mm/ksm/merge_across_nodes",
		"/sys/kernel/mm/ksm/use_zero_pages",
		"/sys/kernel/mm/ksm/max_page_sharing",
		"/proc/sys/vm/overcommit_memory",
		"/proc/sys/vm/nr_hugepages",
		"/proc/sys/vm/nr_overcommit_hugepages",
	};
	char path[320];
	struct dirent *d;
	DIR *dir;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		knob_save(files[i]);
	/* The sizes of multi-size THP, which cow goes through one by one. */
	dir = opendir("/sys/kernel/mm/transparent_hugepage");
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "hugepages-", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/%s/enabled",
			 d->d_name);
		knob_save(path);
	}
	if (dir)
		closedir(dir);
}

/* Write back what changed; returns how many knobs had to be restored. */
static int knobs_restore(void)
{
	char value[64], *open_b, *close_b;
	int i, restored = 0;

	for (i = 0; i < nr_knobs; i++) {
		get(knobs[i].path, value, sizeof(value));
		open_b = strchr(value, '[');
		close_b = open_b ? strchr(open_b, ']') : NULL;
		if (open_b && close_b) {
			*close_b = '\0';
			memmove(value, open_b + 1, strlen(open_b + 1) + 1);
		}
		if (!strcmp(value, knobs[i].value))
			continue;
		restored++;
		/* KSM's merge_across_nodes needs its pages unmerged first. */
		if (strstr(knobs[i].path, "merge_across_nodes"))
			put("/sys/kernel/mm/ksm/run", "2");
		if (put(knobs[i].path, knobs[i].value))
			say("could not restore %s to '%s' (it is '%s')", knobs[i].path,
			    knobs[i].value, value);
	}
	return restored;
}

static void compact(void)
{
	sync();
	put("/proc/sys/vm/drop_caches", "3");
	sleep(1);
	put("/proc/sys/vm/compact_memory", "1");
	sleep(1);
}

/*
 * Run one test: fork, exec in a process group of its own, wait up to
 * @seconds; the whole group is killed at the end: its huge pages and
 * locked memory are free before the knobs are put back and the next test
 * starts.
 */
static void run_one(int n, int seconds, char **argv)
{
	double start = now();
	char result[32];
	pid_t child;

	child = fork();
	if (child < 0) {
		say("fork for %s: %s", argv[0], strerror(errno));
		return;
	}
	if (child == 0) {
		char path[256];

		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		snprintf(path, sizeof(path), "./%s", argv[0]);
		execv(path, argv);
		printf("forkfix: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	wait_group(child, start, seconds, NULL, result, sizeof(result));
	out("forkfix-selftest: n=%d name=%s status=%s seconds=%.1f", n, argv[0], result,
	    now() - start);
}

int main(void)
{
	static const char *const mounts[][2] = {
		{ "proc", "/proc" }, { "sysfs", "/sys" }, { "debugfs", "/sys/kernel/debug" },
		{ "devtmpfs", "/dev" }, { "tmpfs", "/tmp" },
	};
	char line[512], args[600], *argv[MAX_ARGS + 1], *word, *save, *flags;
	size_t i;
	const char *what;
	int n = 0, argc, seconds, restored;
	FILE *plan;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
		if (mount(mounts[i][0], mounts[i][1], mounts[i][0], 0, NULL))
			say("FAIL mount %s on %s: %s", mounts[i][0], mounts[i][1], strerror(errno));
	out_fd = kmsg_open();
	if (out_fd < 0) {
		out_fd = 1;
		say("no /dev/kmsg (%s): markers may be cut by kernel messages", strerror(errno));
	}
	if (swap_setup(&what))
		say("FAIL %s: %s", what, strerror(errno));
	/* The console stays our stdout: devtmpfs replaced /dev. */
	knobs_save();
	get("/proc/sys/vm/nr_hugepages", line, sizeof(line));
	say("selftests: huge pages %s, cpus %ld, swap %s", line, sysconf(_SC_NPROCESSORS_ONLN),
	    SWAP_DEV);
	if (chdir(DIR_TESTS)) {
		say("FAIL chdir %s: %s", DIR_TESTS, strerror(errno));
		goto out;
	}
	plan = fopen(PLAN, "r");
	if (!plan) {
		say("FAIL %s: %s", PLAN, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), plan)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		word = strtok_r(line, " ", &save);
		seconds = word ? atoi(word) : 0;
		flags = strtok_r(NULL, " ", &save);
		argc = 0;
		while (argc < MAX_ARGS && (word = strtok_r(NULL, " ", &save)))
			argv[argc++] = word;
		argv[argc] = NULL;
		if (seconds <= 0 || !flags || !argc) {
			say("FAIL bad plan line %d", n + 1);
			continue;
		}
		n++;
		if (strchr(flags, 'h'))
			compact();
		if (strchr(flags, 'o'))
			put("/proc/sys/vm/overcommit_memory", "1");
		args[0] = '\0';
		for (argc = 0; argv[argc]; argc++)
			snprintf(args + strlen(args), sizeof(args) - strlen(args), " %s", argv[argc]);
		out("forkfix-selftest-start: %d%s", n, args);
		run_one(n, seconds, argv);
		restored = knobs_restore();
		if (restored)
			say("restored %d knobs after %s", restored, argv[0]);
	}
	fclose(plan);
	say("selftests run=%d", n);
	kmemleak();
out:
	say("forkfix-selftests-done");
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
