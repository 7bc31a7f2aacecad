// SPDX-License-Identifier: GPL-2.0
/*
 * qemu-init's output and small file helpers: every line for the host goes
 * out as "forkfix: ..." in one write() (a printk record of its own, see
 * kmsg-out.h), a failed check as "forkfix: FAIL ..." counted in failures;
 * reading and writing the small files of procfs, sysfs and debugfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmsg-out.h"
#include "qemu-init.h"

int failures;

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

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	va_start(ap, fmt);
	vline("FAIL ", fmt, ap);
	va_end(ap);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int put(const char *path, const char *val)
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
long cat(const char *path)
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

size_t read_file(const char *path, char *buf, size_t size)
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

long read_long(const char *path)
{
	char buf[64];

	if (!read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}
