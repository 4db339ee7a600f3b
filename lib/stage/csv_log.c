/* csv_log.c - cutting a stage's CSV log back to a checkpoint's step (csv_log.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "stage/csv_log.h"

int pp_csv_cut(FILE *fp, const char *path, long long step, char **last_row)
{
    if (last_row) *last_row = NULL;
    if (fp && fflush(fp) != 0) return pp_fail("writing %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        return pp_fail("cannot read %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return 0;
    FILE *in = fopen(path, "r");
    if (!in) return pp_fail("cannot read %s: %s", path, strerror(errno));
    char *line = NULL, *kept = NULL;
    size_t cap = 0;
    ssize_t n;
    long long at = 0, cut = -1;
    int header = 1;
    while ((n = getline(&line, &cap, in)) > 0) {
        int whole = line[n - 1] == '\n';
        if (header) { /* the header stays (a torn header is the log's whole content: keep it) */
            header = 0;
            at += n;
            continue;
        }
        char *end;
        errno = 0;
        long long s = strtoll(line, &end, 10);
        int numbered = end != line && (*end == ',' || *end == '\n' || *end == '\0') && errno == 0;
        if (!whole || (numbered && s > step)) {
            cut = at;
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        free(kept);
        kept = strdup(line);
        at += n;
    }
    int err = ferror(in) ? errno : 0;
    fclose(in);
    free(line);
    if (err) {
        free(kept);
        return pp_fail("reading %s: %s", path, strerror(err));
    }
    int rc = 0;
    if (cut >= 0 && (fp ? ftruncate(fileno(fp), (off_t)cut) : truncate(path, (off_t)cut)) != 0)
        rc = pp_fail("cutting %s back to step %lld: %s", path, step, strerror(errno));
    if (rc == 0 && last_row) *last_row = kept;
    else free(kept);
    return rc;
}

int pp_csv_field(const char *row, int i, double *out)
{
    const char *p = row;
    for (int k = 0; k < i; k++) {
        p = strchr(p, ',');
        if (!p) return -1;
        p++;
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p || (*end != ',' && *end != '\0')) return -1;
    *out = v;
    return 0;
}
