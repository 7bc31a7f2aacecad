// SPDX-License-Identifier: GPL-2.0
/*
 * The parent of the fork sweeps: its regions, one or more per kind of VMA
 * (those of the KUnit suite and those of a distribution's mm: swapped,
 * userfaultfd, hugetlb, KSM, mlocked, mbind, uprobe), the pattern they hold
 * and its check, in the parent and in a child; the snapshot of what a failed
 * fork must leave as it was (smaps, numa_maps, pagemap, meminfo, KSM
 * counters, memcg charge) and its comparison.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "qemu-init.h"

const char *const kind_names[NR_KINDS] = {
	"anon", "neighbour", "shm-shared", "shm-private", "wipeonfork",
	"dontfork", "account", "thp", "far-anon", "many",
	"swapped", "uffd-missing", "uffd-wp", "hugetlb-private",
	"hugetlb-shared", "ksm", "mlocked", "mbind", "uprobe",
};

static const char *const meminfo_keys[] = {
	"HugePages_Free:", "HugePages_Rsvd:", "Committed_AS:", "SwapFree:",
};
static const char *const ksm_files[] = {
	"pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
	"ksm_zero_pages",
};

struct region regions[32 + NR_MANY];
int nr_regions;
char maps_before[65536];
size_t maps_before_len;
char maps_now[65536];

unsigned char pattern(const unsigned char *addr)
{
	uintptr_t a = (uintptr_t)addr;

	return (unsigned char)((a >> 12) * 31 + (a & 0xfff) * 7 + 1);
}

/*
 * The pattern of a page depends on its address only through the page
 * number modulo 256: whole pages are filled and checked with memcpy() and
 * memcmp() against one of 256 prepared pages (a byte loop over the 8 MiB
 * of the parent is most of a sweep point's time under TCG).
 */
static unsigned char pattern_pages[256][PAGE];
static unsigned char zero_page[PAGE];
static unsigned char constant_page[PAGE];

static const unsigned char *expected_page(const struct region *r, const unsigned char *addr,
					  int zero)
{
	size_t i;

	if (zero)
		return zero_page;
	if (r->constant) {
		if (constant_page[0] != r->constant)
			memset(constant_page, r->constant, PAGE);
		return constant_page;
	}
	if (!pattern_pages[0][0])
		for (i = 0; i < sizeof(pattern_pages); i++)
			pattern_pages[i / PAGE][i % PAGE] =
				pattern((const unsigned char *)(uintptr_t)i);
	return pattern_pages[((uintptr_t)addr / PAGE) % 256];
}

/* The next page of @r to fill or check after the one at @off. */
static size_t next_page(const struct region *r, size_t off)
{
	return r->step ? off + r->step : off + PAGE;
}

static void fill(struct region *r)
{
	size_t off, len;

	for (off = 0; off < r->written; off = next_page(r, off)) {
		len = r->written - off < PAGE ? r->written - off : PAGE;
		memcpy(r->addr + off, expected_page(r, r->addr + off, 0), len);
	}
}

/* Offset of the first byte of @r that differs from what it should hold. */
static long check(const struct region *r, int zero)
{
	const unsigned char *want;
	size_t off, len, i;

	for (off = 0; off < r->written; off = next_page(r, off)) {
		len = r->written - off < PAGE ? r->written - off : PAGE;
		want = expected_page(r, r->addr + off, zero);
		if (!memcmp(r->addr + off, want, len))
			continue;
		for (i = 0; i < len; i++)
			if (r->addr[off + i] != want[i])
				return (long)(off + i);
	}
	return -1;
}

static unsigned char *map_at(unsigned long addr, size_t len, int prot, int flags, int fd)
{
	void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);

	if (p == MAP_FAILED) {
		fail("mmap at %#lx: %s", addr, strerror(errno));
		return NULL;
	}
	return p;
}

/* Map a region; filled with the pattern unless @written is 0. */
static struct region *add(enum kind kind, unsigned long addr, size_t len, size_t written,
			  int flags, int fd, int advice)
{
	struct region *r = &regions[nr_regions];

	r->addr = map_at(addr, len, PROT_READ | PROT_WRITE, flags, fd);
	if (!r->addr)
		return NULL;
	if (advice >= 0 && madvise(r->addr, len, advice))
		fail("madvise(%d) at %#lx: %s", advice, addr, strerror(errno));
	r->kind = kind;
	r->len = len;
	r->written = written;
	r->constant = 0;
	/* A page of each huge page: reading 2 MiB each time costs the most. */
	r->step = flags & MAP_HUGETLB ? SZ_2M : 0;
	fill(r);
	nr_regions++;
	return r;
}

/* @field (e.g. "Swap:") of the VMA at @addr in the smaps text @smaps, in kB. */
long smaps_kb(const char *smaps, const void *addr, const char *field)
{
	char key[32];
	const char *p, *f, *next;

	snprintf(key, sizeof(key), "%lx-", (unsigned long)addr);
	for (p = smaps; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, strlen(key)))
			break;
	if (!p)
		return -1;
	/* The next VMA's header ends the block. */
	next = strstr(p, "VmFlags:");
	f = strstr(p, field);
	if (!f || (next && f > next))
		return -1;
	return strtol(f + strlen(field), NULL, 10);
}

static long self_smaps_kb(const void *addr, const char *field)
{
	static char buf[262144];

	if (read_file("/proc/self/smaps", buf, sizeof(buf)) >= sizeof(buf) - 1)
		fail("/proc/self/smaps is larger than %zu bytes", sizeof(buf));
	return smaps_kb(buf, addr, field);
}

/*
 * Let ksmd merge the region (its own smaps KSM: line, not the global
 * counters, which still count the pages of an exited sweep child), then
 * stop ksmd with the pages merged.
 */
static void ksm_merge(const struct region *r)
{
	long ksm = -1;
	int i;

	if (put(KSM "sleep_millisecs", "10") || put(KSM "pages_to_scan", "1000") ||
	    put(KSM "run", "1"))
		return;
	for (i = 0; i < 600; i++) {
		ksm = self_smaps_kb(r->addr, "KSM:");
		if (ksm == (long)(r->len / 1024))
			break;
		usleep(50000);
	}
	put(KSM "run", "0");
	if (ksm != (long)(r->len / 1024))
		fail("ksm: %ld kB of the region merged after 30 s, want %zu", ksm, r->len / 1024);
	else
		say("ksm: %ld kB merged, pages_sharing %ld", ksm, read_long(KSM "pages_sharing"));
}

static int mbind_node1(void *addr, size_t len)
{
	unsigned long mask = 1UL << 1;

	/* MPOL_BIND = 2; static glibc has no mbind(). */
	return (int)syscall(SYS_mbind, addr, len, 2, &mask, 8 * sizeof(mask), 0);
}

/* The line of /proc/self/numa_maps for @addr, or "" */
static const char *numa_line(const void *addr)
{
	static char buf[16384], line[512];
	char key[32], *p, *end;

	read_file("/proc/self/numa_maps", buf, sizeof(buf));
	snprintf(key, sizeof(key), "%lx ", (unsigned long)addr);
	line[0] = '\0';
	for (p = buf; p && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		if (!strncmp(p, key, strlen(key))) {
			snprintf(line, sizeof(line), "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
			break;
		}
	}
	return line;
}

/* Map the regions of one kind of the distribution's mm. */
void add_kind(enum kind kind)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	struct region *r;
	char want[32];

	switch (kind) {
	case SWAPPED:
		/* Paged out again before every fork (prepare_fork()). */
		add(SWAPPED, BASE + 8 * SLOT, 16 * PAGE, 16 * PAGE, anon, -1, -1);
		break;
	case UFFD_MISSING:
		/* Half filled; the last page stays missing for the probe. */
		r = add(UFFD_MISSING, BASE + 9 * SLOT, 16 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r)
			uffd_register(r, UFFDIO_REGISTER_MODE_MISSING);
		break;
	case UFFD_WP:
		r = add(UFFD_WP, BASE + 10 * SLOT, 8 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r && !uffd_register(r, UFFDIO_REGISTER_MODE_WP))
			uffd_protect(r->addr, r->len, 1);
		break;
	case HUGE_PRIVATE:
		add(HUGE_PRIVATE, BASE + 11 * SLOT, 2 * SZ_2M, 2 * SZ_2M,
		    anon | MAP_HUGETLB, -1, -1);
		break;
	case HUGE_SHARED:
		/* Reserves nothing; its first two huge pages are faulted in. */
		add(HUGE_SHARED, HUGE_SHARED_AT, SZ_1G, 2 * SZ_2M,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, -1);
		break;
	case KSM_MERGED:
		r = add(KSM_MERGED, BASE + 12 * SLOT, KSM_PAGES * PAGE, 0, anon, -1,
			MADV_MERGEABLE);
		if (!r)
			break;
		r->constant = 0x5a;
		r->written = r->len;
		fill(r);
		ksm_merge(r);
		break;
	case MLOCKED:
		r = add(MLOCKED, BASE + 13 * SLOT, 8 * PAGE, 8 * PAGE, anon, -1, -1);
		if (r && mlock(r->addr, r->len))
			fail("mlock: %s", strerror(errno));
		break;
	case MBIND:
		r = add(MBIND, BASE + 14 * SLOT, 8 * PAGE, 0, anon, -1, -1);
		if (!r)
			break;
		if (access("/sys/devices/system/node/node1", F_OK) ||
		    mbind_node1(r->addr, r->len)) {
			fail("mbind to node 1: %s", strerror(errno));
			break;
		}
		r->written = r->len;
		fill(r);
		snprintf(want, sizeof(want), "N1=%lu ", r->len / PAGE);
		if (!strstr(numa_line(r->addr), "bind:1") || !strstr(numa_line(r->addr), want))
			fail("mbind: numa_maps says '%s', want bind:1 and %s",
			     numa_line(r->addr), want);
		break;
	case UPROBE:
		/* The probe is on this program's text, in every process. */
		break;
	default:
		fail("internal: add_kind(%d)", kind);
	}
}

/* The parent: the VMA kinds of the KUnit suite, and enough for a deep tree. */
int build_parent(void)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	int i, before = failures, memfd = memfd_create("forkfix", 0);
	enum kind k;

	if (memfd < 0 || ftruncate(memfd, 1 << 20)) {
		fail("memfd: %s", strerror(errno));
		return -1;
	}
	add(ANON, BASE, 16 * PAGE, 16 * PAGE, anon, -1, -1);
	/* Same page table as ANON; the hole keeps the two apart. */
	add(NEIGHBOUR, BASE + 24 * PAGE, 4 * PAGE, 4 * PAGE, anon, -1, -1);
	add(SHM_SHARED, BASE + 1 * SLOT, 4 * PAGE, 4 * PAGE, MAP_SHARED, memfd, -1);
	add(SHM_PRIVATE, BASE + 2 * SLOT, 4 * PAGE, 4 * PAGE, MAP_PRIVATE, memfd, -1);
	add(WIPEONFORK, BASE + 3 * SLOT, 4 * PAGE, 4 * PAGE, anon, -1, MADV_WIPEONFORK);
	add(DONTFORK, BASE + 4 * SLOT, 4 * PAGE, 4 * PAGE, anon, -1, MADV_DONTFORK);
	add(ACCOUNT, BASE + 5 * SLOT, 64UL << 20, PAGE, anon, -1, -1);
	add(THP, BASE + 6 * SLOT, SZ_2M, SZ_2M, anon, -1, MADV_HUGEPAGE);
	add(FAR_ANON, FAR, 4 * PAGE, 4 * PAGE, anon, -1, -1);
	/* Read-only and writable pages in turn, so that they never merge. */
	for (i = 0; i < NR_MANY; i++) {
		unsigned long addr = BASE + 7 * SLOT + i * PAGE;

		add(MANY, addr, PAGE, PAGE, anon, -1, -1);
		if (i % 2 && mprotect((void *)addr, PAGE, PROT_READ))
			fail("mprotect at %#lx: %s", addr, strerror(errno));
	}
	close(memfd);
	arch_dup_setup();
	/* A THP that fell back to small pages would be collapsed mid-sweep. */
	if (self_smaps_kb((void *)(BASE + 6 * SLOT), "AnonHugePages:") != (long)(SZ_2M / 1024))
		fail("the THP region is not one huge page (AnonHugePages %ld kB)",
		     self_smaps_kb((void *)(BASE + 6 * SLOT), "AnonHugePages:"));
	for (k = FIRST_DISTRO_KIND; k < NR_KINDS; k++)
		add_kind(k);
	return failures != before ? -1 : 0;
}

/* In the child of a fork that succeeded: is the copy right? */
int child_check(void)
{
	int i, bad = 0;

	for (i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (r->kind == DONTFORK)
			continue;	/* not copied: touching it would fault */
		if (check(r, r->kind == WIPEONFORK) >= 0)
			bad++;
	}
	return bad ? 1 : 0;
}

/*
 * Keep the blocks (smaps) or lines (numa_maps) of @in whose start address
 * is in our regions, [FAR, OURS_END), or with @all every line, without the
 * lines starting with @skip (the accessed bits behind smaps' Referenced:
 * are the hardware's).
 */
static size_t ours(const char *in, char *out, size_t size, const char *skip, int all)
{
	const char *p, *end;
	unsigned long start;
	size_t len = 0, n;
	int keep = all;
	char c;

	for (p = in; *p; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			break;
		if (!all && sscanf(p, "%lx%c", &start, &c) == 2 && (c == '-' || c == ' '))
			keep = start >= FAR && start < OURS_END;
		if (!keep || (skip && !strncmp(p, skip, strlen(skip))))
			continue;
		n = end + 1 - p;
		if (len + n >= size)
			break;
		memcpy(out + len, p, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

/*
 * The pagemap entries of the pages of our regions (those written, at
 * least the first 64 of each): present, swapped, exclusively mapped, file
 * or shared, uffd write-protected, the swap entry; not the page frame
 * number, which compaction may change.
 */
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/*
 * /proc/self/pagemap of this process: a descriptor inherited across fork()
 * would still read the page tables of the process that opened it.
 */
static int pagemap_fd(void)
{
	static int fd = -1;
	static pid_t owner;

	if (fd >= 0 && owner != getpid()) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		owner = getpid();
		if (fd < 0)
			fail("/proc/self/pagemap: %s", strerror(errno));
	}
	return fd;
}

static size_t pagemap_snapshot(uint64_t *out, size_t max)
{
	int fd = pagemap_fd();
	size_t n = 0, pages;
	ssize_t got;
	int i;

	for (i = 0; i < nr_regions && fd >= 0; i++) {
		const struct region *r = &regions[i];

		pages = (r->written > 64 * PAGE ? r->written : 64 * PAGE) / PAGE;
		if (pages > r->len / PAGE)
			pages = r->len / PAGE;
		if (n + pages > max) {
			fail("internal: pagemap snapshot larger than %zu pages", max);
			break;
		}
		got = pread(fd, out + n, pages * 8, (off_t)((uintptr_t)r->addr / PAGE * 8));
		if (got != (ssize_t)(pages * 8)) {
			fail("pagemap at %p: %s", r->addr, strerror(errno));
			break;
		}
		for (; pages; pages--, n++)
			if (out[n] & PM_PRESENT)
				out[n] &= ~PM_PFN_MASK;
	}
	return n;
}

/*
 * @detail: smaps and numa_maps of each of our VMAs (the kind sweeps, whose
 * parent has a few); otherwise the pagemap entries of our regions (the
 * sweep of the whole parent: reading every VMA's smaps twice a point would
 * make it five times slower under TCG and KASAN, and smaps_rollup counts
 * the pages of init's own text and stack as they are first touched).
 */
void take_snapshot(struct snapshot *s, int detail)
{
	static char buf[262144];
	const char *p;
	size_t i;

	if (detail) {
		read_file("/proc/self/smaps", buf, sizeof(buf));
		s->smaps_len = ours(buf, s->smaps, sizeof(s->smaps), "Referenced:", 0);
		read_file("/proc/self/numa_maps", buf, sizeof(buf));
		s->numa_len = ours(buf, s->numa, sizeof(s->numa), NULL, 0);
		s->pagemap_len = 0;
	} else {
		s->smaps_len = 0;
		s->smaps[0] = '\0';
		s->numa_len = 0;
		s->numa[0] = '\0';
		s->pagemap_len = pagemap_snapshot(s->pagemap,
						  sizeof(s->pagemap) / sizeof(s->pagemap[0]));
	}
	read_file("/proc/meminfo", buf, sizeof(buf));
	for (i = 0; i < sizeof(meminfo_keys) / sizeof(meminfo_keys[0]); i++) {
		p = strstr(buf, meminfo_keys[i]);
		s->meminfo[i] = p ? strtol(p + strlen(meminfo_keys[i]), NULL, 10) : -1;
	}
	for (i = 0; i < sizeof(ksm_files) / sizeof(ksm_files[0]); i++) {
		snprintf(buf, sizeof(buf), KSM "%s", ksm_files[i]);
		s->ksm[i] = read_long(buf);
	}
	s->memcg = read_long(MEMCG "/memory.current");
	s->uffd_forks = counter(&uffd_forks);
}

/* The first line where two texts differ, for the report. */
static void first_difference(const char *what, int n, const char *a, const char *b)
{
	size_t i = 0, start = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			start = i + 1;
		i++;
	}
	fail("fork-sweep: point %d: the parent's %s changed: '%.*s' became '%.*s'", n, what,
	     (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"), b + start);
}

/* Are all the pages of @r in swap?  (pagemap bit 62) */
int all_swapped(const struct region *r)
{
	static uint64_t pm[64];
	int fd = pagemap_fd();
	size_t i, pages = r->len / PAGE;

	if (fd < 0 || pages > 64 || pread(fd, pm, pages * 8, (off_t)((uintptr_t)r->addr / PAGE * 8)) !=
			  (ssize_t)(pages * 8))
		return 0;
	for (i = 0; i < pages; i++)
		if (!(pm[i] & (1ULL << 62)))
			return 0;
	return 1;
}

static long memcg_moved;
long memcg_max_moved;

/* After a failed fork: the state of the snapshot as before it. */
void compare_snapshots(int n, const struct snapshot *was, struct snapshot *is)
{
	long memcg;
	size_t i;
	int tries;

	if (was->smaps_len != is->smaps_len || memcmp(was->smaps, is->smaps, is->smaps_len))
		first_difference("smaps", n, was->smaps, is->smaps);
	if (was->numa_len != is->numa_len || memcmp(was->numa, is->numa, is->numa_len))
		first_difference("numa_maps", n, was->numa, is->numa);
	/* A page of ours caught in migration shows a migration entry: again. */
	for (tries = 0; tries < 3 && is->pagemap_len == was->pagemap_len &&
	     memcmp(is->pagemap, was->pagemap, is->pagemap_len * sizeof(is->pagemap[0])); tries++) {
		usleep(100000);
		is->pagemap_len = pagemap_snapshot(is->pagemap,
						   sizeof(is->pagemap) / sizeof(is->pagemap[0]));
	}
	if (was->pagemap_len != is->pagemap_len)
		fail("fork-sweep: point %d: pagemap snapshot of %zu pages, was %zu", n,
		     is->pagemap_len, was->pagemap_len);
	for (i = 0; i < is->pagemap_len && i < was->pagemap_len; i++)
		if (was->pagemap[i] != is->pagemap[i]) {
			fail("fork-sweep: point %d: pagemap entry %zu of our regions %#llx, was %#llx",
			     n, i, (unsigned long long)is->pagemap[i],
			     (unsigned long long)was->pagemap[i]);
			break;
		}
	for (i = 0; i < sizeof(meminfo_keys) / sizeof(meminfo_keys[0]); i++)
		if (was->meminfo[i] != is->meminfo[i])
			fail("fork-sweep: point %d: /proc/meminfo %s %ld, was %ld", n,
			     meminfo_keys[i], is->meminfo[i], was->meminfo[i]);
	for (i = 0; i < sizeof(ksm_files) / sizeof(ksm_files[0]); i++)
		if (was->ksm[i] != is->ksm[i] || is->ksm[i] < 0)
			fail("fork-sweep: point %d: ksm %s %ld, was %ld", n, ksm_files[i],
			     is->ksm[i], was->ksm[i]);
	memcg_moved = labs(is->memcg - was->memcg);
	if (memcg_moved > memcg_max_moved)
		memcg_max_moved = memcg_moved;
	/*
	 * Growth only: a drop is the RCU-freed memory of earlier children.
	 * Growth past the slack gets up to 5 s to settle before it counts.
	 */
	memcg = is->memcg;
	for (tries = 0; tries < 25 && memcg - was->memcg > (long)MEMCG_SLACK; tries++) {
		usleep(200000);
		memcg = read_long(MEMCG "/memory.current");
	}
	if (was->memcg < 0 || memcg - was->memcg > (long)MEMCG_SLACK)
		fail("fork-sweep: point %d: memory.current %ld, was %ld (slack %lu)", n,
		     memcg, was->memcg, MEMCG_SLACK);
}

/* In the parent after a failed fork: memory and maps as before. */
void parent_check(int n)
{
	size_t len;
	long off;
	int i;

	for (i = 0; i < nr_regions; i++) {
		off = check(&regions[i], 0);
		if (off >= 0)
			fail("fork-sweep: point %d: parent region %d (%s) differs at +%ld",
			     n, i, kind_names[regions[i].kind], off);
	}
	len = read_file("/proc/self/maps", maps_now, sizeof(maps_now));
	if (len != maps_before_len || memcmp(maps_now, maps_before, len))
		fail("fork-sweep: point %d: the parent's /proc/self/maps changed", n);
}

/* Right before every fork: the swapped kind goes back to swap. */
void prepare_fork(void)
{
	int i;

	for (i = 0; i < nr_regions; i++)
		if (regions[i].kind == SWAPPED &&
		    madvise(regions[i].addr, regions[i].len, MADV_PAGEOUT))
			fail("MADV_PAGEOUT: %s", strerror(errno));
}
