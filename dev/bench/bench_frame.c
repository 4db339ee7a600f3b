/* Frame pass-through cost: a frame with ~1 MB of parameters and a batch is
 * decoded, has one metric set, and is encoded again, as every stage does on
 * every step. Reports microseconds per frame and GB/s; also through a pipe. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "frame/frame.h"

typedef struct { int fd, n; const uint8_t *d; size_t len; } job;

static void *feed(void *arg)
{
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        size_t at = 0;
        while (at < j->len) {
            ssize_t k = write(j->fd, j->d + at, j->len - at);
            if (k <= 0) break;
            at += (size_t)k;
        }
    }
    close(j->fd);
    return NULL;
}

int main(void)
{
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    int64_t p[1] = {250000}, b[2] = {256, 17};
    pp_frame_put_tensor_uninit(f, "policy.params", PP_F32, 1, p);
    pp_frame_put_tensor_uninit(f, "q.params", PP_F32, 1, p);
    pp_frame_put_tensor_uninit(f, "batch.obs", PP_F32, 2, b);
    pp_frame_put_tensor_uninit(f, "batch.next_obs", PP_F32, 2, b);
    pp_frame_set_i64(f, "step", 0);
    uint8_t *in = NULL, *out = NULL;
    size_t incap = 0, len, outcap = 0, olen;
    pp_frame_encode(f, &in, &incap, &len);
    int n = 2000;
    double t0 = pp_now();
    for (int i = 0; i < n; i++) {
        if (pp_frame_decode(g, in, len, 0) != 0) { fprintf(stderr, "%s\n", pp_error()); return 1; }
        pp_frame_set_f64(g, "metrics.bench.x", i);
        pp_frame_encode(g, &out, &outcap, &olen);
    }
    double dt = (pp_now() - t0) / n;
    printf("frame pass-through in memory (%.2f MB): %.1f us/frame, %.2f GB/s\n", (double)len / 1e6, dt * 1e6,
           (double)len / dt / 1e9);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    n = 500;
    job j = {fds[1], n, in, len};
    pthread_t th;
    t0 = pp_now();
    pthread_create(&th, NULL, feed, &j);
    pp_reader *r = pp_reader_open_fd(fds[0], "pipe", PP_DEFAULT_MAX_FRAME);
    int k = 0;
    while (pp_reader_next(r, g) == 1) {
        pp_frame_set_f64(g, "metrics.bench.x", k++);
        pp_frame_encode(g, &out, &outcap, &olen);
    }
    dt = (pp_now() - t0) / n;
    pthread_join(th, NULL);
    printf("frame read from a pipe + re-encode (%d frames): %.1f us/frame, %.2f GB/s\n", k, dt * 1e6,
           (double)len / dt / 1e9);
    pp_reader_close(r);
    close(fds[0]);
    free(in);
    free(out);
    pp_frame_free(f);
    pp_frame_free(g);
    return k == n ? 0 : 1;
}
