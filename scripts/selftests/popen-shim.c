// SPDX-License-Identifier: GPL-2.0
/*
 * popen() for compaction_test, which reads two numbers of /proc/meminfo
 * through "cat /proc/meminfo | grep -i <key> | grep -o '[0-9]*'".  The
 * guest of scripts/mm-selftests.sh has no shell, so glibc's popen() fails
 * and the test dereferences the NULL it returns.  This one answers those
 * two commands from /proc/meminfo itself, the number and a newline as the
 * pipeline prints it, and fails any other command with ENOSYS.  Linked
 * into compaction_test only, with -Dpopen=forkfix_popen
 * -Dpclose=forkfix_pclose.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

FILE *forkfix_popen(const char *cmd, const char *mode)
{
	static const char *const keys[][2] = {
		{ "grep -i memfree ", "MemFree:" },
		{ "grep -i hugepagesize ", "Hugepagesize:" },
	};
	const char *field = NULL;
	char line[256];
	FILE *meminfo, *out;
	size_t i;
	long kb = -1;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(cmd, "cat /proc/meminfo | ") && strstr(cmd, keys[i][0]))
			field = keys[i][1];
	if (!field || strcmp(mode, "r")) {
		errno = ENOSYS;
		return NULL;
	}
	meminfo = fopen("/proc/meminfo", "r");
	if (!meminfo)
		return NULL;
	while (fgets(line, sizeof(line), meminfo))
		if (!strncasecmp(line, field, strlen(field)))
			kb = strtol(line + strlen(field), NULL, 10);
	fclose(meminfo);
	if (kb < 0) {
		errno = ENOENT;
		return NULL;
	}
	out = tmpfile();
	if (!out)
		return NULL;
	fprintf(out, "%ld\n", kb);
	rewind(out);
	return out;
}

int forkfix_pclose(FILE *f)
{
	return fclose(f) ? -1 : 0;
}
