/*
 * bench-float.c - ns per value of repr(float): pk_float_repr (Schubfach,
 * codec/text_float.c) against the former snprintf + strtod search
 * (tests/unit/float_ref.c), side by side on the same doubles.
 *
 *     make BUILD=build build/bench-float && build/bench-float [COUNT]
 *
 * (scripts/bench-float.sh also times CPython's repr on the same kinds.)
 * Three sets of COUNT (default 1,000,000) doubles: random bit patterns
 * (finite), uniform in [0, 1) as numpy's random() gives (mostly 16-17
 * digits), and short decimals such as 0.37 or 1.5e-07. Each figure is
 * the best of three passes, the text appended to one buffer as a
 * values.txt would be (reset every 4096 values).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "float_ref.h"
#include "text.h"

static uint64_t state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* best of three passes over v[0..n), ns per value; *bytes the text's */
static double run(int (*repr)(double, pk_buf *), const double *v, long n,
		  size_t *bytes)
{
	pk_buf b = PK_BUF_INIT;
	double best = 1e30;
	int pass;

	for (pass = 0; pass < 3; pass++) {
		double t0 = now(), t;
		long i;

		*bytes = 0;
		for (i = 0; i < n; i++) {
			if (i % 4096 == 0) {
				*bytes += b.len;
				pk_buf_reset(&b);
			}
			if (repr(v[i], &b) < 0 || pk_buf_addc(&b, '\n') < 0) {
				fprintf(stderr, "out of memory\n");
				exit(1);
			}
		}
		*bytes += b.len;
		pk_buf_reset(&b);
		t = (now() - t0) * 1e9 / (double)n;
		if (t < best)
			best = t;
	}
	pk_buf_release(&b);
	return best;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, i;
	double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
	const char *kinds[] = {"random bit patterns", "uniform [0, 1)",
			       "short decimals"};
	int k;

	if (!v || n <= 0)
		return 1;
	printf("%-20s %10s %10s %8s  (%ld values, best of 3)\n", "doubles",
	       "former ns", "new ns", "speedup", n);
	for (k = 0; k < 3; k++) {
		size_t b_old, b_new;
		double t_old, t_new;

		for (i = 0; i < n; i++) {
			uint64_t r = rnd();
			char t[40];

			if (k == 0) {
				do {
					memcpy(&v[i], &r, sizeof(r));
					r = rnd();
				} while (!isfinite(v[i]));
			} else if (k == 1) {
				v[i] = (double)(r >> 11) * 0x1p-53;
			} else {
				snprintf(t, sizeof(t), "%llue%d",
					 (unsigned long long)(r >> 40) % 100000,
					 (int)((r >> 8) % 12) - 8);
				v[i] = strtod(t, NULL);
			}
		}
		t_old = run(ref_float_repr, v, n, &b_old);
		t_new = run(pk_float_repr, v, n, &b_new);
		if (b_old != b_new) {
			fprintf(stderr, "the texts differ in length\n");
			return 1;
		}
		printf("%-20s %10.1f %10.1f %7.1fx\n", kinds[k], t_old, t_new,
		       t_old / t_new);
	}
	free(v);
	return 0;
}
