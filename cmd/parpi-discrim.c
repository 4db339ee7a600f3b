/* parpi-discrim - see man/man1/parpi-discrim.1; the stage is lib/stage_discrim.c. */
#include "stage/stage.h"

int main(int argc, char **argv) { return pp_stage_main("discrim", argc, argv); }
