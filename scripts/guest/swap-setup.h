/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Swap on the brd RAM disk /dev/ram0, for the guest programs: a version 1
 * swap header as mkswap writes it, then swapon.  The size is brd's
 * CONFIG_BLK_DEV_RAM_SIZE (Kconfig.fragment), in KiB.
 */
#ifndef FORKFIX_SWAP_SETUP_H
#define FORKFIX_SWAP_SETUP_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SWAP_DEV	"/dev/ram0"
#define SWAP_DEV_KIB	16384

/* Returns 0, or -1 with errno set and *what naming the step that failed. */
static inline int swap_setup(const char **what)
{
	static unsigned char page[4096];
	uint32_t version = 1, last = SWAP_DEV_KIB / 4 - 1, bad = 0;
	int fd;

	*what = "mknod " SWAP_DEV;
	if (mknod(SWAP_DEV, S_IFBLK | 0600, makedev(1, 0)) && errno != EEXIST)
		return -1;
	memcpy(page + 1024, &version, 4);
	memcpy(page + 1028, &last, 4);
	memcpy(page + 1032, &bad, 4);
	memcpy(page + sizeof(page) - 10, "SWAPSPACE2", 10);
	*what = "writing the swap header to " SWAP_DEV;
	fd = open(SWAP_DEV, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page) || fsync(fd)) {
		close(fd);
		return -1;
	}
	close(fd);
	*what = "swapon " SWAP_DEV;
	return swapon(SWAP_DEV, 0);
}

#endif
