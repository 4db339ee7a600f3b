/* parpi-critic - see man/man1/parpi-critic.1; the stage is lib/stage_critic.c. */
#include "stage/stage.h"

int main(int argc, char **argv) { return pp_stage_main("critic", argc, argv); }
