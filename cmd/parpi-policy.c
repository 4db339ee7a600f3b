/* parpi-policy - see man/man1/parpi-policy.1; the stage is lib/stage_policy.c. */
#include "stage/stage.h"

int main(int argc, char **argv) { return pp_stage_main("policy", argc, argv); }
