/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The debugfs settings with which failslab and fail_page_alloc fire on a
 * task's /proc/<pid>/fail-nth also for sleeping allocations and order-0
 * pages (by default they ignore both), and stay quiet.  Shared by the guest
 * programs; each writes them with its own put().
 */
#ifndef FORKFIX_FAIL_NTH_H
#define FORKFIX_FAIL_NTH_H

static const char *const fail_nth_settings[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

#endif
