/*
 * cmd_gen.c — `moemap gen`: writes a synthetic workload (moemap.loads/v1) from the
 * library's generator. The knobs map one-to-one onto moemap_gen_params; docs/workload.md
 * explains what each does to the loads.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap gen [--model NAME] [options] [--out FILE]\n\n"
    "Generates per-batch expert token counts (moemap.loads/v1); deterministic for a\n"
    "seed. See docs/workload.md.\n\n"
    "shape:\n";

/* Generates, writes and says what was written. */
static int generate(const moemap_gen_params *p, const char *out, int as_json)
{
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    if (moemap_gen(p, &ld, &err)) {
        /* The library's message starts with "gen: "; the CLI prefix says that already. */
        const char *msg = strncmp(err.msg, "gen: ", 5) ? err.msg : err.msg + 5;
        return err.code == MOEMAP_EINVAL ? cli_usage_error("gen", "%s", msg)
                                         : cli_fail("gen", &err);
    }
    char what[48];
    snprintf(what, sizeof what, " of %ld tokens", p->batch_tokens);
    int rc = moemap_loads_write(ld, out, &err)
                 ? cli_fail("gen", &err)
                 : cli_put("gen", moemap_text_loads_written(out, ld, what, as_json),
                           as_json ? stdout : stderr);
    moemap_loads_free(ld);
    return rc;
}

int cmd_gen(int argc, char **argv)
{
    moemap_gen_params p = moemap_gen_default_params();
    const moemap_model *model = NULL;
    const char *out = "-";
    int as_json = 0;
    const cli_flag flags[] = {
        {"model", 'm', CLI_FN, &model, 0, 0, "NAME",
         "take layers, dense layers, experts and top-k from a preset\n(moemap models), and "
         "scale --consistent and the temporal\ngroups to its expert count; default "
         "DeepSeek-V3's shape", cli_input_model},
        CLI_GROUP(&p, moemap_gen_options),
        CLI_HELP("output:\n"),
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE", "output file (default '-', stdout)", NULL},
        CLI_JSON(&as_json, "what was written, as JSON on stdout (needs --out FILE)"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"gen", usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0 && model) {
        /* The shape flags given win over the model's, whatever their order. */
        moemap_gen_params_from_model(&p, model);
        rc = cli_parse(&spec, argc, argv);
    }
    if (rc < 0 && optind < argc)
        rc = cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
    if (rc < 0 && as_json && !strcmp(out, "-"))
        rc = cli_usage_error("gen", "--json needs --out FILE (the workload is stdout)");
    return rc >= 0 ? rc : generate(&p, out, as_json);
}
