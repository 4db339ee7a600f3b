/* dataset_next.h - next_observations for a data set that lacks them
 * (lib/data/dataset_next.c; the policy is docs/design.md section 10).
 *
 * Row i's next observation is observations[i + 1] when row i + 1 is the
 * same episode, that is when row i is neither terminal nor timeout and is
 * not the last row. A transition is never paired across episodes.
 *
 * A terminal row stays, with its own observation as next_observations: a
 * placeholder, never read, since a TD target multiplies the next value by
 * (1 - terminal). So the file's terminations are kept (a critic learns that
 * falling ends the return). d4rl.qlearning_dataset pairs a terminal step
 * with the first observation of the next episode instead, which is as
 * harmless and only for the same reason, but crosses episodes.
 *
 * The rows with no honest next observation are dropped: a timeout row (not
 * terminal: it is bootstrapped, and its real next observation is not in the
 * data) and the last row of the data when it has neither flag (the tail).
 * A dropped timeout row ends its episode one row early, so the row before
 * it (its new last row) gets timeouts = 1: the episode is cut there, its
 * next observation is real, a TD target bootstraps from it, and the
 * episodes stay apart. The row before the tail stays unflagged.
 */
#ifndef PP_DATASET_NEXT_H
#define PP_DATASET_NEXT_H

#include <stdint.h>

#include "data/dataset.h"

typedef struct {
    int derived;                  /* 1: next_observations were made; 0: d had them */
    int64_t terminal_placeholder; /* terminal rows kept with their own observation as next (also timeout: here) */
    int64_t dropped_timeout;      /* timeout rows (not terminal) dropped */
    int64_t dropped_tail;         /* 1 when the last row, with neither flag, was dropped */
    int64_t marked_timeout;       /* rows given timeouts = 1 as their episode's new last row */
} pp_next_report;

/* Give d next_observations from its observations as above, in place: the
 * rows without a next observation go, every column keeps the rows that
 * stay, in order. Nothing to do (derived = 0) when d has next_observations.
 * Needs observations f32 [N, O], terminals and timeouts bool [N]. r may be
 * NULL. */
int pp_dataset_pair_next(pp_dataset *d, pp_next_report *r);

#endif
