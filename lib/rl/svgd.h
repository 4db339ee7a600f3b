/* svgd.h - the Stein variational direction of SQL's amortised SVGD
 * (docs/algorithm.md section 9; kernel as softqlearning's misc/kernel.py).
 *
 * For one state: particles a [Mf + Mu, A], the first Mf "fixed" (j), the last
 * Mu "updated" (i); g [Mf, A] = grad log p at the fixed particles.
 *   k(a_j, a_i) = exp(-|a_j - a_i|^2 / h),  h = max(med / log(Mf), 1e-3),
 *   med = the (n/2 + 1)-th largest of the n = Mf*Mu squared distances
 *         (softqlearning's top_k median; Mf >= 2),
 *   delta_i = (1/Mf) sum_j [ k(a_j, a_i) g_j + grad_{a_j} k(a_j, a_i) ],
 *   grad_{a_j} k(a_j, a_i) = -2 (a_j - a_i) / h * k(a_j, a_i).
 * scratch holds 2 * Mf * Mu floats. Writes delta [Mu, A]; returns h.
 */
#ifndef PP_SVGD_H
#define PP_SVGD_H

double pp_svgd_direction(const float *a, const float *g, int Mf, int Mu, int A, float *scratch,
                         float *delta);

#endif
