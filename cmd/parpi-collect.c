#include "stage/collect.h"
int main(int argc, char **argv) { return pp_collect_main(argc, argv); }
