/* parpi-policy - see man/man1/parpi-policy.1; the stage is lib/stage/stage_policy.c,
 * the program around it cmd/common.c. */
#include "common.h"

int main(int argc, char **argv) { return pp_stage_main("policy", argc, argv); }
