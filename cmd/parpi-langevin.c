/* parpi-langevin - see man/man1/parpi-langevin.1; the stage is lib/stage/stage_langevin.c,
 * the program around it cmd/common.c. */
#include "common.h"

int main(int argc, char **argv) { return pp_stage_main("langevin", argc, argv); }
