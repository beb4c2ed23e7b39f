/* Sequential read bandwidth of a 500 MB buffer on OMP_NUM_THREADS threads, from 4 KiB pages
 * and from transparent huge pages (madvise). Build and run:
 *   gcc -O3 -march=native -fopenmp bench/machine/read_bandwidth.c -o /tmp/read_bw
 *   OMP_NUM_THREADS=2 /tmp/read_bw */
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

static double best_gbs(const float *a, size_t n) {
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double start = now();
        float total = 0;
#pragma omp parallel reduction(+ : total)
        {
            size_t id = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t lo = n / nt * id / 64 * 64, hi = id + 1 == nt ? n : n / nt * (id + 1) / 64 * 64;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t i = lo; i < hi; i += 64) {
                s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
                s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
                s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
                s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
            }
            total += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
        }
        double gbs = n * 4 / (now() - start) / 1e9;
        if (gbs > best && total == total) best = gbs;
    }
    return best;
}

int main(void) {
    const size_t bytes = 500u << 20, n = bytes / 4;
    for (int huge = 0; huge < 2; huge++) {
        float *a = aligned_alloc(2 << 20, bytes);
        if (huge) madvise(a, bytes, MADV_HUGEPAGE);
        memset(a, 1, bytes);
        printf("%s pages: %.1f GB/s on %d threads\n", huge ? "huge" : "4 KiB", best_gbs(a, n),
               omp_get_max_threads());
        free(a);
    }
    return 0;
}
