/* The machine's peak f32 FMA rate on one core: ten independent 512-bit FMA chains kept in
 * registers, enough to cover the FMA latency. Build and run:
 *   gcc -O3 -march=native bench/machine/peak_flops.c -o /tmp/peak_flops && /tmp/peak_flops
 * Multiply by the threads a GEMM uses for its ceiling. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2),
           a3 = _mm512_set1_ps(3), a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5),
           a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7), a8 = _mm512_set1_ps(8),
           a9 = _mm512_set1_ps(9);
    const long n = 300000000;
    double start = now();
    for (long i = 0; i < n; i++) {
        a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c);
        a2 = _mm512_fmadd_ps(a2, b, c); a3 = _mm512_fmadd_ps(a3, b, c);
        a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c);
        a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c);
        a8 = _mm512_fmadd_ps(a8, b, c); a9 = _mm512_fmadd_ps(a9, b, c);
        /* Keeps the chains in registers and the loop from being folded away. */
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4),
                         "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9));
    }
    double seconds = now() - start;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5),
                                           _mm512_add_ps(_mm512_add_ps(a6, a7),
                                                         _mm512_add_ps(a8, a9))));
    printf("%.1f GFLOP/s on one core (512-bit FMA; checksum %g)\n",
           n * 10.0 * 32 / seconds / 1e9, _mm512_reduce_add_ps(s));
    return 0;
}
