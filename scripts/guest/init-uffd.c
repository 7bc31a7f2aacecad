// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd: one descriptor per process, read by a monitor thread, which
 * resolves the faults of the parent's missing-mode and write-protect ranges
 * and takes the fork events; the probe that the parent's userfaultfd still
 * works after a failed fork.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "qemu-init.h"

int uffd = -1;
/* uffd_sync(): init asks through sync_req, the monitor answers on sync_ack. */
static int sync_req = -1, sync_ack = -1;
unsigned long uffd_forks;
static unsigned long uffd_missing, uffd_wp_faults, uffd_errors;

unsigned long counter(unsigned long *c)
{
	return __atomic_load_n(c, __ATOMIC_SEQ_CST);
}

static void bump(unsigned long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST);
}

/* One message of the userfaultfd; the counters move before the wake-up. */
static void uffd_handle(const struct uffd_msg *msg)
{
	static unsigned char src[PAGE] __attribute__((aligned(4096)));
	unsigned long a = msg->arg.pagefault.address & ~(PAGE - 1);
	size_t i;

	if (msg->event == UFFD_EVENT_FORK) {
		/* Unregisters the child's ranges, if its mm still exists. */
		close((int)msg->arg.fork.ufd);
		bump(&uffd_forks);
	} else if (msg->event != UFFD_EVENT_PAGEFAULT) {
		bump(&uffd_errors);
	} else if (msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
		struct uffdio_writeprotect wp = {
			.range = { .start = a, .len = PAGE },
			.mode = 0,
		};

		bump(&uffd_wp_faults);
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			bump(&uffd_errors);
	} else {
		struct uffdio_copy copy = {
			.dst = a, .src = (unsigned long)src, .len = PAGE,
		};

		for (i = 0; i < PAGE; i++)
			src[i] = pattern((unsigned char *)a + i);
		bump(&uffd_missing);
		if (ioctl(uffd, UFFDIO_COPY, &copy))
			bump(&uffd_errors);
	}
}

/*
 * Resolves the faults of the process's registered ranges (missing: a page
 * of the pattern; write-protect: write access given back) and takes the
 * fork events: a fork waits in the kernel until this thread has read its
 * event.  Messages first, then a sync request: by the time it answers one,
 * every message read before it has been handled.
 */
static void *uffd_monitor(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = uffd, .events = POLLIN },
		{ .fd = sync_req, .events = POLLIN },
	};
	struct uffd_msg msg;
	uint64_t one = 1, v;

	(void)arg;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (read(uffd, &msg, sizeof(msg)) == sizeof(msg)) {
			uffd_handle(&msg);
			continue;
		}
		if ((pfd[1].revents & POLLIN) && read(sync_req, &v, sizeof(v)) == sizeof(v) &&
		    write(sync_ack, &one, sizeof(one)) != sizeof(one))
			break;
	}
	bump(&uffd_errors);
	/* A fork waiting for its event would wait forever: release it. */
	close(uffd);
	return NULL;
}

/* Wait until the monitor has handled every message read so far. */
void uffd_sync(void)
{
	uint64_t one = 1, v;

	if (uffd < 0)
		return;
	if (write(sync_req, &one, sizeof(one)) != sizeof(one) ||
	    read(sync_ack, &v, sizeof(v)) != sizeof(v))
		fail("userfaultfd monitor: no answer: %s", strerror(errno));
}

static int uffd_setup(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	};
	pthread_attr_t attr;
	pthread_t thread;

	if (uffd >= 0)
		return 0;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		fail("userfaultfd with fork events and write-protect: %s", strerror(errno));
		return -1;
	}
	sync_req = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sync_ack = eventfd(0, EFD_CLOEXEC);
	if (sync_req < 0 || sync_ack < 0) {
		fail("eventfd: %s", strerror(errno));
		return -1;
	}
	/* A small stack: an 8 MiB one could take a transparent huge page. */
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 256 * 1024) ||
	    pthread_create(&thread, &attr, uffd_monitor, NULL)) {
		fail("userfaultfd monitor thread");
		return -1;
	}
	return 0;
}

int uffd_register(struct region *r, unsigned long mode)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)r->addr, .len = r->len },
		.mode = mode,
	};

	if (uffd_setup() || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		fail("UFFDIO_REGISTER mode %#lx at %p: %s", mode, r->addr, strerror(errno));
		return -1;
	}
	return 0;
}

int uffd_protect(void *addr, size_t len, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		fail("UFFDIO_WRITEPROTECT %d at %p: %s", on, addr, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The parent's userfaultfd still works: a missing page of the missing-mode
 * range (the last one, never filled) and a write to a write-protected page
 * each reach the monitor, which resolves them.  Both are put back as they
 * were afterwards.
 */
void uffd_probe(const char *what)
{
	volatile unsigned char *p;
	unsigned long before;
	int i;

	for (i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (r->kind == UFFD_MISSING) {
			p = r->addr + r->len - PAGE;
			before = counter(&uffd_missing);
			if (*p != pattern((const unsigned char *)p) ||
			    counter(&uffd_missing) != before + 1)
				fail("%s: a missing page of the parent was not resolved by its userfaultfd",
				     what);
			if (madvise((void *)p, PAGE, MADV_DONTNEED))
				fail("%s: MADV_DONTNEED: %s", what, strerror(errno));
		} else if (r->kind == UFFD_WP) {
			p = r->addr;
			before = counter(&uffd_wp_faults);
			*p = pattern((const unsigned char *)p);
			if (counter(&uffd_wp_faults) != before + 1)
				fail("%s: a write to a write-protected page of the parent did not reach its userfaultfd",
				     what);
			uffd_protect(r->addr, PAGE, 1);
		}
	}
	if (counter(&uffd_errors))
		fail("%s: %lu userfaultfd errors", what, counter(&uffd_errors));
}
