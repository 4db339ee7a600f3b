/* parpi-discrim - see man parpi-discrim(1); the stage is lib/stage_discrim.c */
#include "stage.h"

int main(int argc, char **argv) { return pp_stage_main("discrim", argc, argv); }
