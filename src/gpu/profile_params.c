/*
 * profile_params.c — the profiler's default parameters and token grid. Host-only, built
 * into libmoemap with and without CUDA (the CLI explains its defaults either way), and
 * called by the GPU module's profiler for the grid.
 */
#include <string.h>

#include "moemap/gpu_profile.h"

moemap_profile_params moemap_profile_default_params(void)
{
    return (moemap_profile_params){.dtype = "bf16", .max_tokens = 16384, .repeats = 200,
                                   .rounds = 20, .warmup = 2, .settle_s = 3.0,
                                   .seed = 20261122};
}

/* Steps between powers of two where cuBLAS's tile shapes change (multiples of 8 up to 16,
 * then quarter steps), so the curve's kinks fall on grid points. */
int moemap_profile_default_grid(int max_tokens, int *out, int cap)
{
    static const int head[] = {1, 2, 4, 8, 12, 16, 24, 32, 48};
    int grid[160], n = 0;
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        if (head[i] <= max_tokens)
            grid[n++] = head[i];
    for (long base = 64; base <= max_tokens && n < 150; base *= 2)
        for (int q = 0; q < 4; q++) {
            long t = base + q * base / 4;
            /* Above 4096 tokens the curve is linear: halves are enough. */
            if (t <= max_tokens && !(base >= 4096 && q % 2))
                grid[n++] = (int)t;
        }
    if (max_tokens >= 1 && (n == 0 || grid[n - 1] < max_tokens))
        grid[n++] = max_tokens;
    for (int i = 0; i < n && i < cap; i++)
        out[i] = grid[i];
    return n;
}
