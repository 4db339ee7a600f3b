/* parpi-langevin - see man/man1/parpi-langevin.1; the stage is lib/stage_langevin.c. */
#include "stage/stage.h"

int main(int argc, char **argv) { return pp_stage_main("langevin", argc, argv); }
