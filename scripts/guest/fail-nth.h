/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The debugfs settings with which failslab and fail_page_alloc fire on a
 * task's /proc/<pid>/fail-nth also for sleeping allocations and order-0
 * pages (by default they ignore both), but not for user pages, and stay
 * quiet.  Shared by the guest
 * programs; each writes them with its own put().
 */
#ifndef FORKFIX_FAIL_NTH_H
#define FORKFIX_FAIL_NTH_H

static const char *const fail_nth_settings[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	/*
	 * User pages (__GFP_HIGHMEM) never fail: after a fork that did not
	 * use up the count, the parent's own copy-on-write faults would take
	 * it ("Huh VM_FAULT_OOM leaked out to the #PF handler") and the
	 * sweep would take the fork for one that absorbed a failure.  Fork
	 * allocates none: page tables and slab objects are not highmem.
	 */
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "Y" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

#endif
