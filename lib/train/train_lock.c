/* train_lock.c - the run directory's lock (train_lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train_lock.h"

/* Who holds the lock, from the file's line "HOST PID", into buf. */
static void describe_holder(int fd, const char *path, char *buf, size_t cap)
{
    char line[320] = "";
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    line[n > 0 ? n : 0] = '\0';
    char host[256], me[256] = "";
    long pid = 0;
    if (sscanf(line, "%255s %ld", host, &pid) != 2 || pid <= 0) {
        snprintf(buf, cap, "another parpi-train holds %s", path);
        return;
    }
    gethostname(me, sizeof me - 1);
    const char *gone = "";
    if (strcmp(host, me) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        gone = " (that process has ended; its stages are still stopping: try again in a moment)";
    snprintf(buf, cap, "parpi-train on host %s, pid %ld holds %s%s", host, pid, path, gone);
}

int pp_train_lock(const char *dir, int *fd)
{
    char path[1200];
    *fd = -1;
    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path)
        return pp_fail("the run directory's name is too long: %s", dir);
    /* no O_CLOEXEC: the stages inherit it (train_lock.h) */
    int f = open(path, O_RDWR | O_CREAT, 0644);
    if (f < 0) return pp_fail("cannot lock %s: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK) {
            char who[1600];
            describe_holder(f, path, who, sizeof who);
            close(f);
            pp_fail("%s is in use: %s", dir, who);
            return 1;
        }
        close(f);
        return pp_fail("cannot lock %s: %s", path, strerror(err));
    }
    char host[256] = "", line[320];
    if (gethostname(host, sizeof host - 1) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
    int n = snprintf(line, sizeof line, "%s %ld\n", host, (long)getpid());
    /* the line is for the message of a refused driver: best effort */
    if (ftruncate(f, 0) == 0 && pwrite(f, line, (size_t)n, 0) == n) (void)fsync(f);
    *fd = f;
    return 0;
}

void pp_train_unlock(int fd)
{
    if (fd >= 0) close(fd);
}
