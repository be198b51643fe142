/*
 * test_report.c — unit tests of the report module: base64 against RFC 4648's vectors,
 * the page built from small known inputs (the tables carry the input's numbers, a gap
 * missing from the input is derived from mean and bound, events become markers in the
 * chart script), self-containment (no external reference), and the errors a user can
 * meet (no input, malformed input naming file and field, gnuplot missing), plus
 * allocation failures at every step, which must fail cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "moemap.h"
#include "moemap/report.h"

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

static const char *write_text(const char *name, const char *text)
{
    const char *path = mm_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

TEST(base64_rfc4648_vectors)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *b = moemap_base64_encode((const unsigned char *)in[i], strlen(in[i]));
        REQUIRE(b != NULL);
        if (strcmp(b, out[i]) != 0)
            CHECK_STR_CONTAINS(b, out[i]);
        moemap_free(b);
    }
    unsigned char bin[3] = {0xff, 0x00, 0xfe};
    char *b = moemap_base64_encode(bin, 3);
    REQUIRE(b != NULL);
    CHECK(strcmp(b, "/wD+") == 0);
    moemap_free(b);
}

static const char *cluster_json =
    "{\"format\": \"moemap.cluster/v1\",\n"
    " \"expert\": {\"hidden\": 7168, \"intermediate\": 2048, \"dtype\": \"bf16\"},\n"
    " \"base_curve\": {\"tokens\": [1, 64, 256, 1024, 4096], \"us\": [60, 61, 75, 150, 560]},\n"
    " \"gpus\": [{\"id\": 0, \"node\": 0, \"slots\": 4, \"speed\": 1.0},\n"
    "          {\"id\": 1, \"node\": 0, \"slots\": 4, \"speed\": 0.8}],\n"
    " \"network\": {\"intra_node_GBps\": 450, \"inter_node_GBps\": 50, \"latency_us\": 10}}\n";

static const char *eval_json =
    "{\"format\": \"moemap.eval/v1\", \"batches\": 4, \"placements\": [\n"
    " {\"file\": \"eplb.json\", \"strategy\": \"eplb\", \"mean_us\": 812.5, \"p90_us\": 900,\n"
    "  \"p99_us\": 990, \"bound_mean_us\": 650, \"gap\": 0.25, \"layer_mean_us\": 901.5,\n"
    "  \"batch_us\": [700, 800, 900, 850],\n"
    "  \"layers\": [{\"layer\": 3, \"mean_us\": 812.5, \"p90_us\": 900, \"p99_us\": 990,\n"
    "              \"bound_mean_us\": 650, \"gap\": 0.25, \"gpu_us\": [400, 812.5]}]},\n"
    " {\"file\": \"moemap.json\", \"strategy\": \"moemap\", \"mean_us\": 700, \"p90_us\": 720,\n"
    "  \"p99_us\": 730, \"bound_mean_us\": 650, \"gap\": 0.0769,\n"
    "  \"batch_us\": [690, 700, 710, 700],\n"
    "  \"layers\": [{\"layer\": 3, \"mean_us\": 700, \"p90_us\": 720, \"p99_us\": 730,\n"
    "              \"bound_mean_us\": 650, \"gap\": 0.0769, \"gpu_us\": [690, 700]}]}]}\n";

static const char *ts_json =
    "{\"format\": \"moemap.simulate/v1\",\n"
    " \"runs\": [{\"label\": \"eplb\", \"ttft\": {\"p50\": 0.2, \"p90\": 0.61, \"p99\": 1.5},\n"
    "  \"tpot\": {\"p90\": 0.045}, \"slo_attainment\": 0.875,\n"
    "  \"timeseries\": {\"time_s\": [0, 1, 2, 3], \"p90_ttft_s\": [0.5, null, 0.9, 0.4]},\n"
    "  \"markers\": [{\"time_s\": 1.5, \"label\": \"switch@1.5=/data/w/translation.json\"},\n"
    "              {\"time_s\": 2.5, \"label\": \"drift: swaps (3 replicas, 0.10 GB)\"}]}]}\n";

TEST(page_from_known_inputs)
{
    moemap_report_params p = moemap_report_default_params();
    p.cluster_path = write_text("report_cluster.json", cluster_json);
    p.eval_path = write_text("report_eval.json", eval_json);
    p.simulate_path = write_text("report_sim.json", ts_json);
    p.timeseries_path = p.simulate_path;
    p.work_dir = mm_tmp_path("report_work");
    p.title = "unit <test> & report";
    const char *out = mm_tmp_path("report_unit.html");
    moemap_report_summary sum;
    moemap_error err = {0};
    CHECK_OK(moemap_report_write(&p, out, &sum, &err), &err);
    /* cluster curves, per-GPU bars, CDF, TTFT over time; no stats: 2 charts missing */
    CHECK_INT_EQ(sum.charts, 4);
    CHECK_INT_EQ(sum.charts_missing, 2);
    char *html = read_text(out);
    REQUIRE(html != NULL);
    CHECK_INT_EQ(sum.bytes, (long)strlen(html));
    CHECK_INT_EQ(count(html, "src=\"data:image/png;base64,iVBORw0KGgo"), 4);
    /* Self-contained: nothing is fetched from anywhere. */
    CHECK(!strstr(html, "src=\"http") && !strstr(html, "href=\"http") &&
          !strstr(html, "src=\"file") && !strstr(html, "@import") && !strstr(html, "url("));
    CHECK_STR_CONTAINS(html, "unit &lt;test&gt; &amp; report"); /* title escaped */
    CHECK_STR_CONTAINS(html, "<td>eplb</td><td>812.5</td>");
    /* eplb's gap: mean / bound - 1 = 812.5 / 650 - 1 = 25.0% */
    CHECK_STR_CONTAINS(html, "<td>650.0</td><td>25.0%</td>");
    CHECK_STR_CONTAINS(html, "<td class=\"best\">7.7%</td>");
    /* the whole layer: eplb's value, a dash where the file has none (moemap's row) */
    CHECK_STR_CONTAINS(html, "<th>whole layer, mean (µs)</th>");
    CHECK_STR_CONTAINS(html, "<td>25.0%</td><td class=\"best\">901.5</td>");
    CHECK_STR_CONTAINS(html, "<td class=\"best\">7.7%</td><td>–</td>");
    CHECK_STR_CONTAINS(html, "<td>0.610</td>");   /* TTFT p90 */
    CHECK_STR_CONTAINS(html, "<td>45.000</td>");  /* TPOT p90 in ms */
    CHECK_STR_CONTAINS(html, "<td>87.5%</td>");   /* SLO attainment */
    CHECK_STR_CONTAINS(html, "Model layer 3");
    free(html);

    /* The time-series script: a gap for the null bucket, one line per marker, the input
     * event grey and dashed, the recalibration green and dotted. */
    char path[4200];
    snprintf(path, sizeof path, "%s/ttft-over-time.gp", p.work_dir);
    char *gp = read_text(path);
    REQUIRE(gp != NULL);
    CHECK_STR_CONTAINS(gp, "1 ?\n");
    CHECK_STR_CONTAINS(gp, "set arrow from 1.5, graph 0 to 1.5, graph 1 nohead dt 2");
    CHECK_STR_CONTAINS(gp, "set arrow from 2.5, graph 0 to 2.5, graph 1 nohead dt 3");
    CHECK_STR_CONTAINS(gp, "'switch@1.5=translation.json'"); /* the path cut short */
    CHECK_STR_CONTAINS(gp, "'drift: swaps'"); /* the head of a recalibration's label */
    CHECK_STR_CONTAINS(gp, "set xlabel 'time (s)'");
    free(gp);
    /* The CDF is built from the sorted per-batch times: eplb's 4 batches end at 900. */
    snprintf(path, sizeof path, "%s/straggler-cdf.gp", p.work_dir);
    gp = read_text(path);
    REQUIRE(gp != NULL);
    CHECK_STR_CONTAINS(gp, "$c0 << EOD\n700 0.25\n800 0.5\n850 0.75\n900 1\n");
    free(gp);
}

/* The comparison table: eval's numbers per strategy, simulate's matched by label, the
 * run without a recalibration policy preferred over one with. */
TEST(comparison_table)
{
    moemap_report_params p = moemap_report_default_params();
    p.eval_path = write_text("report_table_eval.json", eval_json);
    p.simulate_path = write_text(
        "report_table_sim.json",
        "{\"format\": \"moemap.simulate/v1\",\n"
        " \"runs\": [{\"label\": \"eplb.json/moemap\", \"ttft\": {\"p90\": 9},\n"
        "  \"tpot\": {\"p90\": 9}, \"slo_attainment\": 0.1},\n"
        " {\"label\": \"eplb.json/none\", \"ttft\": {\"p90\": 0.25},\n"
        "  \"tpot\": {\"p90\": 0.0425}, \"slo_attainment\": 0.5},\n"
        " {\"label\": \"other.json\", \"ttft\": {\"p90\": 1}}]}\n");
    char *text = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_report_table(&p, &text, &err), &err);
    REQUIRE(text != NULL);
    /* eplb: 812.5 us -> 0.81 ms, p99 0.99 ms, gap 812.5/650-1 = 25.0%, whole layer
     * 901.5 us -> 0.90 ms, then simulate's "none" run: 0.250 s, 42.5 ms, 50.0%. moemap
     * has no whole layer in the file and no simulate run: dashes. */
    CHECK_STR_CONTAINS(text, "eplb                   0.81         0.99    25.0%         0.90      "
                             "0.250       42.5    50.0%\n");
    CHECK_STR_CONTAINS(text, "moemap                 0.70         0.73     7.7%            -     "
                             "     -          -        -\n");
    CHECK(strstr(text, "capacity") == NULL); /* no sweep: no column */
    CHECK(strstr(text, "other") == NULL); /* a run matching no strategy is not a row */
    moemap_free(text);

    p.eval_path = NULL; /* without eval: one row per simulate run */
    CHECK_OK(moemap_report_table(&p, &text, &err), &err);
    REQUIRE(text != NULL);
    CHECK_STR_CONTAINS(text, "eplb/moemap");
    CHECK_STR_CONTAINS(text, "other ");
    moemap_free(text);

    /* With simulate --capacity: a column with the rate each placement sustains. */
    p.eval_path = write_text("report_table_eval2.json", eval_json);
    p.simulate_path = write_text(
        "report_table_cap.json",
        "{\"format\": \"moemap.simulate/v1\",\n"
        " \"runs\": [{\"label\": \"eplb.json\", \"slo_attainment\": 0.5,\n"
        "  \"capacity_rps\": 21.5}, {\"label\": \"moemap.json\", \"capacity_rps\": 24}]}\n");
    CHECK_OK(moemap_report_table(&p, &text, &err), &err);
    REQUIRE(text != NULL);
    CHECK_STR_CONTAINS(text, "capacity\n");
    CHECK_STR_CONTAINS(text, "50.0%       21.5\n");
    CHECK_STR_CONTAINS(text, "-       24.0\n");
    moemap_free(text);

    /* A run is matched to the placement by file, not by a strategy name that happens to
     * be the file's stem: tuned.json holds a moemap placement. */
    p.eval_path = write_text(
        "report_table_eval3.json",
        "{\"format\": \"moemap.eval/v1\", \"batches\": 1, \"placements\": [\n"
        " {\"file\": \"out/tuned.json\", \"strategy\": \"moemap\", \"mean_us\": 700,\n"
        "  \"p90_us\": 700, \"p99_us\": 700, \"bound_mean_us\": 650, \"gap\": 0.0769,\n"
        "  \"layers\": []}]}\n");
    p.simulate_path = write_text(
        "report_table_sim3.json",
        "{\"format\": \"moemap.simulate/v1\", \"runs\": [{\"label\": \"tuned.json\",\n"
        "  \"ttft\": {\"p90\": 0.25}, \"tpot\": {\"p90\": 0.0425}, \"slo_attainment\": 0.5}]}\n");
    CHECK_OK(moemap_report_table(&p, &text, &err), &err);
    REQUIRE(text != NULL);
    CHECK_STR_CONTAINS(text, "moemap                 0.70         0.70     7.7%      0.250       "
                             "42.5    50.0%\n");
    CHECK(strstr(text, "whole layer") == NULL); /* an eval without it: no column */
    moemap_free(text);

    /* An eval with the whole layer (dispatch and combine): its column after the gap. */
    p.eval_path = write_text(
        "report_table_eval4.json",
        "{\"format\": \"moemap.eval/v1\", \"batches\": 1, \"placements\": [\n"
        " {\"file\": \"out/tuned.json\", \"strategy\": \"moemap\", \"mean_us\": 700,\n"
        "  \"p90_us\": 700, \"p99_us\": 700, \"bound_mean_us\": 650, \"gap\": 0.0769,\n"
        "  \"layer_mean_us\": 1234.5, \"layers\": []}]}\n");
    CHECK_OK(moemap_report_table(&p, &text, &err), &err);
    REQUIRE(text != NULL);
    CHECK_STR_CONTAINS(text, "whole layer");
    CHECK_STR_CONTAINS(text, "moemap                 0.70         0.70     7.7%         1.23      0.250"
                             "       42.5    50.0%\n");
    moemap_free(text);

    p.eval_path = NULL;
    p.simulate_path = NULL;
    CHECK(moemap_report_table(&p, &text, &err) == MOEMAP_EINVAL);
}

TEST(errors_name_the_input)
{
    moemap_report_params p = moemap_report_default_params();
    moemap_error err = {0};
    const char *out = mm_tmp_path("report_err.html");
    CHECK(moemap_report_write(&p, out, NULL, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "nothing to report");

    p.eval_path = write_text("report_bad_eval.json",
                             "{\"format\": \"moemap.eval/v1\", \"batches\": 1, \"placements\": "
                             "[{\"strategy\": \"x\", \"mean_us\": \"fast\"}]}");
    err = (moemap_error){0};
    CHECK(moemap_report_write(&p, out, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "report_bad_eval.json: placements[0].mean_us");

    /* Another kind of file given as the eval input is refused by its format. */
    p.eval_path = write_text("report_not_eval.json", "{\"format\": \"moemap.cluster/v1\"}");
    err = (moemap_error){0};
    CHECK(moemap_report_write(&p, out, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "report_not_eval.json: format is \"moemap.cluster/v1\", "
                                "expected \"moemap.eval/v1\"");

    p.eval_path = write_text("report_bad_syntax.json", "{\"strategies\": [\n  {,}]}");
    err = (moemap_error){0};
    CHECK(moemap_report_write(&p, out, NULL, &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "report_bad_syntax.json:2:");

    p.eval_path = NULL;
    p.cluster_path = write_text("report_cluster2.json", cluster_json);
    p.gnuplot = "/nonexistent/gnuplot-for-test";
    err = (moemap_error){0};
    remove(out);
    CHECK(moemap_report_write(&p, out, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "gnuplot");
    FILE *f = fopen(out, "r"); /* nothing written on failure */
    CHECK(f == NULL);
    if (f)
        fclose(f);

    p.gnuplot = NULL;
    p.hot_experts = 1000;
    err = (moemap_error){0};
    CHECK(moemap_report_write(&p, out, NULL, &err) == MOEMAP_ERANGE);
}

/* Every allocation of a report failing in turn: a clean ENOMEM, never a crash or leak. */
TEST(allocation_failures)
{
    moemap_report_params p = moemap_report_default_params();
    p.timeseries_path = write_text("report_ts.json", ts_json);
    const char *out = mm_tmp_path("report_alloc.html");
    int succeeded = 0;
    for (long n = 0; n < 400 && !succeeded; n++) {
        moemap_error err = {0};
        moemap_alloc_fail_after(n);
        int rc = moemap_report_write(&p, out, NULL, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            succeeded = 1;
        else if (rc != MOEMAP_ENOMEM)
            MM_FAIL_("allocation %ld failing gave %d: %s", n, rc, err.msg);
    }
    CHECK(succeeded);
}

int main(void)
{
    RUN(base64_rfc4648_vectors);
    RUN(page_from_known_inputs);
    RUN(comparison_table);
    RUN(errors_name_the_input);
    RUN(allocation_failures);
    return mm_test_done();
}
