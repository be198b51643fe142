/*
 * test_workload_esft.c — the real ESFT routing traces (DeepSeek-V2-Lite architecture,
 * ../shared/data/esft-dsv2lite-routing): the law task read as a folder, its shape, its
 * loads against the per-token routing, max_over_mean against an independent count made
 * here straight from the raw files, consistent/temporal experts found on most layers,
 * and the per-layer cosine distance law vs translation. Each task folder is read once.
 */
#include "harness.h"
#include "moemap.h"

static moemap_loads *law, *translation;
static moemap_routing *law_rt;
static moemap_workload_stats *law_stats;

/* The busiest expert's tokens over the mean, counted from the raw file with nothing of
 * the library: split each line at the tab-tab, count the ids of the first half. */
static double raw_max_over_mean(const char *path, int experts)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double count[256] = {0};
    static char line[1 << 20];
    while (fgets(line, sizeof line, f)) {
        char *sep = strstr(line, "\t\t");
        if (!sep)
            continue;
        *sep = '\0';
        for (char *tok = strtok(line, "\t"); tok; tok = strtok(NULL, "\t"))
            count[atoi(tok)] += 1;
    }
    fclose(f);
    double sum = 0, mx = 0;
    for (int e = 0; e < experts; e++) {
        sum += count[e];
        if (count[e] > mx)
            mx = count[e];
    }
    return mx / (sum / experts);
}

TEST(law_shape)
{
    REQUIRE(law != NULL && law_rt != NULL);
    CHECK_INT_EQ(law->num_layers, 26);
    CHECK_INT_EQ(law->experts, 64);
    CHECK_INT_EQ(law->top_k, 6);
    for (int l = 0; l < 26; l++)
        CHECK_INT_EQ(law->layer_ids[l], l + 1); /* layer 0 is dense: no file */
    CHECK(law_rt->num_tokens > 8000 && law_rt->num_tokens < 9000);
    CHECK(law_rt->num_sequences >= 13 && law_rt->num_sequences <= 127);
    CHECK_INT_EQ(law_rt->seq_start[law_rt->num_sequences], law_rt->num_tokens);
    CHECK_INT_EQ(law->num_batches, (law_rt->num_tokens + 511) / 512);
    double tokens = 0;
    for (int b = 0; b < law->num_batches; b++) {
        tokens += law->batch_tokens[b];
        for (int l = 0; l < law->num_layers; l++) {
            double slots = 0;
            for (int e = 0; e < 64; e++) {
                slots += MOEMAP_LOADS_AT(law, b, l, e);
                /* a token picks distinct experts */
                CHECK(MOEMAP_LOADS_AT(law, b, l, e) <= law->batch_tokens[b]);
            }
            CHECK_NEAR(slots, 6 * law->batch_tokens[b], 0);
        }
    }
    CHECK_NEAR(tokens, (double)law_rt->num_tokens, 0);
}

TEST(loads_match_routing)
{
    REQUIRE(law != NULL && law_rt != NULL);
    /* Batch 3 of layer entry 10, recounted from the per-token routing. */
    double c[64] = {0};
    long t0 = 3 * 512;
    for (long t = t0; t < t0 + 512; t++)
        for (int j = 0; j < 6; j++)
            c[law_rt->ids[((size_t)10 * (size_t)law_rt->num_tokens + (size_t)t) * 6 + (size_t)j]]++;
    for (int e = 0; e < 64; e++)
        CHECK_NEAR(MOEMAP_LOADS_AT(law, 3, 10, e), c[e], 0);
    /* Gate weights are probabilities of a top-6 softmax over 64 experts. */
    for (long i = 0; i < 6000; i++)
        CHECK(law_rt->weights[i] > 0 && law_rt->weights[i] <= 1);
}

TEST(max_over_mean_matches_raw_files)
{
    REQUIRE(law_stats != NULL);
    const int layers[] = {1, 8, 13, 19, 26};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "esft-dsv2lite-routing/expert_scores/law/expert_weights_%d.txt",
                 layers[i]);
        double want = raw_max_over_mean(mm_data_path(rel), 64);
        int l = moemap_loads_find_layer(law, layers[i]);
        REQUIRE(l >= 0);
        CHECK(want > 1.0);
        CHECK_NEAR(law_stats->layers[l].max_over_mean, want, 1e-9);
    }
    /* The data README: busiest/mean has a median of about 3.3 for law. */
    double v[26];
    for (int l = 0; l < 26; l++)
        v[l] = law_stats->layers[l].max_over_mean;
    CHECK_NEAR(moemap_quantile(v, 26, 0.5), 3.3, 0.3);
}

TEST(consistent_and_temporal_on_most_layers)
{
    REQUIRE(law_stats != NULL);
    int with_cons = 0, with_temp = 0;
    for (int l = 0; l < law_stats->num_layers; l++) {
        const moemap_layer_stats *s = &law_stats->layers[l];
        with_cons += s->num_consistent > 0;
        with_temp += s->num_temporal > 0;
        /* Definitions hold for every expert listed. */
        for (int i = 0; i < s->num_consistent; i++)
            CHECK(s->active_frac[s->consistent[i]] >= 0.8);
        for (int i = 0; i < s->num_temporal; i++)
            CHECK(s->hot_frac[s->temporal[i]] > 0 && s->hot_frac[s->temporal[i]] <= 0.3);
        double share = 0;
        for (int e = 0; e < 64; e++)
            share += s->load_share[e];
        CHECK_NEAR(share, 1.0, 1e-9);
        CHECK(s->gini > 0 && s->gini < 1);
        CHECK(s->num_pairs == 5);
        for (int i = 1; i < s->num_pairs; i++)
            CHECK(s->pairs[i - 1].corr >= s->pairs[i].corr);
    }
    CHECK(with_cons > 13);
    CHECK(with_temp > 13);
    printf("# law: consistent on %d layers, temporal on %d of 26\n", with_cons, with_temp);
}

TEST(compare_law_translation)
{
    REQUIRE(law != NULL && translation != NULL);
    moemap_error err = {0};
    double sum = 0;
    for (int l = 0; l < law->num_layers; l++) {
        double d = -1, self = -1;
        CHECK_OK(moemap_loads_cosine_distance(law, l, translation, &d, &err), &err);
        CHECK_OK(moemap_loads_cosine_distance(law, l, law, &self, &err), &err);
        CHECK(d > 0.01 && d < 1.0);
        CHECK_NEAR(self, 0, 1e-12);
        sum += d;
    }
    /* Different tasks route differently (translation is the most skewed task). */
    CHECK(sum / law->num_layers > 0.1);
}

int main(void)
{
    moemap_read_params p = moemap_read_default_params();
    p.batch_tokens = 512;
    moemap_error err = {0};
    if (moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/law"), &p, &law,
                             &law_rt, &err))
        fprintf(stderr, "law: %s\n", err.msg);
    if (moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/translation"),
                             &p, &translation, NULL, &err))
        fprintf(stderr, "translation: %s\n", err.msg);
    if (law && moemap_workload_stats_compute(law, NULL, &law_stats, &err))
        fprintf(stderr, "stats: %s\n", err.msg);
    RUN(law_shape);
    RUN(loads_match_routing);
    RUN(max_over_mean_matches_raw_files);
    RUN(consistent_and_temporal_on_most_layers);
    RUN(compare_law_translation);
    moemap_workload_stats_free(law_stats);
    moemap_loads_free(law);
    moemap_loads_free(translation);
    moemap_routing_free(law_rt);
    return mm_test_done();
}
