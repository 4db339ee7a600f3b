/* tmpdir.h - a test's own folder under /tmp, for the files it writes:
 *
 *   if (tmpdir_make("replay") != 0) return 1;   once, first
 *   tmp("a.mp")                                  a path in it (eight live at once)
 *   tmpdir_remove();                             at the end
 */
#ifndef PP_TEST_TMPDIR_H
#define PP_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir_path[128];

static inline int tmpdir_make(const char *tag)
{
    snprintf(tmpdir_path, sizeof tmpdir_path, "/tmp/parpi-test-%s-XXXXXX", tag);
    if (mkdtemp(tmpdir_path)) return 0;
    perror("mkdtemp");
    return -1;
}

static inline const char *tmp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir_path, name);
    return buf[k];
}

static inline void tmpdir_remove(void)
{
    char cmd[sizeof tmpdir_path + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_path);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir_path);
}

#endif
