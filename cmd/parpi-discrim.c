/* parpi-discrim - see man/man1/parpi-discrim.1; the stage is lib/stage_discrim.c.
 *
 * The registry (lib/stage.c) refers to the stages weakly, and a weak
 * reference does not pull an object out of a static library: this strong
 * reference is what links lib/stage_discrim.o into the program.
 */
#include "stage.h"

extern const pp_stage_ops pp_stage_discrim;
static const pp_stage_ops *const linked __attribute__((used)) = &pp_stage_discrim;

int main(int argc, char **argv) { return pp_stage_main("discrim", argc, argv); }
