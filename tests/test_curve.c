/*
 * test_curve.c — the latency curve f(n): exact interpolation, the flat floor below the
 * first point, linear extension past the last, zero tokens, monotonicity on random
 * curves, validation messages, copies, log-normal jitter; and the cluster cost functions
 * built on it (effective curve = base / speed, a GPU's layer time, the straggler max).
 */
#include "harness.h"

#include "moemap/cluster.h"

/* A curve shaped like the measured H200 DeepSeek-V3 expert (GPU-NOTES.md): flat near the
 * weight-read floor, then linear in the token count. */
static double T[] = {1, 64, 256, 1024, 4096};
static double U[] = {60, 61, 75, 150, 560};
static moemap_curve h200(void)
{
    moemap_curve c = {5, T, U, 0.0};
    return c;
}

TEST(eval_at_points_and_between)
{
    moemap_curve c = h200();
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(moemap_curve_eval(&c, T[i]), U[i], 1e-12);
    CHECK_NEAR(moemap_curve_eval(&c, 32.5), 60.5, 1e-12);   /* middle of 1..64 */
    CHECK_NEAR(moemap_curve_eval(&c, 160), 68, 1e-12);      /* middle of 64..256 */
    CHECK_NEAR(moemap_curve_eval(&c, 2560), 355, 1e-12);    /* middle of 1024..4096 */
    CHECK_NEAR(moemap_curve_eval(&c, 1024 + 3072 * 0.25), 150 + 410 * 0.25, 1e-12);
}

TEST(eval_zero_floor_and_extension)
{
    moemap_curve c = h200();
    CHECK(moemap_curve_eval(&c, 0) == 0.0);
    CHECK(moemap_curve_eval(&c, -5) == 0.0);
    /* A fraction of a token (a replica share) below the first point pays the floor. */
    CHECK_NEAR(moemap_curve_eval(&c, 0.25), 60, 1e-12);
    /* Past the last point, slope of the last segment (410 us per 3072 tokens). */
    CHECK_NEAR(moemap_curve_eval(&c, 8192), 560 + 410.0 / 3072 * 4096, 1e-9);
    CHECK_NEAR(moemap_curve_eval(&c, 16384), 560 + 410.0 / 3072 * 12288, 1e-9);
    /* Empty curve costs nothing; a one-point curve is flat. */
    moemap_curve e = {0, NULL, NULL, 0};
    CHECK(moemap_curve_eval(&e, 100) == 0.0);
    double t1[] = {128}, u1[] = {42};
    moemap_curve one = {1, t1, u1, 0};
    CHECK_NEAR(moemap_curve_eval(&one, 1), 42, 0);
    CHECK_NEAR(moemap_curve_eval(&one, 1e6), 42, 0);
    /* A flat last segment extends flat, never below the last value. */
    double t2[] = {1, 10}, u2[] = {5, 5};
    moemap_curve flat = {2, t2, u2, 0};
    CHECK_NEAR(moemap_curve_eval(&flat, 1000), 5, 0);
}

TEST(eval_monotone_on_random_curves)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 7);
    double t[40], u[40];
    for (int trial = 0; trial < 200; trial++) {
        int n = 1 + (int)moemap_rng_below(&rng, 40);
        double tk = 0, us = 0;
        for (int i = 0; i < n; i++) {
            tk += 0.5 + 100 * moemap_rng_uniform(&rng);
            us += moemap_rng_uniform(&rng) < 0.3 ? 0 : 50 * moemap_rng_uniform(&rng);
            t[i] = tk;
            u[i] = us;
        }
        moemap_curve c = {n, t, u, 0};
        moemap_error err = {0};
        CHECK_OK(moemap_curve_check(&c, "random", &err), &err);
        double prev = 0;
        for (double x = 0; x < tk * 2; x += tk / 97) {
            double v = moemap_curve_eval(&c, x);
            if (v < prev - 1e-9) {
                CHECK(v >= prev - 1e-9);
                break;
            }
            prev = v;
        }
        /* Interpolation between neighbouring points stays between their values. */
        for (int i = 0; i + 1 < n; i++) {
            double v = moemap_curve_eval(&c, 0.5 * (t[i] + t[i + 1]));
            CHECK(v >= u[i] - 1e-9 && v <= u[i + 1] + 1e-9);
        }
    }
}

TEST(check_rejects_bad_curves)
{
    moemap_error err = {0};
    double t[] = {1, 64, 64}, u[] = {60, 70, 80};
    moemap_curve c = {3, t, u, 0};
    CHECK(moemap_curve_check(&c, "gpus[2].curve", &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "gpus[2].curve.tokens[2]");
    CHECK_STR_CONTAINS(err.msg, "increase strictly");
    double t2[] = {1, 64, 256}, u2[] = {60, 70, 65};
    moemap_curve d = {3, t2, u2, 0};
    CHECK(moemap_curve_check(&d, "base_curve", &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "base_curve.us[2]");
    CHECK_STR_CONTAINS(err.msg, "non-decreasing");
    double u3[] = {-1, 70, 80};
    moemap_curve e = {3, t2, u3, 0};
    CHECK(moemap_curve_check(&e, "x", &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "x.us[0]");
    double t4[] = {0, 5}, u4[] = {1, 2};
    moemap_curve f = {2, t4, u4, 0};
    CHECK(moemap_curve_check(&f, "x", &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "x.tokens[0]");
    double u5[] = {1, NAN};
    moemap_curve g = {2, t2, u5, 0};
    CHECK(moemap_curve_check(&g, "x", &err) == MOEMAP_ERANGE);
    moemap_curve h = {2, t2, u2, -0.1};
    CHECK(moemap_curve_check(&h, "x", &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "x.cv");
    moemap_curve empty = {0, NULL, NULL, 0};
    CHECK(moemap_curve_check(&empty, "x", &err) == MOEMAP_EINVAL);
    moemap_curve ok = h200();
    CHECK_OK(moemap_curve_check(&ok, "x", &err), &err);
}

TEST(copy_and_clear)
{
    moemap_error err = {0};
    moemap_curve src = h200(), dst = {0};
    src.cv = 0.02;
    CHECK_OK(moemap_curve_copy(&src, &dst, &err), &err);
    REQUIRE(dst.n == 5 && dst.tokens != T);
    CHECK_NEAR(dst.us[4], 560, 0);
    CHECK_NEAR(dst.cv, 0.02, 0);
    /* Copy onto itself keeps the points. */
    CHECK_OK(moemap_curve_copy(&dst, &dst, &err), &err);
    CHECK_NEAR(moemap_curve_eval(&dst, 2560), 355, 1e-12);
    /* A failed allocation leaves dst as it was. */
    moemap_alloc_fail_after(0);
    CHECK(moemap_curve_copy(&src, &dst, &err) == MOEMAP_ENOMEM);
    moemap_alloc_fail_after(-1);
    CHECK(dst.n == 5);
    moemap_curve_clear(&dst);
    CHECK(dst.n == 0 && dst.tokens == NULL && dst.us == NULL);
    moemap_curve_clear(NULL);
}

TEST(sample_jitter_has_mean_and_cv)
{
    moemap_curve c = h200();
    moemap_rng rng;
    moemap_rng_seed(&rng, 11);
    CHECK(moemap_curve_sample(&c, 1024, &rng) == 150.0); /* cv 0: exact */
    c.cv = 0.05;
    double s = 0, s2 = 0;
    int n = 20000;
    for (int i = 0; i < n; i++) {
        double x = moemap_curve_sample(&c, 1024, &rng);
        CHECK(x > 0);
        s += x;
        s2 += x * x;
    }
    double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    /* Standard error of the mean: 150 * 0.05 / sqrt(20000) = 0.053 us. */
    CHECK_NEAR(mean, 150, 0.25);
    CHECK_NEAR(sd / mean, 0.05, 0.003);
    CHECK(moemap_curve_sample(&c, 0, &rng) == 0.0);
}

/* n GPUs of speed 1 on the H200 base curve with jitter cv (NULL when creation failed). */
static moemap_cluster *h200_cluster(int n, double cv)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    moemap_curve b = h200();
    b.cv = cv;
    if (moemap_cluster_create(n, &c, &err) || moemap_curve_copy(&b, &c->base, &err)) {
        fprintf(stderr, "  %s\n", err.msg);
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

TEST(cluster_cost_functions)
{
    moemap_error err = {0};
    moemap_cluster *c = h200_cluster(3, 0.01);
    REQUIRE(c);
    c->gpus[1].speed = 0.8;
    /* GPU 2 has its own curve: twice the base everywhere, and its own jitter. */
    double u2[5];
    for (int i = 0; i < 5; i++)
        u2[i] = 2 * U[i];
    moemap_curve own = {5, T, u2, 0.03};
    CHECK_OK(moemap_curve_copy(&own, &c->gpus[2].curve, &err), &err);
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    CHECK_NEAR(moemap_cluster_expert_us(c, 0, 1024), 150, 1e-12);
    CHECK_NEAR(moemap_cluster_expert_us(c, 1, 1024), 150 / 0.8, 1e-9);
    CHECK_NEAR(moemap_cluster_expert_us(c, 2, 1024), 300, 1e-12);
    CHECK(moemap_cluster_expert_us(c, 1, 0) == 0.0);
    CHECK_NEAR(moemap_cluster_gpu_cv(c, 0), 0.01, 0);
    CHECK_NEAR(moemap_cluster_gpu_cv(c, 2), 0.03, 0);
    double tok[] = {64, 0, 256, 4096};
    CHECK_NEAR(moemap_cluster_gpu_layer_us(c, 0, tok, 4), 61 + 75 + 560, 1e-9);
    CHECK_NEAR(moemap_cluster_gpu_layer_us(c, 1, tok, 4), (61 + 75 + 560) / 0.8, 1e-9);
    int gpu[] = {0, 1, 2, 1};
    double per[3];
    double m = moemap_cluster_layer_max_us(c, gpu, tok, 4, per);
    CHECK_NEAR(per[0], 61, 1e-12);
    CHECK_NEAR(per[1], 560 / 0.8, 1e-9);
    CHECK_NEAR(per[2], 150, 1e-12);
    CHECK_NEAR(m, 700, 1e-9);
    /* The clone is deep and equal. */
    moemap_cluster *d;
    CHECK_OK(moemap_cluster_clone(c, &d, &err), &err);
    REQUIRE(d);
    CHECK(d->gpus[2].curve.us != c->gpus[2].curve.us && d->base.us != c->base.us);
    CHECK_NEAR(moemap_cluster_expert_us(d, 1, 1024), 150 / 0.8, 1e-9);
    moemap_cluster_free(d);
    /* Speed 0 is refused by finalize, naming the GPU. */
    c->gpus[1].speed = 0;
    CHECK(moemap_cluster_finalize(c, &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "gpus[1].speed");
    c->gpus[1].speed = 1;
    c->gpus[0].slots = -1;
    CHECK(moemap_cluster_finalize(c, &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "gpus[0].slots");
    c->gpus[0].slots = 4;
    c->gpus[1].slots = 5;
    c->gpus[2].slots = 6;
    CHECK_INT_EQ(moemap_cluster_total_slots(c), 15);
    moemap_curve_clear(&c->base);
    CHECK(moemap_cluster_finalize(c, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "gpus[0]: has no \"curve\"");
    moemap_cluster_free(c);
    moemap_cluster_free(NULL);
}

/* f_g is computed on every call, never cached: an edit counts at once, and f_g as a curve
 * (for hulls and charts) or compared between GPUs agrees with the cost function bit for
 * bit. */
TEST(gpu_cost_is_computed_not_cached)
{
    moemap_error err = {0};
    moemap_cluster *c = h200_cluster(4, 0.02);
    REQUIRE(c);
    c->gpus[1].speed = 0.7;
    c->gpus[2].speed = 0.7;
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    CHECK_NEAR(moemap_cluster_expert_us(c, 1, 1024), 150 / 0.7, 1e-9);
    c->gpus[1].speed = 0.5; /* no finalize: nothing to rebuild */
    CHECK_NEAR(moemap_cluster_expert_us(c, 1, 1024), 300, 1e-9);
    c->gpus[1].speed = 0.7;
    /* GPU 3's own curve is the base divided by 0.7 point for point: the same cost as
     * GPUs 1 and 2, another than GPU 0's. */
    moemap_curve f1 = {0};
    CHECK_OK(moemap_cluster_gpu_curve(c, 1, &f1, &err), &err);
    CHECK_INT_EQ(f1.n, c->base.n);
    CHECK_NEAR(f1.cv, 0.02, 0);
    CHECK_OK(moemap_curve_copy(&f1, &c->gpus[3].curve, &err), &err);
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    CHECK(moemap_cluster_same_cost(c, 1, 2) && moemap_cluster_same_cost(c, 1, 3));
    CHECK(moemap_cluster_same_cost(c, 3, 2) && moemap_cluster_same_cost(c, 0, 0));
    CHECK(!moemap_cluster_same_cost(c, 0, 1) && !moemap_cluster_same_cost(c, 3, 0));
    /* Points divided before interpolating: identical doubles, inside and past the curve. */
    moemap_rng rng;
    moemap_rng_seed(&rng, 7);
    for (int i = 0; i < 2000; i++) {
        double n = moemap_rng_uniform(&rng) * 9000;
        CHECK(moemap_cluster_expert_us(c, 1, n) == moemap_curve_eval(&f1, n));
        CHECK(moemap_cluster_expert_us(c, 3, n) == moemap_cluster_expert_us(c, 2, n));
    }
    moemap_curve_clear(&f1);
    moemap_cluster_free(c);
}

int main(void)
{
    RUN(eval_at_points_and_between);
    RUN(eval_zero_floor_and_extension);
    RUN(eval_monotone_on_random_curves);
    RUN(check_rejects_bad_curves);
    RUN(copy_and_clear);
    RUN(sample_jitter_has_mean_and_cv);
    RUN(cluster_cost_functions);
    RUN(gpu_cost_is_computed_not_cached);
    return mm_test_done();
}
