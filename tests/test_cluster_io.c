/*
 * test_cluster_io.c — moemap.cluster/v1 reading and writing: a write/read round trip keeps
 * every field, provenance ("source") survives, and each kind of bad profile (missing
 * fields, non-monotone or negative curves, duplicate or missing GPU ids, a GPU with no
 * curve to use, bad speed or slots, wrong format, mismatched expert shape) is rejected
 * with a message that names the file and the field.
 *
 * The curves are shaped like the real H200 measurements in GPU-NOTES.md (flat near the
 * weight-read floor, then linear).
 */
#include "harness.h"

#include "moemap/cluster.h"

static const char *write_text(const char *name, const char *text)
{
    const char *path = mm_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

#define HEAD "{\"format\": \"moemap.cluster/v1\", "
#define EXPERT "\"expert\": {\"hidden\": 7168, \"intermediate\": 2048, \"dtype\": \"bf16\"}, "
#define BASE "\"base_curve\": {\"tokens\": [1, 64, 256, 1024, 4096], " \
             "\"us\": [60, 61, 75, 150, 560], \"cv\": 0.02}, "
#define NET "\"network\": {\"intra_node_GBps\": 450, \"inter_node_GBps\": 50, \"latency_us\": 10}"
#define GPU0 "{\"id\": 0, \"node\": 0, \"name\": \"NVIDIA H200\", \"slots\": 9, \"speed\": 1.0}"
#define GPU1 "{\"id\": 1, \"node\": 0, \"slots\": 9, \"curve\": {\"tokens\": [1, 512, 4096], " \
             "\"us\": [40, 130, 830]}, \"cv\": 0.015, \"sm_limit\": 66, \"mem_gb\": 80}"

/* Reads text expected to fail; checks the status and that the message names the file and
 * contains `want`. */
static void expect_bad(const char *text, int code, const char *want)
{
    moemap_error err = {0};
    moemap_cluster *c = (moemap_cluster *)1;
    const char *path = write_text("bad_cluster.json", text);
    int rc = moemap_cluster_read(path, &c, &err);
    if (rc != code)
        fprintf(stderr, "  for %s\n  got %d (%s)\n", want, rc, err.msg);
    CHECK_INT_EQ(rc, code);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err.msg, "bad_cluster.json");
    CHECK_STR_CONTAINS(err.msg, want);
}

TEST(read_example_and_cost)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    const char *p = write_text("good.json", HEAD EXPERT BASE "\"gpus\": [" GPU1 ", " GPU0
                               "], " NET ", \"source\": {\"command\": \"moemap profile\", "
                               "\"machine\": \"nvidia-h200\"}}");
    CHECK_OK(moemap_cluster_read(p, &c, &err), &err);
    REQUIRE(c);
    CHECK_INT_EQ(c->num_gpus, 2);
    CHECK_INT_EQ(c->hidden, 7168);
    CHECK_INT_EQ(c->intermediate, 2048);
    CHECK(strcmp(c->dtype, "bf16") == 0);
    CHECK(strcmp(c->gpus[0].name, "NVIDIA H200") == 0);
    CHECK_INT_EQ(c->gpus[1].sm_limit, 66);
    CHECK_NEAR(c->gpus[1].mem_gb, 80, 0);
    CHECK_NEAR(c->latency_us, 10, 0);
    /* GPU 0 uses the base curve, GPU 1 its own. */
    CHECK_NEAR(moemap_cluster_expert_us(c, 0, 2560), 355, 1e-9);
    CHECK_NEAR(moemap_cluster_expert_us(c, 1, 256), 40 + 90.0 * 255 / 511, 1e-9);
    CHECK_NEAR(moemap_cluster_gpu_cv(c, 0), 0.02, 0);
    CHECK_NEAR(moemap_cluster_gpu_cv(c, 1), 0.015, 0);
    CHECK_STR_CONTAINS(c->source_json, "nvidia-h200");
    CHECK_OK(moemap_cluster_check_shape(c, 7168, 2048, "bf16", &err), &err);
    CHECK(moemap_cluster_check_shape(c, 4096, 14336, "bf16", &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "hidden 7168");
    CHECK_STR_CONTAINS(err.msg, "hidden 4096");
    CHECK(moemap_cluster_check_shape(c, 7168, 2048, "fp8", &err) == MOEMAP_EINVAL);
    moemap_cluster_free(c);
}

TEST(write_read_round_trip)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL, *d = NULL;
    CHECK_OK(moemap_cluster_create(5, &c, &err), &err);
    REQUIRE(c);
    c->hidden = 2048;
    c->intermediate = 768;
    double t[] = {1, 32, 128, 512, 2048, 8192};
    double u[] = {12.5, 12.75, 14.125, 30.5, 101.0625, 390.25};
    moemap_curve b = {6, t, u, 0.0125};
    CHECK_OK(moemap_curve_copy(&b, &c->base, &err), &err);
    for (int g = 0; g < 5; g++) {
        c->gpus[g].node = g / 2;
        c->gpus[g].slots = 3 + g;
        c->gpus[g].speed = 1.0 - 0.03125 * g;
    }
    snprintf(c->gpus[3].name, sizeof c->gpus[3].name, "NVIDIA H100 80GB HBM3");
    double u4[] = {10, 11, 13, 40, 150, 600};
    moemap_curve own = {6, t, u4, 0};
    CHECK_OK(moemap_curve_copy(&own, &c->gpus[4].curve, &err), &err);
    c->gpus[4].curve.cv = 0.04;
    c->gpus[4].sm_limit = 66;
    c->gpus[2].mem_gb = 40.5;
    c->gpus[1].curve.cv = 0.07; /* jitter of a GPU that uses the base curve */
    c->intra_node_GBps = 450;
    c->inter_node_GBps = 50;
    c->latency_us = 8.5;
    CHECK_OK(moemap_cluster_set_source(c, "{\"command\":\"moemap cluster synth\"}", &err),
             &err);
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    const char *p = mm_tmp_path("roundtrip.json");
    CHECK_OK(moemap_cluster_write(c, p, &err), &err);
    CHECK_OK(moemap_cluster_read(p, &d, &err), &err);
    REQUIRE(d);
    CHECK_INT_EQ(d->num_gpus, 5);
    CHECK_INT_EQ(d->hidden, 2048);
    CHECK_INT_EQ(d->intermediate, 768);
    CHECK_INT_EQ(d->base.n, 6);
    CHECK_NEAR(d->base.cv, 0.0125, 1e-9);
    for (int k = 0; k < 6; k++)
        CHECK_NEAR(d->base.us[k], u[k], 1e-9);
    for (int g = 0; g < 5; g++) {
        CHECK_INT_EQ(d->gpus[g].node, c->gpus[g].node);
        CHECK_INT_EQ(d->gpus[g].slots, c->gpus[g].slots);
        CHECK_NEAR(d->gpus[g].speed, c->gpus[g].speed, 1e-9);
        CHECK_INT_EQ(d->gpus[g].curve.n, c->gpus[g].curve.n);
        CHECK_INT_EQ(d->gpus[g].sm_limit, c->gpus[g].sm_limit);
        CHECK_NEAR(d->gpus[g].mem_gb, c->gpus[g].mem_gb, 1e-9);
        CHECK(strcmp(d->gpus[g].name, c->gpus[g].name) == 0);
        CHECK_NEAR(moemap_cluster_gpu_cv(d, g), moemap_cluster_gpu_cv(c, g), 1e-9);
        for (double n = 0; n < 20000; n += 77)
            CHECK_NEAR(moemap_cluster_expert_us(d, g, n), moemap_cluster_expert_us(c, g, n),
                       1e-6);
    }
    CHECK_NEAR(d->latency_us, 8.5, 0);
    CHECK_STR_CONTAINS(d->source_json, "moemap cluster synth");
    /* Writing the re-read cluster gives the same bytes (a fixed point). */
    const char *p2 = mm_tmp_path("roundtrip2.json");
    CHECK_OK(moemap_cluster_write(d, p2, &err), &err);
    FILE *f1 = fopen(p, "rb"), *f2 = fopen(p2, "rb");
    REQUIRE(f1 && f2);
    int same = 1, a, b2;
    do {
        a = fgetc(f1);
        b2 = fgetc(f2);
        same &= a == b2;
    } while (a != EOF && b2 != EOF);
    fclose(f1);
    fclose(f2);
    CHECK(same);
    moemap_cluster_free(c);
    moemap_cluster_free(d);
}

TEST(rejects_bad_profiles)
{
    /* Missing fields. */
    expect_bad("{\"expert\": {}}", MOEMAP_EFORMAT, "missing field \"format\"");
    expect_bad("{\"format\": \"moemap.placement/v1\"}", MOEMAP_EFORMAT,
               "format is \"moemap.placement/v1\", expected \"moemap.cluster/v1\"");
    expect_bad(HEAD EXPERT BASE NET "}", MOEMAP_EPARSE, "missing field \"gpus\"");
    expect_bad(HEAD BASE "\"gpus\": [" GPU0 "], " NET "}", MOEMAP_EPARSE,
               "missing field \"expert\"");
    expect_bad(HEAD "\"expert\": {\"hidden\": 7168, \"dtype\": \"bf16\"}, " BASE
               "\"gpus\": [" GPU0 "], " NET "}", MOEMAP_EPARSE,
               "expert: missing field \"intermediate\"");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [" GPU0 "]}", MOEMAP_EPARSE,
               "missing field \"network\"");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [" GPU0 "], \"network\": {\"intra_node_GBps\": 1, "
               "\"latency_us\": 1}}", MOEMAP_EPARSE, "network: missing field \"inter_node_GBps\"");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"speed\": 1}], " NET "}",
               MOEMAP_EPARSE, "gpus[0]: missing field \"slots\"");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 2}], " NET "}",
               MOEMAP_EPARSE, "gpus[0]: missing field \"speed\"");
    expect_bad(HEAD EXPERT "\"base_curve\": {\"tokens\": [1, 2]}, \"gpus\": [" GPU0 "], " NET
               "}", MOEMAP_EPARSE, "base_curve: missing field \"us\"");
    /* Curves: non-monotone, negative, not finite, mismatched lengths, empty. */
    expect_bad(HEAD EXPERT "\"base_curve\": {\"tokens\": [1, 64, 256], \"us\": [60, 80, 70]}, "
               "\"gpus\": [" GPU0 "], " NET "}", MOEMAP_EINVAL,
               "base_curve.us[2]: 70 us at 256 tokens is below us[1] = 80");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"curve\": "
               "{\"tokens\": [1, 512, 256], \"us\": [1, 2, 3]}}], " NET "}", MOEMAP_EINVAL,
               "gpus[0].curve.tokens[2]: 256 is not above tokens[1] = 512");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"curve\": "
               "{\"tokens\": [1, 512], \"us\": [-4, 2]}}], " NET "}", MOEMAP_ERANGE,
               "gpus[0].curve.us[0]: -4 must be a finite number >= 0");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"curve\": "
               "{\"tokens\": [1, 512], \"us\": [4, 2, 3]}}], " NET "}", MOEMAP_EINVAL,
               "gpus[0].curve: 2 token counts but 3 times");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"curve\": "
               "{\"tokens\": [1, 512], \"us\": [4, \"x\"]}}], " NET "}", MOEMAP_EPARSE,
               "gpus[0].curve.us[1]: expected a number");
    expect_bad(HEAD EXPERT "\"base_curve\": {\"tokens\": [], \"us\": []}, \"gpus\": [" GPU0
               "], " NET "}", MOEMAP_EINVAL, "base_curve.tokens: empty");
    /* GPU ids. */
    expect_bad(HEAD EXPERT BASE "\"gpus\": [" GPU0 ", " GPU0 "], " NET "}", MOEMAP_EINVAL,
               "gpus[1].id: duplicate GPU id 0");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [" GPU0 ", {\"id\": 2, \"node\": 0, \"slots\": 1, "
               "\"speed\": 1}], " NET "}", MOEMAP_EINVAL, "id 1 is missing");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 2, \"node\": 0, \"slots\": 1, "
               "\"speed\": 1}, " GPU0 "], " NET "}", MOEMAP_EINVAL,
               "gpus[0].id: 2 but the file lists 2 GPUs (ids must be 0..1; id 1 is missing)");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"node\": 0, \"slots\": 1, \"speed\": 1}], " NET
               "}", MOEMAP_EPARSE, "gpus[0]: missing field \"id\"");
    /* A GPU with neither its own curve nor a base curve. */
    expect_bad(HEAD EXPERT "\"gpus\": [" GPU0 "], " NET "}", MOEMAP_EINVAL,
               "gpus[0]: has no \"curve\" and the file has no \"base_curve\"");
    /* Speed, slots, node, cv. */
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"speed\": 0}"
               "], " NET "}", MOEMAP_ERANGE, "gpus[0].speed: 0 must be > 0");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"speed\": "
               "-0.5}], " NET "}", MOEMAP_ERANGE, "gpus[0].speed: -0.5 must be > 0");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": -1, \"speed\": "
               "1}], " NET "}", MOEMAP_ERANGE, "gpus[0].slots: -1 is outside");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1, \"speed\": "
               "1, \"cv\": -0.1}], " NET "}", MOEMAP_ERANGE, "gpus[0].cv: -0.1 is outside");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 1.5, "
               "\"speed\": 1}], " NET "}", MOEMAP_EPARSE, "gpus[0].slots: expected an integer");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [], " NET "}", MOEMAP_EINVAL, "gpus: empty");
    expect_bad(HEAD EXPERT BASE "\"gpus\": [" GPU0 "], \"network\": {\"intra_node_GBps\": -1, "
               "\"inter_node_GBps\": 1, \"latency_us\": 1}}", MOEMAP_ERANGE,
               "network.intra_node_GBps: -1 is outside");
    /* Syntax errors carry line:column. */
    expect_bad(HEAD "\n\"expert\": {,}}", MOEMAP_EPARSE, "bad_cluster.json:2:");
}

TEST(parse_buffer_and_missing_file)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    const char *text = HEAD EXPERT BASE "\"gpus\": [" GPU0 "], " NET "}";
    CHECK_OK(moemap_cluster_parse_buffer(text, strlen(text), "<mem>", &c, &err), &err);
    CHECK(c && c->num_gpus == 1);
    moemap_cluster_free(c);
    CHECK(moemap_cluster_read(mm_tmp_path("does-not-exist.json"), &c, &err) == MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "does-not-exist.json");
    /* Every allocation failing in turn: an error, never a crash or a leak. */
    int failures = 0;
    for (long k = 0; k < 200; k++) {
        moemap_alloc_fail_after(k);
        int rc = moemap_cluster_parse_buffer(text, strlen(text), "<mem>", &c, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0) {
            moemap_cluster_free(c);
            break;
        }
        CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        failures++;
    }
    CHECK(failures > 3);
}

TEST(merge_keeps_each_gpu_cost)
{
    moemap_error err = {0};
    moemap_cluster *a = NULL, *b = NULL, *m = NULL, *x = NULL;
    const char *ta = HEAD EXPERT BASE "\"gpus\": [" GPU1 ", {\"id\": 0, \"node\": 1, "
                     "\"slots\": 3, \"speed\": 0.5}], " NET "}";
    const char *tb = HEAD EXPERT "\"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 0, "
                     "\"sm_limit\": 66, \"curve\": {\"tokens\": [16, 8192], \"us\": [37, 1503]}, "
                     "\"cv\": 0.05}], " NET "}";
    CHECK_OK(moemap_cluster_parse_buffer(ta, strlen(ta), "a.json", &a, &err), &err);
    CHECK_OK(moemap_cluster_parse_buffer(tb, strlen(tb), "b.json", &b, &err), &err);
    REQUIRE(a && b);
    const moemap_cluster *parts[] = {a, b};
    CHECK_OK(moemap_cluster_merge(parts, 2, 0, -1, &m, &err), &err);
    REQUIRE(m);
    CHECK_INT_EQ(m->num_gpus, 3);
    /* a's nodes are 0 and 1; b's node 0 becomes node 2. */
    CHECK_INT_EQ(m->gpus[0].node, 1);
    CHECK_INT_EQ(m->gpus[1].node, 0);
    CHECK_INT_EQ(m->gpus[2].node, 2);
    CHECK_INT_EQ(m->gpus[2].sm_limit, 66);
    CHECK_INT_EQ(m->gpus[0].slots, 3);
    CHECK_NEAR(moemap_cluster_gpu_cv(m, 0), 0.02, 0);  /* a's base curve cv */
    CHECK_NEAR(moemap_cluster_gpu_cv(m, 2), 0.05, 0);
    for (double n = 0; n < 20000; n += 97) {
        CHECK_NEAR(moemap_cluster_expert_us(m, 0, n), moemap_cluster_expert_us(a, 0, n), 1e-9);
        CHECK_NEAR(moemap_cluster_expert_us(m, 1, n), moemap_cluster_expert_us(a, 1, n), 1e-9);
        CHECK_NEAR(moemap_cluster_expert_us(m, 2, n), moemap_cluster_expert_us(b, 0, n), 1e-9);
    }
    moemap_cluster_free(m);
    CHECK_OK(moemap_cluster_merge(parts, 2, 1, 7, &m, &err), &err);
    REQUIRE(m);
    for (int g = 0; g < 3; g++) {
        CHECK_INT_EQ(m->gpus[g].node, 0);
        CHECK_INT_EQ(m->gpus[g].slots, 7);
    }
    moemap_cluster_free(m);
    const char *tx = HEAD "\"expert\": {\"hidden\": 4096, \"intermediate\": 14336, "
                     "\"dtype\": \"bf16\"}, " BASE "\"gpus\": [" GPU0 "], " NET "}";
    CHECK_OK(moemap_cluster_parse_buffer(tx, strlen(tx), "x.json", &x, &err), &err);
    REQUIRE(x);
    const moemap_cluster *bad[] = {a, b, x};
    CHECK(moemap_cluster_merge(bad, 3, 0, -1, &m, &err) == MOEMAP_EINVAL);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(err.msg, "cluster 2 was measured for experts of hidden 4096");
    moemap_cluster_free(a);
    moemap_cluster_free(b);
    moemap_cluster_free(x);
}

int main(void)
{
    RUN(read_example_and_cost);
    RUN(write_read_round_trip);
    RUN(rejects_bad_profiles);
    RUN(parse_buffer_and_missing_file);
    RUN(merge_keeps_each_gpu_cost);
    return mm_test_done();
}
