// SPDX-License-Identifier: GPL-2.0
/*
 * The probes of qemu-init, through tracefs: a uprobe on a function of this
 * program's text (a breakpoint page that fork copies), and on x86_64 an LDT
 * for the whole parent, copied after the last VMA, with a return probe on
 * ldt_dup_context() that counts the copies that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __x86_64__
#include <asm/ldt.h>
#endif

#include "qemu-init.h"

/* --- uprobe on a function of this program, through tracefs --- */

int uprobe_on;

__attribute__((noinline)) int uprobe_target(int x)
{
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x + 1;
}

static long uprobe_hits(void)
{
	static char buf[4096];
	char *p, *end;

	read_file(TRACING "/uprobe_profile", buf, sizeof(buf));
	p = strstr(buf, " target ");
	if (!p)
		return -1;
	end = strchr(p, '\n');
	if (end)
		*end = '\0';
	p = strrchr(p, ' ');
	return p ? strtol(p, NULL, 10) : -1;
}

/* The probe in this program's text still fires (it hit once already). */
void uprobe_probe(const char *what)
{
	long before;

	if (!uprobe_on)
		return;
	before = uprobe_hits();
	if (uprobe_target((int)before) != before + 1 || uprobe_hits() != before + 1)
		fail("%s: the uprobe on the parent's text did not fire (hits %ld, then %ld)",
		     what, before, uprobe_hits());
}

/*
 * A uprobe on uprobe_target() of /init: the text page of every process
 * running it gets a breakpoint (an anonymous copy of the page in the file's
 * text mapping), which fork copies.
 */
void uprobe_setup(void)
{
	unsigned long addr = (unsigned long)uprobe_target, start, end, off;
	char line[256];
	long hits;
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!maps) {
		fail("uprobe: /proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &off) == 3 &&
		    addr >= start && addr < end) {
			found = 1;
			break;
		}
	fclose(maps);
	if (!found) {
		fail("uprobe: uprobe_target() not in /proc/self/maps");
		return;
	}
	mkdir(TRACING, 0755);
	if (mount("tracefs", TRACING, "tracefs", 0, NULL)) {
		fail("mount tracefs: %s", strerror(errno));
		return;
	}
	snprintf(line, sizeof(line), "p:forkfix/target /init:%#lx", addr - start + off);
	if (put(TRACING "/uprobe_events", line) ||
	    put(TRACING "/events/forkfix/target/enable", "1"))
		return;
	uprobe_on = 1;
	uprobe_target(0);
	hits = uprobe_hits();
	say("uprobe %s at /init:%#lx", hits == 1 ? "fires" : "did not fire", addr - start + off);
	if (hits != 1) {
		fail("uprobe: no hit after the first call (%ld)", hits);
		uprobe_on = 0;
	}
}

/* --- A copy that fails after the last VMA (x86_64) --- */

#define ARCH_DUP_TRACE	TRACING "/instances/forkfix"
int arch_dup_on;

/*
 * x86_64: give the whole parent an LDT.  fork() copies it in
 * arch_dup_mmap(), after the loop over the VMAs, so an injected failure
 * there tears down a child with every VMA copied and no stop VMA.  A
 * return probe on ldt_dup_context(), filtered on a non-zero return and
 * traced in an instance of its own, counts those failures.
 */
void arch_dup_setup(void)
{
#ifdef __x86_64__
	struct user_desc desc = {
		.entry_number = 0,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.limit_in_pages = 1,
		.useable = 1,
	};

	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc))) {
		fail("modify_ldt: %s", strerror(errno));
		return;
	}
	if (mkdir(ARCH_DUP_TRACE, 0755) && errno != EEXIST) {
		fail("mkdir " ARCH_DUP_TRACE ": %s", strerror(errno));
		return;
	}
	if (put(TRACING "/kprobe_events", "r:forkfix/ldt_dup ldt_dup_context ret=$retval") ||
	    put(ARCH_DUP_TRACE "/events/forkfix/ldt_dup/filter", "ret != 0") ||
	    put(ARCH_DUP_TRACE "/events/forkfix/ldt_dup/enable", "1"))
		return;
	arch_dup_on = 1;
#endif
}

/* The failed copies of the LDT traced so far; -1 without the probe. */
long arch_dup_failed(void)
{
	static char buf[1 << 16];
	const char *p = buf;
	long n = 0;

	if (!arch_dup_on)
		return -1;
	if (!read_file(ARCH_DUP_TRACE "/trace", buf, sizeof(buf)))
		return -1;
	while ((p = strstr(p, " ldt_dup: ")) != NULL) {
		n++;
		p++;
	}
	return n;
}
