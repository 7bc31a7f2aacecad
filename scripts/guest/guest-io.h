/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guests of the suites we did not write (selftests-init,
 * stress-init) share: their lines on the kernel's log, small file reads
 * and writes, the clock, the end of a process group, kmemleak's report.
 */
#ifndef FORKFIX_GUEST_IO_H
#define FORKFIX_GUEST_IO_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmsg-out.h"

/*
 * Our lines go to the kernel's log, a record each (kmsg-out.h), after what
 * the tests wrote to the console has gone out: tcdrain() waits for the
 * tty's output to be sent, so a marker comes after its test's output.
 */
static int out_fd = 1;

static inline void out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	fflush(stdout);
	tcdrain(1);
	emit_lines(out_fd, line, len);
}

#define say(fmt, ...) out("forkfix: " fmt, ##__VA_ARGS__)

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, val, strlen(val));
		close(fd);
	}
	return n < 0 ? -1 : 0;
}

/* The first line of a file, without its newline; "" if unreadable. */
static inline void get(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Wait for @child, the leader of a process group of its own, for up to
 * @seconds, calling @tick (unless NULL) with the time since @start about
 * every 50 ms; kill what is left of the group at the end (its members that
 * outlive it are re-parented to us, PID 1, and reaped here, as are orphans
 * of earlier runs) and write how it ended into @result: "exit:<code>",
 * "signal:<sig>" or "timeout".  Returns the wait status, -1 on time-out.
 */
static inline int wait_group(pid_t child, double start, double seconds,
			     void (*tick)(double elapsed), char *result, size_t size)
{
	int status = 0, timed_out = 0;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == child)
			break;
		if (pid > 0)
			continue;
		if (tick)
			tick(now() - start);
		if (now() - start > seconds) {
			/* It may have exited since the last look. */
			if (waitpid(child, &status, WNOHANG) == child)
				break;
			timed_out = 1;
			kill(-child, SIGKILL);
			waitpid(child, &status, 0);
			break;
		}
		usleep(50000);
	}
	while (kill(-child, SIGKILL) == 0)
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			break;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (timed_out)
		snprintf(result, size, "timeout");
	else if (WIFEXITED(status))
		snprintf(result, size, "exit:%d", WEXITSTATUS(status));
	else
		snprintf(result, size, "signal:%d", WTERMSIG(status));
	return timed_out ? -1 : status;
}

/*
 * Two kmemleak scans, 6 s apart (an object must be seen unreferenced
 * twice, and be older than 5 s), its
 * report on the console, "forkfix: kmemleak objects=<n>"; returns n, or
 * -1 when kmemleak cannot scan.
 */
static inline long kmemleak(void)
{
	char buf[4096];
	long objects = 0;
	ssize_t len;
	char *p;
	int fd;

	/*
	 * kmemleak reports no object younger than 5 s: the first scan sees
	 * what the last phase left, the second, 6 s on, may report it.
	 */
	if (put("/sys/kernel/debug/kmemleak", "scan")) {
		say("kmemleak: no scan (%s)", strerror(errno));
		return -1;
	}
	sleep(6);
	if (put("/sys/kernel/debug/kmemleak", "scan")) {
		say("kmemleak: no scan (%s)", strerror(errno));
		return -1;
	}
	fd = open("/sys/kernel/debug/kmemleak", O_RDONLY);
	while (fd >= 0 && (len = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[len] = '\0';
		emit_lines(out_fd, buf, len);
		for (p = buf; (p = strstr(p, "unreferenced object")); p++)
			objects++;
	}
	if (fd >= 0)
		close(fd);
	say("kmemleak objects=%ld", objects);
	return objects;
}

#endif
