/* test_contract.c - parpi-frame(5) says what each stage reads, owns and
 * reports; the stages declare the same in their pp_stage_ops (stage.h). This
 * holds the two to each other, and checks that each owned field's entry in
 * the man page's list of canonical keys names its owner. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stage/stage.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* "a, b, c" == the NULL-terminated list (in order); "nothing" is empty. */
static int same_list(const char *text, size_t len, const char *const *list)
{
    char want[512] = "";
    for (int i = 0; list && list[i]; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? ", " : "", list[i]);
    if (!want[0]) snprintf(want, sizeof want, "nothing");
    return strlen(want) == len && memcmp(want, text, len) == 0;
}

int main(void)
{
    const char *share = getenv("PARPI_SHARE");
    char path[4096];
    snprintf(path, sizeof path, "%s/../../man/man5/parpi-frame.5", share ? share : "share/parpi");
    char *man = slurp(path);
    CHECK(man != NULL, "read %s", path);
    if (!man) return check_done();
    const char *section = strstr(man, ".SS Who reads and owns what");
    CHECK(section != NULL, "parpi-frame(5) has the section 'Who reads and owns what'");
    if (!section) return check_done();

    for (const char *const *k = pp_stage_kinds(); *k; k++) {
        const pp_stage_ops *ops = pp_stage_lookup(*k);
        char head[64];
        snprintf(head, sizeof head, "\n.B parpi-%s\nreads: ", *k);
        const char *p = strstr(section, head);
        CHECK(p != NULL, "parpi-frame(5) has a line for parpi-%s", *k);
        if (!p) continue;
        p += strlen(head);
        const char *owns = strstr(p, "; owns: "), *metrics = strstr(p, "; metrics: ");
        const char *eol = strchr(p, '\n');
        if (!owns || !metrics || !eol || metrics > eol) {
            CHECK(0, "parpi-%s: the line reads 'reads: ...; owns: ...; metrics: ...'", *k);
            continue;
        }
        CHECK(same_list(p, (size_t)(owns - p), ops->reads), "parpi-%s reads what the man page says", *k);
        CHECK(same_list(owns + 8, (size_t)(metrics - owns - 8), ops->owns),
              "parpi-%s owns what the man page says", *k);
        CHECK(same_list(metrics + 11, (size_t)(eol - metrics - 11), ops->metrics),
              "parpi-%s reports the metrics the man page says", *k);
        /* The canonical key entries, before the section: ".B q\nmap (parpi-critic)". */
        for (int i = 0; ops->owns && ops->owns[i]; i++) {
            char entry[64], owner[64];
            snprintf(entry, sizeof entry, "\n.TP\n.B %s\n", ops->owns[i]);
            snprintf(owner, sizeof owner, "(parpi-%s", *k);
            const char *e = strstr(man, entry);
            const char *end = e ? strstr(e + strlen(entry), "\n.TP") : NULL;
            int named = e && end && e < section;
            if (named) {
                char *line = strndup(e, (size_t)(end - e));
                named = strstr(line, owner) != NULL;
                free(line);
            }
            CHECK(named, "parpi-frame(5) lists %s as a key owned by parpi-%s", ops->owns[i], *k);
        }
    }
    return check_done();
}
