/* Sequential read bandwidth on OMP_NUM_THREADS threads, from 4 KiB pages and from transparent
 * huge pages (madvise): each thread sums its own contiguous part of a buffer 4x the last-level
 * cache (at least 1 GiB, at most 4 GiB; or MIB from the command line), the best of at least 10
 * rounds over at least 1.5 s. The same measurement as `nexttoken bench`'s in-process probe
 * (crates/model/src/compute/probe.rs), for comparing the two in one run. Build and run:
 *   gcc -O3 -march=native -fopenmp bench/machine/read_bandwidth.c -o /tmp/read_bw
 *   OMP_NUM_THREADS=2 /tmp/read_bw [MIB] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* 64 independent lanes: -O3 -march=native vectorises them with the widest loads the CPU has
 * (AVX-512 or AVX2), and the loads, not the adds, set the pace. */
static float sum(const float *a, size_t lo, size_t hi) {
    float lanes[64] = {0};
    for (size_t i = lo; i + 64 <= hi; i += 64)
        for (int j = 0; j < 64; j++) lanes[j] += a[i + j];
    float total = 0;
    for (int j = 0; j < 64; j++) total += lanes[j];
    return total;
}

static double round_gbs(const float *a, size_t n) {
    double start = now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        size_t id = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t part = ((n + nt - 1) / nt + 63) / 64 * 64;
        size_t lo = id * part < n ? id * part : n, hi = lo + part < n ? lo + part : n;
        total += sum(a, lo, hi);
    }
    double gbs = n * 4 / (now() - start) / 1e9;
    return total == total ? gbs : 0; /* uses the sum, so the reads stay */
}

static double best_gbs(const float *a, size_t n) {
    round_gbs(a, n); /* the first read after the pages were written is not the steady state */
    double best = 0, start = now();
    for (int r = 0; r < 10 || now() - start < 1.5; r++) {
        double gbs = round_gbs(a, n);
        if (gbs > best) best = gbs;
    }
    return best;
}

int main(int argc, char **argv) {
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    size_t bytes = llc > 0 ? 4 * (size_t)llc : 0;
    if (bytes < (1ul << 30)) bytes = 1ul << 30;
    if (bytes > (4ul << 30)) bytes = 4ul << 30;
    if (argc > 1) bytes = strtoul(argv[1], NULL, 10) << 20;
    size_t n = bytes / 4;
    for (int huge = 0; huge < 2; huge++) {
        float *a = aligned_alloc(2 << 20, bytes);
        if (!a) return 1;
        if (huge) madvise(a, bytes, MADV_HUGEPAGE);
        memset(a, 1, bytes);
        printf("%s pages: %.1f GB/s on %d threads (%zu MiB)\n", huge ? "huge" : "4 KiB",
               best_gbs(a, n), omp_get_max_threads(), bytes >> 20);
        free(a);
    }
    return 0;
}
