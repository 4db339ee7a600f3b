#include "stage/eval.h"
int main(int argc, char **argv) { return pp_eval_main(argc, argv); }
