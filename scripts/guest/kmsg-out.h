/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest programs' output through the kernel's log: stdout becomes
 * /dev/kmsg, so that every line is a printk record of its own.  The serial
 * console prints a record whole, in the order it was logged; a line
 * written to the tty instead can be cut by a kernel message printed in the
 * middle of it (7.3's console printing runs in a thread of its own, after
 * the write that logged it has returned), and a marker line cut in two is
 * lost to the host's parser.  Userspace writes to /dev/kmsg are not rate
 * limited with printk_devkmsg=on; a record holds at most 1024 bytes.
 */
#ifndef FORKFIX_KMSG_OUT_H
#define FORKFIX_KMSG_OUT_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define KMSG_LINE_MAX	900

/*
 * Write @buf to @fd a line at a time (long lines in pieces), each with one
 * write(): one record each on /dev/kmsg.  Async-signal-safe.
 */
static inline void emit_lines(int fd, const char *buf, size_t len)
{
	size_t start = 0, end;

	while (start < len) {
		end = start;
		while (end < len && buf[end] != '\n' && end - start < KMSG_LINE_MAX)
			end++;
		if (end < len && buf[end] == '\n')
			end++;
		if (write(fd, buf + start, end - start) < 0 && errno != EINTR)
			return;
		start = end;
	}
}

/* /dev/kmsg for writing, printk_devkmsg=on; -1 with errno on failure. */
static inline int kmsg_open(void)
{
	int fd;

	/* No rate limit on userspace's records (the newline is required). */
	fd = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, "on\n", 3) != 3) {
		close(fd);
		return -1;
	}
	close(fd);
	if (mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11)) && errno != EEXIST)
		return -1;
	return open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

/* Make stdout /dev/kmsg; returns 0, or -1 with stdout left as it was. */
static inline int kmsg_stdout(void)
{
	int fd = kmsg_open();

	if (fd < 0)
		return -1;
	fflush(stdout);
	if (dup2(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

#endif
