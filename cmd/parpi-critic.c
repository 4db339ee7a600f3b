/* parpi-critic - see man/man1/parpi-critic.1; the stage is lib/stage/stage_critic.c,
 * the program around it cmd/common.c. */
#include "common.h"

int main(int argc, char **argv) { return pp_stage_main("critic", argc, argv); }
