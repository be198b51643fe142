/*
 * test_validate.c — the placement invariants and moemap.placement/v1 I/O (issue 4): one
 * precise message per problem (expert or GPU out of range, bad share, expert without a
 * replica, shares not summing to 1, slots exceeded, two replicas of one expert on a GPU,
 * a layer listed twice), round trips through the file format, reader messages that name
 * the JSON path, the streaming reader against the whole-tree one, and allocation failures
 * that fail cleanly.
 */
#include <jansson.h>

#include "harness.h"
#include "place_fixtures.h"
#include "place/placement_io.h"

typedef struct collected {
    int n;
    char msgs[16][MOEMAP_ERROR_MSG_MAX];
} collected;

static void collect(void *ctx, const char *msg)
{
    collected *c = ctx;
    if (c->n < 16)
        snprintf(c->msgs[c->n], sizeof c->msgs[0], "%s", msg);
    c->n++;
}

static int has(const collected *c, const char *needle)
{
    for (int i = 0; i < c->n && i < 16; i++)
        if (strstr(c->msgs[i], needle))
            return 1;
    return 0;
}

/* 3 experts on 2 GPUs (2 slots each), layer id 5: valid. */
static moemap_placement *good(void)
{
    moemap_error err = {0};
    moemap_placement *p;
    if (moemap_placement_create(2, 3, 1, &p, &err) != 0)
        return NULL;
    moemap_replica r[4] = {{0, 0, 1.0}, {1, 0, 0.25}, {1, 1, 0.75}, {2, 1, 1.0}};
    moemap_placement_set_layer(p, 0, 5, r, 4, &err);
    snprintf(p->strategy, sizeof p->strategy, "test");
    return p;
}

TEST(valid_placement_passes)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 2, NULL, NULL, 0, 60, 200, 0.1, &err);
    moemap_placement *p = good();
    REQUIRE(c && p);
    CHECK_OK(moemap_placement_validate(p, c, &err), &err);
    CHECK_INT_EQ(moemap_placement_check(p, c, 0, NULL, NULL), 0);
    CHECK_INT_EQ(moemap_placement_check(p, NULL, 0, NULL, NULL), 0);
    moemap_placement_free(p);
    moemap_cluster_free(c);
}

TEST(each_problem_has_its_message)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 2, NULL, NULL, 0, 60, 200, 0.1, &err);
    REQUIRE(c);
    struct {
        moemap_replica reps[6];
        int n;
        const char *want;
    } cases[] = {
        {{{0, 0, 1}, {1, 0, 1}, {2, 1, 1}, {3, 1, 1}}, 4, "layer 5: replica 3: expert 3 is outside [0, 2]"},
        {{{0, 0, 1}, {1, 0, 1}, {2, 2, 1}}, 3, "layer 5: replica 2: gpu 2 is outside [0, 1]"},
        {{{0, 0, 1}, {1, 0, 1.5}, {2, 1, 1}}, 3, "share 1.5 is outside [0, 1]"},
        {{{0, 0, 1}, {2, 1, 1}}, 2, "layer 5: expert 1 has no replica"},
        {{{0, 0, 1}, {1, 0, 0.5}, {1, 1, 0.3}, {2, 1, 1}}, 4, "layer 5: expert 1 shares sum to 0.8, not 1"},
        {{{0, 0, 1}, {1, 0, 1}, {2, 0, 1}}, 3, "layer 5: gpu 0 holds 3 replicas but has 2 slots"},
        {{{0, 0, 0.5}, {0, 0, 0.5}, {1, 1, 1}, {2, 1, 1}}, 4, "layer 5: gpu 0 holds two replicas of expert 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        moemap_placement *p;
        REQUIRE(moemap_placement_create(2, 3, 1, &p, &err) == 0);
        moemap_placement_set_layer(p, 0, 5, cases[i].reps, cases[i].n, &err);
        collected got = {0};
        int n = moemap_placement_check(p, c, 0, collect, &got);
        CHECK(n >= 1);
        CHECK(has(&got, cases[i].want));
        if (!has(&got, cases[i].want))
            fprintf(stderr, "  case %zu: wanted \"%s\", first got \"%s\"\n", i, cases[i].want,
                    got.n ? got.msgs[0] : "");
        moemap_error e = {0};
        CHECK(moemap_placement_validate(p, c, &e) == MOEMAP_EINVAL);
        CHECK(e.msg[0] != 0);
        moemap_placement_free(p);
    }
    /* A layer listed twice; the GPU count must match the cluster's. */
    moemap_placement *p;
    REQUIRE(moemap_placement_create(2, 1, 2, &p, &err) == 0);
    moemap_replica one = {0, 0, 1};
    moemap_placement_set_layer(p, 0, 3, &one, 1, &err);
    moemap_placement_set_layer(p, 1, 3, &one, 1, &err);
    collected got = {0};
    CHECK_INT_EQ(moemap_placement_check(p, c, 0, collect, &got), 1);
    CHECK(has(&got, "layer 3 is listed more than once"));
    moemap_placement_free(p);
    moemap_cluster *c3 = fx_cluster(3, 2, NULL, NULL, 0, 60, 200, 0.1, &err);
    p = good();
    CHECK(moemap_placement_validate(p, c3, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "placement is for 2 gpus but the cluster has 3");
    /* --slots 1 overrides the cluster: GPU 0 holds 2. */
    got.n = 0;
    CHECK(moemap_placement_check(p, c, 1, collect, &got) == 2);
    CHECK(has(&got, "gpu 0 holds 2 replicas but has 1 slots"));
    moemap_placement_free(p);
    moemap_cluster_free(c3);
    moemap_cluster_free(c);
}

TEST(several_problems_counted)
{
    moemap_error err = {0};
    moemap_placement *p;
    REQUIRE(moemap_placement_create(2, 4, 1, &p, &err) == 0);
    moemap_replica r[2] = {{0, 0, 0.5}, {1, 1, 1}};
    moemap_placement_set_layer(p, 0, 0, r, 2, &err);
    /* expert 0 sums to 0.5, experts 2 and 3 have no replica */
    CHECK_INT_EQ(moemap_placement_check(p, NULL, 0, NULL, NULL), 3);
    CHECK(moemap_placement_validate(p, NULL, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "(and 2 more problems)");
    moemap_placement_free(p);
}

TEST(file_round_trip)
{
    moemap_error err = {0};
    moemap_placement *p = good(), *q = NULL;
    REQUIRE(p);
    p->predicted_json = moemap_strdup("{\"mean_us\":12.5}");
    const char *path = mm_tmp_path("validate_roundtrip.json");
    CHECK_OK(moemap_placement_write(p, path, &err), &err);
    CHECK_OK(moemap_placement_read(path, &q, &err), &err);
    REQUIRE(q);
    CHECK(strcmp(q->strategy, "test") == 0);
    CHECK_INT_EQ(q->num_gpus, 2);
    CHECK_INT_EQ(q->experts, 3);
    CHECK_INT_EQ(q->num_layers, 1);
    CHECK_INT_EQ(q->layers[0].layer, 5);
    CHECK_INT_EQ(q->layers[0].num_replicas, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_INT_EQ(q->layers[0].replicas[i].expert, p->layers[0].replicas[i].expert);
        CHECK_INT_EQ(q->layers[0].replicas[i].gpu, p->layers[0].replicas[i].gpu);
        CHECK_NEAR(q->layers[0].replicas[i].share, p->layers[0].replicas[i].share, 1e-9);
    }
    CHECK_STR_CONTAINS(q->predicted_json, "12.5");
    moemap_placement *r;
    CHECK_OK(moemap_placement_clone(q, &r, &err), &err);
    CHECK(r && r->layers[0].replicas != q->layers[0].replicas);
    CHECK_STR_CONTAINS(r ? r->predicted_json : NULL, "mean_us");
    moemap_placement_free(r);
    moemap_placement_free(p);
    moemap_placement_free(q);
}

static int parse(const char *text, moemap_error *err)
{
    moemap_placement *p = NULL;
    int rc = mm_placement_parse_buffer(text, strlen(text), "p.json", &p, err);
    moemap_placement_free(p);
    return rc;
}

TEST(reader_messages_name_the_path)
{
    moemap_error err = {0};
    CHECK(parse("{\"format\": \"moemap.loads/v1\"}", &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "p.json: format is \"moemap.loads/v1\"");
    CHECK(parse("{\"format\": \"moemap.placement/v1\", \"layers\": []}", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "missing field \"gpus\"");
    CHECK(parse("{\"format\": \"moemap.placement/v1\", \"gpus\": 2, \"experts\": 2, \"layers\": "
                "[{\"layer\": 1, \"replicas\": [{\"expert\": 0, \"gpu\": 0, \"share\": 1}, "
                "{\"expert\": 1, \"gpu\": 5, \"share\": 1}]}]}", &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "p.json: layers[0].replicas[1].gpu: 5 is outside [0, 1]");
    CHECK(parse("{\"format\": \"moemap.placement/v1\", \"gpus\": 2, \"layers\": [{\"layer\": 1, "
                "\"replicas\": [{\"expert\": 0, \"gpu\": 0, \"share\": \"half\"}]}]}", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "layers[0].replicas[0].share: expected a number");
    CHECK(parse("{\"format\": \"moemap.placement/v1\", \"gpus\": 2,\n \"layers\": [}", &err) ==
          MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "p.json:2:");
    CHECK(parse("[1, 2]", &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "expected a JSON object");
    CHECK(parse("{\"format\": \"moemap.placement/v1\", \"gpus\": 2, \"layers\": [{\"layer\": 1, "
                "\"replicas\": []}]}", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "no \"experts\" field");
    /* experts inferred from the largest id when absent (files from other tools) */
    moemap_placement *p = NULL;
    const char *ok = "{\"format\": \"moemap.placement/v1\", \"gpus\": 1, \"layers\": [{\"layer\": "
                     "2, \"replicas\": [{\"expert\": 3, \"gpu\": 0, \"share\": 1}]}]}";
    CHECK_OK(mm_placement_parse_buffer(ok, strlen(ok), "q.json", &p, &err), &err);
    CHECK(p && p->experts == 4);
    moemap_placement_free(p);
    CHECK(moemap_placement_read("/nonexistent/p.json", &p, &err) == MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/p.json");
}

/* The reader streams files in moemap's own key order (one layer's tree at a time) and
 * reads any other order through the whole tree: both must give the same placement. */
TEST(streaming_reader_equals_tree_reader)
{
    moemap_error err = {0};
    moemap_rng rng;
    moemap_rng_seed(&rng, 3);
    moemap_placement *p;
    REQUIRE(moemap_placement_create(8, 16, 5, &p, &err) == 0);
    for (int l = 0; l < 5; l++) {
        moemap_replica r[40];
        int n = 0;
        for (int e = 0; e < 16; e++) {
            int copies = 1 + (int)moemap_rng_below(&rng, 3);
            for (int c = 0; c < copies; c++)
                r[n++] = (moemap_replica){e, (int)moemap_rng_below(&rng, 8), 1.0 / copies};
        }
        REQUIRE(moemap_placement_set_layer(p, l, 3 + 2 * l, r, n, &err) == 0);
    }
    snprintf(p->strategy, sizeof p->strategy, "t\"q");
    p->predicted_json = moemap_strdup("{\"mean_us\":12.5,\"gap\":0.25}");
    const char *path = mm_tmp_path("validate_stream.json");
    CHECK_OK(moemap_placement_write(p, path, &err), &err);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr), *moved = json_object();
    REQUIRE(doc && moved);
    /* the same document with "layers" first: the tree path */
    json_object_set(moved, "layers", json_object_get(doc, "layers"));
    json_object_update_missing(moved, doc);
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    char *other = json_dumps(moved, JSON_COMPACT);
    REQUIRE(text && other);
    moemap_placement *a = NULL, *b = NULL;
    CHECK_OK(mm_placement_parse_buffer(text, strlen(text), "a.json", &a, &err), &err);
    CHECK_OK(mm_placement_parse_buffer(other, strlen(other), "b.json", &b, &err), &err);
    REQUIRE(a && b);
    CHECK(strcmp(a->strategy, "t\"q") == 0 && strcmp(b->strategy, a->strategy) == 0);
    CHECK(strcmp(a->predicted_json, b->predicted_json) == 0);
    CHECK_INT_EQ(a->num_layers, 5);
    CHECK_INT_EQ(b->num_layers, 5);
    int same = a->num_gpus == b->num_gpus && a->experts == b->experts;
    for (int l = 0; l < 5 && same; l++) {
        same &= a->layers[l].layer == b->layers[l].layer &&
                a->layers[l].num_replicas == b->layers[l].num_replicas &&
                a->layers[l].num_replicas == p->layers[l].num_replicas;
        for (int i = 0; same && i < a->layers[l].num_replicas; i++)
            same &= a->layers[l].replicas[i].expert == b->layers[l].replicas[i].expert &&
                    a->layers[l].replicas[i].gpu == b->layers[l].replicas[i].gpu &&
                    a->layers[l].replicas[i].share == b->layers[l].replicas[i].share &&
                    a->layers[l].replicas[i].gpu == p->layers[l].replicas[i].gpu;
    }
    CHECK(same);
    free(text);
    free(other);
    json_decref(doc);
    json_decref(moved);
    moemap_placement_free(a);
    moemap_placement_free(b);
    moemap_placement_free(p);
}

TEST(allocation_failures_fail_cleanly)
{
    const char *text = "{\"format\": \"moemap.placement/v1\", \"gpus\": 2, \"experts\": 2, "
                       "\"layers\": [{\"layer\": 1, \"replicas\": [{\"expert\": 0, \"gpu\": 0, "
                       "\"share\": 1}, {\"expert\": 1, \"gpu\": 1, \"share\": 1}]}], "
                       "\"predicted\": {\"mean_us\": 3}}";
    int failures = 0, successes = 0;
    for (long n = 0; n < 40; n++) {
        moemap_error err = {0};
        moemap_placement *p = NULL, *q = NULL;
        moemap_alloc_fail_after(n);
        int rc = mm_placement_parse_buffer(text, strlen(text), "p.json", &p, &err);
        if (rc == 0)
            rc = moemap_placement_clone(p, &q, &err);
        moemap_alloc_fail_after(-1);
        if (rc) {
            CHECK(rc == MOEMAP_ENOMEM);
            CHECK(err.msg[0] != 0);
            failures++;
        } else {
            successes++;
        }
        moemap_placement_free(p);
        moemap_placement_free(q);
    }
    CHECK(failures > 0);
    CHECK(successes > 0);
}

int main(void)
{
    RUN(valid_placement_passes);
    RUN(each_problem_has_its_message);
    RUN(several_problems_counted);
    RUN(file_round_trip);
    RUN(reader_messages_name_the_path);
    RUN(streaming_reader_equals_tree_reader);
    RUN(allocation_failures_fail_cleanly);
    return mm_test_done();
}
