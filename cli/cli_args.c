/*
 * cli_args.c — the one way every subcommand reads its command line: a table of flags
 * (cli_flag) per command, parsed by cli_parse with getopt_long and printed by the same
 * table as the command's --help, so a flag, its short form, its range and its help line
 * are written once.
 */
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

#define MAX_FLAGS 128

/* The spec's entries, its table and then `more`, in one list with the library's groups
 * spelled out; returns how many. */
static int entries(const cli_spec *s, cli_flag *all)
{
    int n = 0;
    const cli_flag *tables[2] = {s->flags, s->more};
    for (int k = 0; k < 2; k++)
        for (const cli_flag *t = tables[k]; t && (t->name || t->help || t->kind == CLI_GROUP)
                                            && n < MAX_FLAGS; t++) {
            const cli_group *g = t->kind == CLI_GROUP ? t->dst : NULL;
            for (const moemap_option *o = g ? g->options : NULL;
                 o && (o->name || o->help) && n < MAX_FLAGS; o++)
                all[n++] = (cli_flag){o->name, o->key, (cli_kind)o->kind,
                                      (char *)g->base + o->offset, o->lo, o->hi, o->arg,
                                      o->help, NULL};
            if (t->kind != CLI_GROUP)
                all[n++] = *t;
        }
    return n;
}

/* Help text with "{}" replaced by the flag's value now (the default: help is printed
 * before any flag is taken) and every line after the first indented to the help column. */
static void print_help_text(FILE *f, const cli_flag *fl, int width)
{
    for (const char *s = fl->help; *s; s++) {
        if (s[0] == '{' && s[1] == '}' && s++) {
            switch (fl->kind) {
            case CLI_INT: fprintf(f, "%d", *(int *)fl->dst); break;
            case CLI_LONG: fprintf(f, "%ld", *(long *)fl->dst); break;
            case CLI_DOUBLE: fprintf(f, "%g", *(double *)fl->dst); break;
            case CLI_SEED: fprintf(f, "%llu", (unsigned long long)*(uint64_t *)fl->dst); break;
            default: break;
            }
        } else if (fputc(*s, f) == '\n' && s[1]) {
            fprintf(f, "%*s", width, "");
        }
    }
}

static void cli_help(const cli_spec *s, FILE *f)
{
    cli_flag all[MAX_FLAGS];
    int n = entries(s, all), width = s->width ? s->width : 26;
    fputs(s->usage, f);
    for (int i = 0; i < n; i++) {
        const cli_flag *fl = &all[i];
        if (fl->help && fl->kind == CLI_TEXT)
            fputs(fl->help, f);
        if (!fl->help || fl->kind == CLI_TEXT)
            continue;
        char left[96], key[8] = "";
        if (fl->key)
            snprintf(key, sizeof key, "-%c, ", fl->key);
        int k = snprintf(left, sizeof left, "  %s--%s%s%s", key, fl->name, fl->arg ? " " : "",
                         fl->arg ? fl->arg : "");
        fprintf(f, "%s%*s", left, k < width ? width - k : 2, "");
        print_help_text(f, fl, width);
        fputc('\n', f);
    }
    if (s->footer)
        fputs(s->footer, f);
    fputs(CLI_CONVENTIONS, f);
}

/* A list flag's value, replacing what an earlier use gave. */
static int take_list(const char *cmd, const char *name, const cli_flag *fl, const char *arg)
{
    char why[200];
    double *v;
    int n;
    if (moemap_parse_list(arg, fl->kind == CLI_ILIST, (long)fl->lo, (long)fl->hi, &v, &n, why,
                          sizeof why))
        return cli_usage_error(cmd, "%s: %s", name, why);
    if (fl->kind == CLI_DLIST) {
        moemap_free(((cli_dlist *)fl->dst)->v);
        *(cli_dlist *)fl->dst = (cli_dlist){v, n};
        return 0;
    }
    cli_ilist *l = fl->dst;
    moemap_free(l->v);
    l->v = moemap_malloc((size_t)n * sizeof *l->v);
    for (int i = 0; l->v && i < n; i++)
        l->v[i] = (int)v[i];
    l->n = n;
    moemap_free(v);
    return l->v ? 0 : cli_usage_error(cmd, "%s: out of memory", name);
}

/* One flag's value into its destination; 0, or 2 after a usage error. */
static int take(const char *cmd, const char *name, const cli_flag *fl, const char *arg)
{
    long v;
    double d;
    char why[200];
    long hi = fl->hi > 0 && fl->hi < 9e18 ? (long)fl->hi : LONG_MAX;
    switch (fl->kind) {
    case CLI_STR: *(const char **)fl->dst = arg; return 0;
    case CLI_SET: *(int *)fl->dst = 1; return 0;
    case CLI_INT:
    case CLI_LONG:
    case CLI_SEED:
        if (moemap_parse_long(arg, (long)fl->lo, hi, &v, why, sizeof why))
            return cli_usage_error(cmd, "%s: %s", name, why);
        if (fl->kind == CLI_INT)
            *(int *)fl->dst = (int)v;
        else if (fl->kind == CLI_LONG)
            *(long *)fl->dst = v;
        else
            *(uint64_t *)fl->dst = (uint64_t)v;
        return 0;
    case CLI_DOUBLE:
    case CLI_MS:
        if (moemap_parse_double(arg, fl->lo, fl->hi, &d, why, sizeof why))
            return cli_usage_error(cmd, "%s: %s", name, why);
        *(double *)fl->dst = fl->kind == CLI_MS ? d / 1e3 : d;
        return 0;
    case CLI_DLIST:
    case CLI_ILIST: return take_list(cmd, name, fl, arg);
    case CLI_FN: return fl->fn(cmd, arg, fl->dst);
    default: return 0;
    }
}

int cli_parse(const cli_spec *s, int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return cli_help(s, stdout), 0;
    cli_flag all[MAX_FLAGS];
    struct option opts[MAX_FLAGS + 1];
    char shorts[2 * MAX_FLAGS + 2] = ":";
    int n = entries(s, all), no = 0, c;
    size_t k = 1;
    for (int i = 0; i < n; i++) {
        if (!all[i].name)
            continue;
        int has_arg = all[i].kind == CLI_SET ? no_argument : required_argument;
        opts[no++] = (struct option){all[i].name, has_arg, NULL, all[i].key ? all[i].key
                                                                             : 256 + i};
        if (all[i].key) {
            shorts[k++] = all[i].key;
            if (has_arg == required_argument)
                shorts[k++] = ':';
        }
    }
    opts[no] = (struct option){NULL, 0, NULL, 0};
    shorts[k] = '\0';
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (c == ':')
            return cli_usage_error(s->cmd, "%s needs a value", argv[optind - 1]);
        const cli_flag *hit = c >= 256 ? &all[c - 256] : NULL;
        for (int i = 0; !hit && c != '?' && i < n; i++)
            hit = all[i].name && all[i].key == c ? &all[i] : NULL;
        if (!hit)
            return cli_usage_error(s->cmd, "unknown option '%s'", argv[optind - 1]);
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", hit->name);
        if (take(s->cmd, flag, hit, optarg))
            return 2;
    }
    return -1;
}

int cli_parse_input(const cli_spec *s, int argc, char **argv, const char **input)
{
    int rc = cli_parse(s, argc, argv);
    if (rc >= 0)
        return rc;
    if (!*input && optind < argc)
        *input = argv[optind++];
    if (!*input)
        return cli_usage_error(s->cmd, "missing INPUT");
    if (optind < argc)
        return cli_usage_error(s->cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}
