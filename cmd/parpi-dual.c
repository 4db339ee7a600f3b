/* parpi-dual - see man/man1/parpi-dual.1; the stage is lib/stage/stage_dual.c,
 * the program around it cmd/common.c. */
#include "common.h"

int main(int argc, char **argv) { return pp_stage_main("dual", argc, argv); }
