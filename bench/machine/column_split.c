/* How fast 2 threads stream 16-bit weights (k, n) = (768, N) that they split by output columns,
 * as a decode step's axpy product does: "rows" reads them where GPT-2's Conv1D stores them
 * (row-major, each thread its column slice of every row, 8 rows a pass, as the rows kernel),
 * "panels" reads the same bytes stored so that each thread's columns lie contiguous (column
 * panels of all k rows). Matrices enough for ~240 MB (a decode step's 16-bit weights) are
 * read once a round; the best of >= 10 rounds over >= 1.5 s, in GB/s of weights. Build, run:
 *   gcc -O3 -march=native -fopenmp bench/machine/column_split.c -o /tmp/column_split
 *   OMP_NUM_THREADS=2 /tmp/column_split rows 768; OMP_NUM_THREADS=2 /tmp/column_split panels 768 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Adds 32 f16 values at p into two accumulators (one cache line of weights). */
#define LINE(p, a, b)                                                        \
    a = _mm512_add_ps(a, _mm512_cvtph_ps(_mm256_loadu_si256((void *)(p)))); \
    b = _mm512_add_ps(b, _mm512_cvtph_ps(_mm256_loadu_si256((void *)((p) + 16))))

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int panels = !strcmp(argv[1], "panels");
    size_t k = 768, n = strtoul(argv[2], NULL, 10), mats = 240000000 / (k * n * 2);
    size_t bytes = mats * k * n * 2;
    unsigned short *w = aligned_alloc(2 << 20, bytes);
    if (!w) return 1;
    madvise(w, bytes, MADV_HUGEPAGE);
    memset(w, 1, bytes);
    double best = 0, start = now();
    for (int r = 0; r < 11 || now() - start < 1.5; r++) {
        double t0 = now();
        float total = 0;
#pragma omp parallel reduction(+ : total)
        {
            size_t id = omp_get_thread_num(), cols = n / omp_get_num_threads();
            __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
            for (size_t m = 0; m < mats; m++) {
                unsigned short *base = w + m * k * n;
                if (panels) {
                    unsigned short *p = base + id * cols * k;
                    for (size_t j = 0; j < cols * k; j += 32) { LINE(p + j, a, b); }
                } else {
                    for (size_t i = 0; i < k; i += 8)
                        for (size_t j = id * cols; j < (id + 1) * cols; j += 32)
                            for (size_t q = 0; q < 8; q++) { LINE(base + (i + q) * n + j, a, b); }
                }
            }
            total += _mm512_reduce_add_ps(_mm512_add_ps(a, b));
        }
        double gbs = bytes / (now() - t0) / 1e9;
        if (r > 0 && total == total && gbs > best) best = gbs; /* round 0 warms up */
    }
    printf("%s, n = %zu: %.1f GB/s on %d threads\n", argv[1], n, best, omp_get_max_threads());
    return 0;
}
