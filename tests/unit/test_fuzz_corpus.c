/* The fuzz target (tests/fuzz/fuzz_frame.c) run over every file of the seed
 * corpus without libFuzzer: no crash (the target aborts on a broken
 * invariant; check-asan adds ASan/UBSan), and each file decodes or fails as
 * its name says: ok-* one frame, stream-* several frames, bad-* refused. */
#include "../fuzz/fuzz_frame.c"

#include <dirent.h>

#include "check.h"

#ifndef CORPUS_DIR
#define CORPUS_DIR "tests/fuzz/corpus"
#endif

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(void)
{
    struct dirent **names;
    int n = scandir(CORPUS_DIR, &names, NULL, by_name);
    CHECK(n > 12, "the corpus %s has more than a dozen files (%d entries)", CORPUS_DIR, n);
    int files = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] == '.') {
            free(names[i]);
            continue;
        }
        char path[600];
        snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, name);
        FILE *fp = fopen(path, "rb");
        static uint8_t buf[1 << 20];
        size_t len = fp ? fread(buf, 1, sizeof buf, fp) : 0;
        if (fp) fclose(fp);
        int decoded = fuzz_frame_one(buf, len);
        const char *why = decoded ? "" : pp_error();
        if (strncmp(name, "ok-", 3) == 0)
            CHECK(decoded, "%s (%zu bytes) decodes as a frame %s", name, len, why);
        else if (strncmp(name, "bad-", 4) == 0)
            CHECK(!decoded, "%s (%zu bytes) is refused: %s", name, len, why);
        else
            CHECK(1, "%s (%zu bytes) runs through the target without a crash", name, len);
        files++;
        free(names[i]);
    }
    free(names);
    return check_done();
}
