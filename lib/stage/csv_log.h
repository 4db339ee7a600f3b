/* csv_log.h - the CSV logs of the ring's stages (eval.csv, progress.csv,
 * episodes.csv), cut back when a stage resumes: their first column is the
 * step, and the rows after the step a checkpoint holds are the ones the
 * resumed stage writes again, so they go (no duplicate or out-of-order rows
 * after a crash).
 */
#ifndef PP_CSV_LOG_H
#define PP_CSV_LOG_H

#include <stdio.h>

/* Cut the log at path back to its header and the rows before the first row
 * whose step (first column) is above step, or that is unfinished (no end of
 * line: a write a crash or a full disk cut short). fp: the log, open for
 * appending (flushed first), or NULL. A path that is not a regular file (a
 * pipe, /dev/stdout) is left alone. *last_row (last_row may be NULL): the
 * last row kept without its end of line (malloc'd), or NULL if none.
 * 0, or -1 with a message naming the file. */
int pp_csv_cut(FILE *fp, const char *path, long long step, char **last_row);

/* Field i (from 0) of a CSV row as a number: 0, or -1 if it has no such
 * field or it is not a number. */
int pp_csv_field(const char *row, int i, double *out);

#endif
