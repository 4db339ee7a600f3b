/* parpi-langevin - see man/man1/parpi-langevin.1; the stage is lib/stage_langevin.c.
 *
 * The registry (lib/stage.c) refers to the stages weakly, and a weak
 * reference does not pull an object out of a static library: this strong
 * reference is what links lib/stage_langevin.o into the program.
 */
#include "stage.h"

extern const pp_stage_ops pp_stage_langevin;
static const pp_stage_ops *const linked __attribute__((used)) = &pp_stage_langevin;

int main(int argc, char **argv) { return pp_stage_main("langevin", argc, argv); }
