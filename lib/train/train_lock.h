/* train_lock.h - one owner per run directory: parpi-train holds an exclusive
 * flock(2) on DIR/lock for the whole run, fresh or --resume, and a second
 * driver on the same directory is refused at once, told who holds it.
 *
 * The file holds one line, "HOST PID", of the driver that holds the lock
 * (it is left in place after the run: the flock, not the file, is the lock).
 * The lock's file descriptor is inherited by the stages of the ring, so the
 * directory stays locked until the last stage has exited: a driver killed
 * with SIGKILL leaves its stages saving their checkpoints (they get SIGTERM
 * from the kernel), and a new driver is refused until they are done.
 *
 * flock works on local file systems and on NFS (Linux emulates it with
 * fcntl locks there); on a file system without locks the lock is refused
 * with the system's message.
 */
#ifndef PP_TRAIN_LOCK_H
#define PP_TRAIN_LOCK_H

/* Take the lock of the run directory dir (which must exist): 0 and *fd;
 * 1 when another process holds it, -1 when it cannot be taken, both with a
 * message:
 *   "runs/a is in use: parpi-train on host node7, pid 4242 holds runs/a/lock"
 *   "cannot lock runs/a/lock: Read-only file system" */
int pp_train_lock(const char *dir, int *fd);

/* Give it back (closing fd; -1 is ignored). */
void pp_train_unlock(int fd);

#endif
