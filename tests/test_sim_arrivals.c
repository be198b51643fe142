/*
 * test_sim_arrivals.c — arrival traces: the real Azure 2023 (code, conversation) and
 * Mooncake (conversation, synthetic) files parse with the documented request counts and
 * an hour-long span; malformed lines are errors naming file and line; Poisson and bursty
 * generators have the asked rate and the expected burstiness; windowing and rate scaling.
 */
#include "harness.h"

#include "moemap/sim.h"

static void check_sorted(const moemap_arrivals *a)
{
    int ok = a->reqs[0].arrival_s == 0;
    for (long i = 1; i < a->n; i++)
        if (a->reqs[i].arrival_s < a->reqs[i - 1].arrival_s || a->reqs[i].prompt_tokens < 1 ||
            a->reqs[i].output_tokens < 1)
            ok = 0;
    CHECK(ok);
}

TEST(azure_real_traces)
{
    moemap_arrivals *a = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_arrivals_read(mm_data_path("azure-llm-2023/data/AzureLLMInferenceTrace_conv.csv"),
                                  &a, &err),
             &err);
    REQUIRE(a);
    CHECK_INT_EQ(a->n, 19366);
    check_sorted(a);
    /* One hour, give or take the first and last request. */
    CHECK(a->reqs[a->n - 1].arrival_s > 3500 && a->reqs[a->n - 1].arrival_s < 3700);
    /* Second request of the file: 18:15:50.9951690 - 18:15:46.6805900. */
    CHECK_NEAR(a->reqs[1].arrival_s, 4.314579, 1e-5);
    moemap_arrivals_free(a);
    CHECK_OK(moemap_arrivals_read(mm_data_path("azure-llm-2023/data/AzureLLMInferenceTrace_code.csv"),
                                  &a, &err),
             &err);
    REQUIRE(a);
    CHECK_INT_EQ(a->n, 8819);
    check_sorted(a);
    CHECK_INT_EQ(a->reqs[0].prompt_tokens, 4808);
    CHECK_INT_EQ(a->reqs[0].output_tokens, 10);
    moemap_arrivals_free(a);
}

TEST(mooncake_real_traces)
{
    moemap_arrivals *a = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_arrivals_read(mm_data_path("mooncake/FAST25-release/traces/conversation_trace.jsonl"),
                                  &a, &err),
             &err);
    REQUIRE(a);
    CHECK(a->n > 1000);
    check_sorted(a);
    CHECK_INT_EQ(a->reqs[0].prompt_tokens, 6758);
    CHECK_INT_EQ(a->reqs[0].output_tokens, 500);
    moemap_arrivals_free(a);
    CHECK_OK(moemap_arrivals_read(mm_data_path("mooncake/FAST25-release/traces/synthetic_trace.jsonl"),
                                  &a, &err),
             &err);
    REQUIRE(a);
    CHECK(a->n > 1000);
    check_sorted(a);
    moemap_arrivals_free(a);
}

TEST(malformed_lines_name_file_and_line)
{
    struct {
        const char *text;
        int azure;
        const char *msg;
    } cases[] = {
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n"
         "2023-11-16 18:15:4x.68,374,44\n",
         1, "t.csv:3: bad timestamp"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374\n", 1,
         "t.csv:2: expected 3"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,-3,4\n", 1,
         "t.csv:2: token counts"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-16 18:15:46.68,3,4\n", 1,
         "t.csv:2: bad timestamp"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n", 1, "no requests"},
        {"when,a,b\n", 1, "t.csv:1: expected the header"},
        {"{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n{\"timestamp\": 1}\n",
         0, "t.jsonl:2"},
        {"{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n[1,2]\n", 0,
         "t.jsonl:2: expected a JSON object"},
        {"{\"timestamp\": -4, \"input_length\": 5, \"output_length\": 2}\n", 0, "t.jsonl:1"},
        {"{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2\n", 0, "t.jsonl:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        moemap_arrivals *a = NULL;
        moemap_error err = {0};
        const char *t = cases[i].text;
        int rc = cases[i].azure ? moemap_arrivals_parse_azure(t, strlen(t), "t.csv", &a, &err)
                                : moemap_arrivals_parse_mooncake(t, strlen(t), "t.jsonl", &a,
                                                                 &err);
        CHECK(rc != 0);
        CHECK(a == NULL);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
    }
    /* Day rollover and CRLF line ends. */
    const char *ok = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                     "2023-12-31 23:59:59.5,10,0\r\n2024-01-01 00:00:00.25,1,2\r\n";
    moemap_arrivals *a = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_arrivals_parse_azure(ok, strlen(ok), "ok.csv", &a, &err), &err);
    REQUIRE(a);
    CHECK_INT_EQ(a->n, 2);
    CHECK_NEAR(a->reqs[1].arrival_s, 0.75, 1e-9);
    CHECK_INT_EQ(a->reqs[0].output_tokens, 1); /* 0 generated tokens counts as 1 */
    moemap_arrivals_free(a);
    CHECK(moemap_arrivals_read("/nonexistent/trace.csv", &a, &err) == MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/trace.csv");
}

/* Coefficient of variation of the gaps. */
static double gap_cv(const moemap_arrivals *a)
{
    double s = 0, s2 = 0;
    long n = a->n - 1;
    for (long i = 1; i < a->n; i++) {
        double g = a->reqs[i].arrival_s - a->reqs[i - 1].arrival_s;
        s += g;
        s2 += g * g;
    }
    double m = s / n;
    return sqrt(s2 / n - m * m) / m;
}

TEST(generators)
{
    moemap_arrivals *p = NULL, *b = NULL, *lens = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, 50, 400, NULL, 100, 10, 5, &p,
                                      &err),
             &err);
    CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_BURSTY, 50, 400, NULL, 100, 10, 5, &b,
                                      &err),
             &err);
    REQUIRE(p && b);
    CHECK_NEAR(p->n / 400.0, 50, 50 * 0.03);
    CHECK_NEAR(b->n / 400.0, 50, 50 * 0.15);
    CHECK_NEAR(gap_cv(p), 1.0, 0.05);
    CHECK(gap_cv(b) > 2.0);
    CHECK_INT_EQ(p->reqs[7].prompt_tokens, 100);
    moemap_arrivals_free(b);
    /* Same seed, same trace; lengths resampled from a real trace. */
    CHECK_OK(moemap_arrivals_read(mm_data_path("azure-llm-2023/data/AzureLLMInferenceTrace_code.csv"),
                                  &lens, &err),
             &err);
    REQUIRE(lens);
    moemap_arrivals *x = NULL, *y = NULL;
    CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, 5, 100, lens, 0, 0, 9, &x, &err),
             &err);
    CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, 5, 100, lens, 0, 0, 9, &y, &err),
             &err);
    REQUIRE(x && y);
    CHECK_INT_EQ(x->n, y->n);
    CHECK(!memcmp(x->reqs, y->reqs, (size_t)x->n * sizeof *x->reqs));
    long big = 0;
    for (long i = 0; i < x->n; i++)
        big += x->reqs[i].prompt_tokens > 1000;
    CHECK(big > 0); /* code prompts are long */
    /* Windowing: double rate, first 30 s. */
    moemap_arrivals *w = NULL;
    CHECK_OK(moemap_arrivals_window(lens, 30, 2.0, &w, &err), &err);
    REQUIRE(w);
    long expect = 0;
    for (long i = 0; i < lens->n; i++)
        expect += lens->reqs[i].arrival_s / 2.0 < 30;
    CHECK_INT_EQ(w->n, expect);
    CHECK(w->reqs[w->n - 1].arrival_s < 30);
    moemap_arrivals_free(w);
    CHECK(moemap_arrivals_window(lens, 30, 0, &w, &err) != 0);
    CHECK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, -1, 10, NULL, 1, 1, 1, &w, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "rate");
    CHECK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, 1, 10, NULL, 0, 1, 1, &w, &err) != 0);
    moemap_arrivals_free(x);
    moemap_arrivals_free(y);
    moemap_arrivals_free(lens);
    moemap_arrivals_free(p);
}

TEST(allocation_failures_are_errors)
{
    const char *t = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n";
    int failures = 0;
    for (long k = 0; k < 6; k++) {
        moemap_arrivals *a = NULL;
        moemap_error err = {0};
        moemap_alloc_fail_after(k);
        int rc = moemap_arrivals_parse_azure(t, strlen(t), "t.csv", &a, &err);
        moemap_alloc_fail_after(-1);
        if (rc) {
            failures++;
            CHECK(rc == MOEMAP_ENOMEM);
            CHECK(a == NULL);
        } else {
            moemap_arrivals_free(a);
        }
    }
    CHECK(failures >= 2);
}

int main(void)
{
    RUN(azure_real_traces);
    RUN(mooncake_real_traces);
    RUN(malformed_lines_name_file_and_line);
    RUN(generators);
    RUN(allocation_failures_are_errors);
    return mm_test_done();
}
