/*
 * test_cluster_profiles.c — the project's own measured profiles (the .json files under
 * data/profiles, written by `moemap profile` on the lent GPU machines) stay valid: each is
 * read by the strict reader, records its provenance ("source": command and machine), has
 * curves that start near a weight-read floor and grow with the token count, and can be
 * the base of a 32-GPU cluster synthesised from the real SGEMM population. Skips (77)
 * while no profile has been committed.
 */
#include <dirent.h>

#include "harness.h"

#include "moemap/cluster.h"

#define SGEMM "gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv"

static void check_profile(const char *path, const moemap_gpu_population *pop)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    int rc = moemap_cluster_read(path, &c, &err);
    if (rc) {
        fprintf(stderr, "  %s\n", err.msg);
        CHECK_INT_EQ(rc, 0);
        return;
    }
    CHECK(c->hidden > 0 && c->intermediate > 0);
    if (!c->source_json)
        fprintf(stderr, "  %s: no \"source\" (command and machine)\n", path);
    CHECK(c->source_json != NULL);
    moemap_curve f = {0}; /* f_g's points */
    for (int g = 0; g < c->num_gpus; g++) {
        CHECK_OK(moemap_cluster_gpu_curve(c, g, &f, &err), &err);
        REQUIRE(f.n >= 2);
        /* A measured expert is never free and costs more for many tokens than for one. */
        CHECK(f.us[0] > 0);
        CHECK(moemap_curve_eval(&f, f.tokens[f.n - 1]) > moemap_curve_eval(&f, 1));
    }
    if (c->base.n > 0)
        CHECK_OK(moemap_curve_copy(&c->base, &f, &err), &err);
    else
        CHECK_OK(moemap_cluster_gpu_curve(c, 0, &f, &err), &err);
    const moemap_curve *shape = &f;
    moemap_synth_params p = {0};
    p.num_gpus = 32;
    p.gpus_per_node = 8;
    p.seed = 1;
    p.slots = 9;
    p.population = pop;
    p.base = shape;
    p.hidden = c->hidden;
    p.intermediate = c->intermediate;
    p.dtype = c->dtype;
    moemap_cluster *s = NULL;
    CHECK_OK(moemap_cluster_synth(&p, &s, &err), &err);
    if (s) {
        for (int g = 0; g < 32; g++)
            CHECK_NEAR(moemap_cluster_expert_us(s, g, 1000) * s->gpus[g].speed,
                       moemap_curve_eval(shape, 1000), 1e-9 * moemap_curve_eval(shape, 1000));
        moemap_cluster_free(s);
    }
    moemap_curve_clear(&f);
    moemap_cluster_free(c);
}

TEST(committed_profiles)
{
    DIR *d = opendir("data/profiles");
    int seen = 0;
    moemap_variability_params vp = {NULL, 3, MOEMAP_SPEED_MEDIAN};
    moemap_gpu_population *pop = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_gpu_population_read(mm_data_path(SGEMM), &vp, &pop, &err), &err);
    REQUIRE(pop);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "data/profiles/%s", e->d_name);
        printf("# %s\n", path);
        check_profile(path, pop);
        seen++;
    }
    if (d)
        closedir(d);
    moemap_gpu_population_free(pop);
    if (seen == 0)
        SKIP_ALL("no measured profiles under data/profiles yet");
}

int main(void)
{
    RUN(committed_profiles);
    return mm_test_done();
}
