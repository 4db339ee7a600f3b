/* parpi-discrim - see man/man1/parpi-discrim.1; the stage is lib/stage/stage_discrim.c,
 * the program around it cmd/common.c. */
#include "common.h"

int main(int argc, char **argv) { return pp_stage_main("discrim", argc, argv); }
