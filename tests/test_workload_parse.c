/*
 * test_workload_parse.c — the four workload parsers on small hand-written inputs: what
 * good input turns into, and that bad input (truncated, non-numeric, out of range,
 * ragged, inconsistent) gives one error naming the file and line. Also the
 * moemap.loads/v1 round trip, content detection and allocation-failure injection.
 */
#include <math.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "workload/workload_internal.h"
#include "moemap.h"

static moemap_read_params params(moemap_workload_format f)
{
    moemap_read_params p = moemap_read_default_params();
    p.format = f;
    return p;
}

/* Parses `text` and expects an error whose message contains each of the needles. */
static void expect_error(const char *text, moemap_workload_format f, const char *name,
                         const char *needle1, const char *needle2)
{
    moemap_read_params p = params(f);
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    int rc = moemap_workload_parse_buffer(text, strlen(text), name, &p, &ld, &err);
    CHECK(rc < 0);
    CHECK(ld == NULL);
    CHECK(strchr(err.msg, '\n') == NULL); /* one line */
    CHECK_STR_CONTAINS(err.msg, needle1);
    if (needle2)
        CHECK_STR_CONTAINS(err.msg, needle2);
    moemap_loads_free(ld);
}

/* ---- ESFT ------------------------------------------------------------------------------ */

/* Two sequences with top-2 over 4 experts: 2 tokens, then 1 token. */
static const char esft_ok[] = "0\t3\t1\t2\t\t0.5\t0.25\t0.4\t0.1\n"
                              "3\t2\t\t0.6\t0.3\n";

TEST(esft_line_format)
{
    moemap_read_params p = params(MOEMAP_FORMAT_ESFT);
    p.experts = 4;
    p.top_k = 2;
    p.batch_tokens = 2;
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_parse_buffer(esft_ok, strlen(esft_ok), "x/expert_weights_7.txt",
                                          &p, &ld, &err),
             &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->num_layers, 1);
    CHECK_INT_EQ(ld->layer_ids[0], 7);
    CHECK_INT_EQ(ld->experts, 4);
    CHECK_INT_EQ(ld->top_k, 2);
    /* 3 tokens in batches of 2: {tok0, tok1}, {tok2}. */
    CHECK_INT_EQ(ld->num_batches, 2);
    CHECK_NEAR(ld->batch_tokens[0], 2, 0);
    CHECK_NEAR(ld->batch_tokens[1], 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 0), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 1), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 2), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 3), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 1, 0, 2), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 1, 0, 3), 1, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 1, 0, 0), 0, 0);
    moemap_loads_free(ld);
}

TEST(esft_bad_inputs)
{
    /* Default shape for ESFT: 64 experts, top-6. */
    const char *n = "law/expert_weights_3.txt";
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\n1\t2", MOEMAP_FORMAT_ESFT, n,
                 "expert_weights_3.txt:1:", "truncated");
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n1\t2\t3", MOEMAP_FORMAT_ESFT,
                 n, "expert_weights_3.txt:2:", "truncated");
    expect_error("1\t2\tx3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n,
                 "expert_weights_3.txt:1:5:", "'x3' is not");
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\tabc\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n,
                 "expert_weights_3.txt:1:", "'abc' is not a number");
    expect_error("1\t2\t3\t4\t5\t64\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n,
                 "expert_weights_3.txt:1:11:", "expert 64 >= 64 experts");
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\tnan\n", MOEMAP_FORMAT_ESFT, n,
                 ":1:", "not a number");
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t7\n", MOEMAP_FORMAT_ESFT, n, ":1:",
                 "outside [0, 1]");
    expect_error("1\t2\t3\t4\t5\t1\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n,
                 ":1:", "chosen twice");
    expect_error("1\t2\t3\t4\t5\t\t0.1\t0.1\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n, ":1:",
                 "not a multiple of top-k 6");
    expect_error("1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n\n1\t2\t3\t4\t5\t6\t\t0.1\t0.1"
                 "\t0.1\t0.1\t0.1\t0.1\n",
                 MOEMAP_FORMAT_ESFT, n, ":2:", "empty line");
    expect_error("", MOEMAP_FORMAT_ESFT, n, "expert_weights_3.txt", "no tokens");
    expect_error("-1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n", MOEMAP_FORMAT_ESFT, n,
                 ":1:1:", "not a non-negative integer");
}

/* ---- moemap.loads/v1 ------------------------------------------------------------------- */

static const char loads_ok[] =
    "{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"top_k\": 1, \"layers\": [2, 5],\n"
    " \"batches\": [{\"tokens\": 4, \"counts\": [[1, 2, 1], [0, 4, 0]]},\n"
    "             {\"tokens\": 2, \"counts\": [[2, 0, 0], [1, 0.5, 0.5]]}]}\n";

TEST(loads_json_good)
{
    moemap_read_params p = params(MOEMAP_FORMAT_AUTO);
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_parse_buffer(loads_ok, strlen(loads_ok), "w.json", &p, &ld, &err),
             &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->experts, 3);
    CHECK_INT_EQ(ld->top_k, 1);
    CHECK_INT_EQ(ld->num_layers, 2);
    CHECK_INT_EQ(ld->layer_ids[1], 5);
    CHECK_INT_EQ(ld->num_batches, 2);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 1, 1, 2), 0.5, 0);
    CHECK_INT_EQ(moemap_loads_find_layer(ld, 5), 1);
    CHECK_INT_EQ(moemap_loads_find_layer(ld, 3), -1);
    double tot[3];
    moemap_loads_layer_total(ld, 0, tot);
    CHECK_NEAR(tot[0], 3, 0);
    CHECK_NEAR(tot[1], 2, 0);
    CHECK_NEAR(tot[2], 1, 0);

    /* Round trip through the writer, and the clone. */
    const char *path = mm_tmp_path("h1_roundtrip.json");
    CHECK_OK(moemap_loads_write(ld, path, &err), &err);
    moemap_loads *back = NULL, *cl = NULL;
    CHECK_OK(moemap_workload_read(path, NULL, &back, NULL, &err), &err);
    CHECK_OK(moemap_loads_clone(ld, &cl, &err), &err);
    REQUIRE(back != NULL && cl != NULL);
    CHECK_INT_EQ(back->num_batches, 2);
    CHECK_INT_EQ(back->layer_ids[0], 2);
    for (int b = 0; b < 2; b++) {
        CHECK_NEAR(back->batch_tokens[b], ld->batch_tokens[b], 0);
        for (int l = 0; l < 2; l++)
            for (int e = 0; e < 3; e++) {
                CHECK_NEAR(MOEMAP_LOADS_AT(back, b, l, e), MOEMAP_LOADS_AT(ld, b, l, e), 1e-9);
                CHECK_NEAR(MOEMAP_LOADS_AT(cl, b, l, e), MOEMAP_LOADS_AT(ld, b, l, e), 0);
            }
    }
    moemap_loads_free(back);
    moemap_loads_free(cl);
    moemap_loads_free(ld);
}

/* moemap.loads/v1 in moemap's own key order is read by a streaming scanner, any other
 * order through jansson's tree: the same doubles either way, for integers, fractions,
 * tiny and huge counts. */
TEST(loads_json_streaming_equals_tree)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    REQUIRE(moemap_loads_create(7, 0, 3, 9, &ld, &err) == 0);
    moemap_rng rng;
    moemap_rng_seed(&rng, 11);
    const double odd[] = {0.5, 1e-7, 3.14159, 123456789012345.0, 2.5e3, 0, 1e15, 7e-300};
    for (size_t i = 0; i < (size_t)9 * 3 * 7; i++)
        ld->counts[i] = moemap_rng_uniform(&rng) < 0.3 ? odd[moemap_rng_below(&rng, 8)]
                                                       : (double)moemap_rng_below(&rng, 5000);
    for (int b = 0; b < 9; b++)
        ld->batch_tokens[b] = 100 + b;
    ld->layer_ids[0] = 4, ld->layer_ids[1] = 9, ld->layer_ids[2] = 6;
    const char *path = mm_tmp_path("loads_stream.json");
    CHECK_OK(moemap_loads_write(ld, path, &err), &err);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr), *moved = json_object();
    REQUIRE(doc && moved);
    json_object_set(moved, "batches", json_object_get(doc, "batches")); /* the tree path */
    json_object_update_missing(moved, doc);
    char *text = json_dumps(moved, JSON_COMPACT);
    REQUIRE(text);
    moemap_loads *a = NULL, *b = NULL;
    CHECK_OK(moemap_workload_read(path, NULL, &a, NULL, &err), &err);
    CHECK_OK(moemap_workload_parse_buffer(text, strlen(text), "t.json", NULL, &b, &err), &err);
    REQUIRE(a && b);
    CHECK_INT_EQ(a->num_batches, 9);
    CHECK_INT_EQ(b->num_batches, 9);
    CHECK_INT_EQ(a->layer_ids[1], 9);
    int same = a->num_layers == 3 && b->num_layers == 3 && a->experts == 7 && b->experts == 7;
    for (size_t i = 0; same && i < (size_t)9 * 3 * 7; i++)
        same &= a->counts[i] == b->counts[i] && fabs(a->counts[i] - ld->counts[i]) <=
                                                     1e-6 * (1 + ld->counts[i]);
    for (int k = 0; same && k < 9; k++)
        same &= a->batch_tokens[k] == b->batch_tokens[k];
    CHECK(same);
    /* which path each took: the streaming reader declines the other order */
    char *own = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    moemap_loads *c = NULL, *d = NULL;
    CHECK(own && mm_loads_parse_stream(own, strlen(own), &c) == 0 && c);
    CHECK(mm_loads_parse_stream(text, strlen(text), &d) == 1 && !d);
    CHECK(c && c->counts[20] == a->counts[20]);
    moemap_loads_free(c);
    free(own);
    free(text);
    json_decref(doc);
    json_decref(moved);
    moemap_loads_free(a);
    moemap_loads_free(b);
    moemap_loads_free(ld);
}

TEST(loads_json_bad)
{
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"layers\": [1],\n"
                 " \"batches\": [{\"tokens\": 1, \"counts\": [[1, 2",
                 MOEMAP_FORMAT_AUTO, "w.json", "w.json:2:", NULL);
    expect_error("{\"format\": \"moemap.loads/v2\", \"experts\": 3}", MOEMAP_FORMAT_AUTO, "w.json",
                 "w.json", "moemap.loads/v2");
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"layers\": [1],"
                 " \"batches\": [{\"tokens\": 1, \"counts\": [[1, \"x\", 0]]}]}",
                 MOEMAP_FORMAT_AUTO, "w.json", "w.json: batches[0].counts[0][1]", NULL);
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"layers\": [1],"
                 " \"batches\": [{\"tokens\": 1, \"counts\": [[1, 0]]}]}",
                 MOEMAP_FORMAT_AUTO, "w.json", "batches[0].counts[0]", "3 counts");
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"layers\": [1, 1],"
                 " \"batches\": [{\"tokens\": 1, \"counts\": [[1, 0, 0], [0, 0, 1]]}]}",
                 MOEMAP_FORMAT_AUTO, "w.json", "layers[1]", "twice");
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 3, \"layers\": [1],"
                 " \"batches\": [{\"tokens\": 1, \"counts\": [[1, -2, 0]]}]}",
                 MOEMAP_FORMAT_AUTO, "w.json", "counts[0][1]", "non-negative");
    expect_error("{\"format\": \"moemap.loads/v1\", \"experts\": 0, \"layers\": [1],"
                 " \"batches\": []}",
                 MOEMAP_FORMAT_AUTO, "w.json", "w.json", "experts");
    expect_error("{\"something\": 1}", MOEMAP_FORMAT_AUTO, "w.json", "w.json",
                 "logical_count");
}

/* ---- SGLang ---------------------------------------------------------------------------- */

TEST(sglang_2d_and_3d)
{
    /* Layer 0 dense (all zero): no entry. */
    const char *two = "{\"logical_count\": [[0, 0, 0], [3, 1, 0], [1, 1, 2]]}";
    moemap_read_params p = params(MOEMAP_FORMAT_AUTO);
    p.top_k = 2;
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_parse_buffer(two, strlen(two), "d.json", &p, &ld, &err), &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->num_layers, 2);
    CHECK_INT_EQ(ld->layer_ids[0], 1);
    CHECK_INT_EQ(ld->layer_ids[1], 2);
    CHECK_INT_EQ(ld->num_batches, 1);
    CHECK_NEAR(ld->batch_tokens[0], 2, 0); /* 4 token-slots / top-2 */
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 0), 3, 0);
    moemap_loads_free(ld);

    const char *three = "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 0], [3, 0]]]}";
    p.top_k = 0;
    CHECK_OK(moemap_workload_parse_buffer(three, strlen(three), "d.json", &p, &ld, &err), &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->num_batches, 2);
    CHECK_INT_EQ(ld->num_layers, 1);
    CHECK_INT_EQ(ld->layer_ids[0], 1);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 1, 0, 0), 3, 0);
    CHECK_NEAR(ld->batch_tokens[0], 3, 0); /* top-k unknown: token-slots */
    moemap_loads_free(ld);
}

TEST(sglang_bad)
{
    expect_error("{\"logical_count\": [[1, 2], [3]]}", MOEMAP_FORMAT_AUTO, "s.json",
                 "s.json: logical_count[1]", "expected 2");
    expect_error("{\"logical_count\": [[1, -2]]}", MOEMAP_FORMAT_AUTO, "s.json",
                 "logical_count[0][1]", "non-negative");
    expect_error("{\"logical_count\": [[0, 0]]}", MOEMAP_FORMAT_AUTO, "s.json", "s.json",
                 "zero");
    expect_error("{\"logical_count\": [[[1, 2]], [[1, 2], [3, 4]]]}", MOEMAP_FORMAT_AUTO,
                 "s.json", "logical_count[1]", "expected 1");
    expect_error("{\"logical_count\": []}", MOEMAP_FORMAT_SGLANG, "s.json", "s.json", NULL);
    expect_error("{\"logical_count\": [[1, 2]", MOEMAP_FORMAT_AUTO, "s.json", "s.json:1:", NULL);
}

/* ---- CSV --------------------------------------------------------------------------------- */

TEST(csv_good)
{
    const char *plain = "# loads\n0,0,0\n4,1,1\n1,2,3\n";
    moemap_read_params p = params(MOEMAP_FORMAT_AUTO);
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_parse_buffer(plain, strlen(plain), "l.csv", &p, &ld, &err), &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->experts, 3);
    CHECK_INT_EQ(ld->num_layers, 2); /* the all-zero row 0 is dense */
    CHECK_INT_EQ(ld->layer_ids[0], 1);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 1, 2), 3, 0);
    moemap_loads_free(ld);

    const char *hdr = "layer,e0,e1\r\n3, 5, 1\r\n7,2,2\r\n";
    CHECK_OK(moemap_workload_parse_buffer(hdr, strlen(hdr), "l.csv", &p, &ld, &err), &err);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->experts, 2);
    CHECK_INT_EQ(ld->layer_ids[0], 3);
    CHECK_INT_EQ(ld->layer_ids[1], 7);
    CHECK_NEAR(MOEMAP_LOADS_AT(ld, 0, 0, 0), 5, 0);
    moemap_loads_free(ld);
}

TEST(csv_bad)
{
    expect_error("1,2,3\n4,5\n", MOEMAP_FORMAT_CSV, "l.csv", "l.csv:2:", "ragged");
    expect_error("1,2,3\n4,x5,6\n", MOEMAP_FORMAT_CSV, "l.csv", "l.csv:2:3:", "'x5' is not");
    expect_error("1,2,3\n4,-5,6\n", MOEMAP_FORMAT_CSV, "l.csv", "l.csv:2:", "negative");
    expect_error("1,2,3\n4,5,", MOEMAP_FORMAT_CSV, "l.csv", "l.csv:2:", NULL);
    expect_error("layer,a,b\n1,2,3\n1,4,5\n", MOEMAP_FORMAT_CSV, "l.csv", "l.csv:3:",
                 "already given");
    expect_error("# nothing\n", MOEMAP_FORMAT_CSV, "l.csv", "l.csv", "no data rows");
}

/* ---- reading files and folders ----------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(esft_folder_inconsistent_tokens)
{
    const char *dir = mm_tmp_path("h1_esft_bad");
    mkdir(dir, 0777);
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/expert_weights_1.txt", dir);
    snprintf(p2, sizeof p2, "%s/expert_weights_2.txt", dir);
    write_text(p1, "1\t2\t\t0.5\t0.5\n3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\n");
    write_text(p2, "1\t2\t\t0.5\t0.5\n3\t4\t\t0.1\t0.1\n");
    moemap_read_params rp = moemap_read_default_params();
    rp.top_k = 2;
    moemap_loads *ld = NULL;
    moemap_routing *rt = NULL;
    moemap_error err = {0};
    CHECK(moemap_workload_read(dir, &rp, &ld, &rt, &err) < 0);
    CHECK(ld == NULL && rt == NULL);
    CHECK_STR_CONTAINS(err.msg, "expert_weights_2.txt:2:");
    CHECK_STR_CONTAINS(err.msg, "inconsistent token counts");

    /* Fixed: now both layers line up; routing keeps the per-token choices. */
    write_text(p2, "1\t2\t\t0.5\t0.5\n3\t4\t7\t8\t\t0.1\t0.1\t0.1\t0.1\n");
    CHECK_OK(moemap_workload_read(dir, &rp, &ld, &rt, &err), &err);
    REQUIRE(ld != NULL && rt != NULL);
    CHECK_INT_EQ(rt->num_tokens, 3);
    CHECK_INT_EQ(rt->num_sequences, 2);
    CHECK_INT_EQ(rt->seq_start[1], 1);
    CHECK_INT_EQ(rt->seq_start[2], 3);
    CHECK_INT_EQ(rt->ids[(1 * 3 + 2) * 2 + 1], 8); /* layer entry 1, token 2, choice 1 */
    CHECK_NEAR(rt->weights[0], 0.5, 1e-6);
    CHECK_INT_EQ(ld->layer_ids[1], 2);
    moemap_loads_free(ld);
    moemap_routing_free(rt);
    unlink(p1);
    unlink(p2);
}

TEST(missing_inputs)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK(moemap_workload_read("/nonexistent/h1.json", NULL, &ld, NULL, &err) == MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/h1.json: cannot open");
    const char *dir = mm_tmp_path("h1_empty_dir");
    mkdir(dir, 0777);
    CHECK(moemap_workload_read(dir, NULL, &ld, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "expert_weights_");
    CHECK_INT_EQ(moemap_workload_format_parse("sglang"), MOEMAP_FORMAT_SGLANG);
    CHECK_INT_EQ(moemap_workload_format_parse("nope"), -1);
    CHECK(!strcmp(moemap_workload_format_name(MOEMAP_FORMAT_CSV), "csv"));
}

/* Every allocation of each reader failing in turn gives ENOMEM, never a crash or a leak
 * (ASan checks the latter), and the reader still works once allocations succeed. */
static void fail_each_allocation(const char *text, moemap_workload_format f, int experts,
                                 int top_k)
{
    moemap_read_params p = params(f);
    p.experts = experts;
    p.top_k = top_k;
    int saw_enomem = 0, succeeded = 0;
    for (long n = 0; n < 500 && !succeeded; n++) {
        moemap_loads *ld = NULL;
        moemap_error err = {0};
        moemap_alloc_fail_after(n);
        int rc = moemap_workload_parse_buffer(text, strlen(text), "w", &p, &ld, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            succeeded = 1;
        else
            saw_enomem |= rc == MOEMAP_ENOMEM;
        CHECK(rc == 0 || rc == MOEMAP_ENOMEM);
        moemap_loads_free(ld);
    }
    CHECK(saw_enomem);
    CHECK(succeeded);
}

TEST(allocation_failures)
{
    fail_each_allocation(loads_ok, MOEMAP_FORMAT_AUTO, 0, 0);
    fail_each_allocation("{\"logical_count\": [[0, 0, 0], [3, 1, 0], [1, 1, 2]]}",
                         MOEMAP_FORMAT_AUTO, 0, 2);
    fail_each_allocation("layer,e0,e1\n3,5,1\n7,2,2\n", MOEMAP_FORMAT_CSV, 0, 0);
    fail_each_allocation(esft_ok, MOEMAP_FORMAT_ESFT, 4, 2);
}

int main(void)
{
    RUN(esft_line_format);
    RUN(esft_bad_inputs);
    RUN(loads_json_good);
    RUN(loads_json_streaming_equals_tree);
    RUN(loads_json_bad);
    RUN(sglang_2d_and_3d);
    RUN(sglang_bad);
    RUN(csv_good);
    RUN(csv_bad);
    RUN(esft_folder_inconsistent_tokens);
    RUN(missing_inputs);
    RUN(allocation_failures);
    return mm_test_done();
}
