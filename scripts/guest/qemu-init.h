/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of qemu-init share: the address layout and paths, the
 * kinds of VMA, the regions and snapshots of the parent, and the globals
 * and functions one file defines and another uses.  See qemu-init.c for
 * which file holds what.
 */
#ifndef FORKFIX_QEMU_INIT_H
#define FORKFIX_QEMU_INIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
/* Fixed addresses: below 47 bits; BASE and FAR in different top-level tables. */
#define BASE		0x200000000000UL
#define FAR		0x010000000000UL
#define SLOT		0x10000000UL
#define NR_MANY		48
#define MAX_POINTS	20000
/* A shared hugetlb mapping over a whole PUD: PMD sharing. */
#define HUGE_SHARED_AT	(BASE + 64 * SLOT)
#define KSM_PAGES	32
/* Our regions, for the smaps and numa_maps checks: [FAR, OURS_END). */
#define OURS_END	(HUGE_SHARED_AT + SZ_1G)
#define DBG		"/sys/kernel/debug"
#define TRACING		"/sys/kernel/tracing"
#define KSM		"/sys/kernel/mm/ksm/"
#define MEMCG		"/sys/fs/cgroup/forkfix"
/* Init's memcg between the sweeps, and the one of each sweep: both in MEMCG. */
#define MEMCG_IDLE	MEMCG "/idle"
#define MEMCG_SWEEP	MEMCG "/sweep"
/* memory.max of MEMCG, over init and its sweeps. */
#define MEMCG_MAX	(256UL << 20)
/*
 * What a sweep's memcg may still hold, once it is gone and RCU has freed
 * what it held back, per fork that failed: half a page.  What per-CPU
 * caches keep of the sweep's tasks does not grow with the failed forks; a
 * page left by each does, and is past this.  A kind's sweep, with fewer
 * failed forks than the whole parent's, goes over its points KIND_PASSES
 * times, so that what stays in those caches is well under its bound.
 */
#define SWEEP_LEFT_PER_FAILED	(PAGE / 2)
#define KIND_PASSES	2
/*
 * x86_64: the passes over the last ARCH_DUP_TAIL points of the whole
 * parent's sweep, after the first, while no copy of its LDT failed.
 */
#define ARCH_DUP_PASSES	8
#define ARCH_DUP_TAIL	64
/* How long RCU gets to free what the sweep's last tasks held: 200 ms each. */
#define SWEEP_LEFT_TRIES	75
/*
 * How far memory.current may move across a failed fork that freed all it
 * charged: the per-CPU charge stocks (64 pages on each of the 2 CPUs), the
 * object stocks, and what the children of the last forks that succeeded
 * still hold until an RCU grace period ends.  The exact check of a leak
 * is the removed memcg's charge (SWEEP_LEFT_PER_FAILED); this one bounds what
 * the stocks blur.
 */
#define MEMCG_SLACK	(2UL << 20)

enum kind {
	ANON, NEIGHBOUR, SHM_SHARED, SHM_PRIVATE, WIPEONFORK, DONTFORK,
	ACCOUNT, THP, FAR_ANON, MANY,
	/* The mm of a distribution kernel: each also has a sweep of its own. */
	SWAPPED, UFFD_MISSING, UFFD_WP, HUGE_PRIVATE, HUGE_SHARED, KSM_MERGED,
	MLOCKED, MBIND, UPROBE,
	NR_KINDS
};
#define FIRST_DISTRO_KIND SWAPPED

struct region {
	enum kind kind;
	unsigned char *addr;
	size_t len;
	size_t written;		/* bytes from addr filled with the pattern */
	unsigned char constant;	/* if not 0, every byte (KSM merges them) */
	size_t step;		/* if not 0, only the first page every step bytes */
};

/*
 * What a failed fork must leave as it was, besides the parent's bytes and
 * maps: read before every fork and compared after each one that failed.
 */
struct snapshot {
	char smaps[131072];	/* our regions only, without Referenced: */
	size_t smaps_len;
	char numa[16384];	/* numa_maps of our regions */
	size_t numa_len;
	long meminfo[4];	/* kB or pages, see meminfo_keys (init-parent.c) */
	long ksm[5];		/* see ksm_files */
	long memcg;		/* memory.current, bytes */
	unsigned long uffd_forks;
	uint64_t pagemap[8192];	/* the sweep of the whole parent, see take_snapshot() */
	size_t pagemap_len;
};

/* init-io.c: output lines and small file helpers */
extern int failures;
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now(void);
int put(const char *path, const char *val);
long cat(const char *path);
size_t read_file(const char *path, char *buf, size_t size);
long read_long(const char *path);

/* init-parent.c: the parent's regions, their checks and snapshots */
extern const char *const kind_names[NR_KINDS];
extern struct region regions[32 + NR_MANY];
extern int nr_regions;
extern char maps_before[65536];
extern size_t maps_before_len;
extern char maps_now[65536];
extern long memcg_max_moved;
unsigned char pattern(const unsigned char *addr);
long smaps_kb(const char *smaps, const void *addr, const char *field);
void add_kind(enum kind kind);
int build_parent(void);
int child_check(void);
void take_snapshot(struct snapshot *s, int detail);
int all_swapped(const struct region *r);
void compare_snapshots(int n, const struct snapshot *was, struct snapshot *is);
void parent_check(int n);
void prepare_fork(void);

/* init-uffd.c: userfaultfd, and its monitor thread */
extern int uffd;
extern unsigned long uffd_forks;
unsigned long counter(unsigned long *c);
void uffd_sync(void);
int uffd_register(struct region *r, unsigned long mode);
int uffd_protect(void *addr, size_t len, int on);
void uffd_probe(const char *what);

/* init-probes.c: the uprobe on our text; x86_64: the LDT's failed copies */
extern int uprobe_on;
extern int arch_dup_on;
void uprobe_probe(const char *what);
void uprobe_setup(void);
void arch_dup_setup(void);
long arch_dup_failed(void);

/* init-memcg.c: the memcgs of init and of its sweeps */
int memcg_enter(const char *dir);
void memcg_setup(void);
int sweep_memcg_begin(void);
long sweep_memcg_end(const char *what, int failed);

/* init-sweep.c: the fork sweeps */
extern volatile int sweep_point;
extern const char *volatile sweep_phase;
int fork_sweep(const char *kind);
void kind_sweeps(void);

/* init-walkers.c: walkers racing failed forks */
void walk_phase(double seconds, int max_point);

#endif
