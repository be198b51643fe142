/*
 * cli_args.c — the one way every subcommand reads its command line: a table of flags
 * (cli_flag) per command, parsed by cli_parse with getopt_long and printed by the same
 * table as the command's --help, so a flag, its short form, its range and its help line
 * are written once.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The value a kind of flag holds now, as its help's "{}" shows it (the default: help is
 * printed before any flag is taken). */
static void print_value(FILE *f, const cli_flag *fl)
{
    switch (fl->kind) {
    case CLI_INT: fprintf(f, "%d", *(int *)fl->dst); break;
    case CLI_LONG: fprintf(f, "%ld", *(long *)fl->dst); break;
    case CLI_DOUBLE: fprintf(f, "%g", *(double *)fl->dst); break;
    case CLI_SEED: fprintf(f, "%llu", (unsigned long long)*(uint64_t *)fl->dst); break;
    case CLI_STR: fprintf(f, "%s", *(const char **)fl->dst ? *(const char **)fl->dst : ""); break;
    default: break;
    }
}

/* Help text with "{}" replaced by the flag's value and every line after the first
 * indented to the help column. */
static void print_help_text(FILE *f, const cli_flag *fl, const char *s, int width)
{
    for (; *s; s++) {
        if (s[0] == '{' && s[1] == '}') {
            print_value(f, fl);
            s++;
        } else {
            fputc(*s, f);
            if (*s == '\n' && s[1])
                fprintf(f, "%*s", width, "");
        }
    }
}

void cli_help(const cli_spec *s, FILE *f)
{
    int width = s->width ? s->width : 26;
    fputs(s->usage, f);
    for (const cli_flag *fl = s->flags; fl->name || fl->help; fl++) {
        if (!fl->help)
            continue;
        if (fl->kind == CLI_TEXT) {
            fputs(fl->help, f);
            continue;
        }
        char left[96], key[8] = "";
        if (fl->key)
            snprintf(key, sizeof key, "-%c, ", fl->key);
        int n = snprintf(left, sizeof left, "  %s--%s%s%s", key, fl->name, fl->arg ? " " : "",
                         fl->arg ? fl->arg : "");
        fprintf(f, "%s%*s", left, n < width ? width - n : 2, "");
        print_help_text(f, fl, fl->help, width);
        fputc('\n', f);
    }
    if (s->footer)
        fputs(s->footer, f);
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
        cli_dlist *l = fl->dst;
        moemap_free(l->v);
        *l = (cli_dlist){v, n};
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
    long hi = fl->hi > 0 && fl->hi < 9e18 ? (long)fl->hi : LONG_MAX;
    switch (fl->kind) {
    case CLI_STR: *(const char **)fl->dst = arg; return 0;
    case CLI_SET: *(int *)fl->dst = 1; return 0;
    case CLI_INT:
    case CLI_LONG:
    case CLI_SEED:
        if (cli_parse_long(cmd, name, arg, (long)fl->lo, hi, &v))
            return 2;
        if (fl->kind == CLI_INT)
            *(int *)fl->dst = (int)v;
        else if (fl->kind == CLI_LONG)
            *(long *)fl->dst = v;
        else
            *(uint64_t *)fl->dst = (uint64_t)v;
        return 0;
    case CLI_DOUBLE: return cli_parse_double(cmd, name, arg, fl->lo, fl->hi, fl->dst);
    case CLI_MS: {
        double ms;
        if (cli_parse_double(cmd, name, arg, fl->lo, fl->hi, &ms))
            return 2;
        *(double *)fl->dst = ms / 1e3;
        return 0;
    }
    case CLI_DLIST:
    case CLI_ILIST: return take_list(cmd, name, fl, arg);
    case CLI_FN: return fl->fn(cmd, arg, fl->dst);
    default: return 0;
    }
}

/* "-h" or "--help" anywhere before "--": help is printed before any flag is taken, so
 * its "{}" defaults are the defaults. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

int cli_parse(const cli_spec *s, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        cli_help(s, stdout);
        return 0;
    }
    struct option opts[128];
    char shorts[160] = ":";
    int n = 0;
    size_t k = 1;
    for (int i = 0; (s->flags[i].name || s->flags[i].help) && n < 127; i++) {
        const cli_flag *fl = &s->flags[i];
        if (!fl->name)
            continue;
        int has_arg = fl->kind == CLI_SET ? no_argument : required_argument;
        opts[n++] = (struct option){fl->name, has_arg, NULL, fl->key ? fl->key : 256 + i};
        if (fl->key && k + 2 < sizeof shorts) {
            shorts[k++] = fl->key;
            if (has_arg == required_argument)
                shorts[k++] = ':';
        }
    }
    opts[n] = (struct option){NULL, 0, NULL, 0};
    shorts[k] = '\0';
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (c == ':')
            return cli_usage_error(s->cmd, "%s needs a value", argv[optind - 1]);
        const cli_flag *hit = c >= 256 ? &s->flags[c - 256] : NULL;
        for (const cli_flag *fl = s->flags; !hit && c != '?' && (fl->name || fl->help); fl++)
            hit = fl->name && fl->key == c ? fl : NULL;
        if (!hit)
            return cli_usage_error(s->cmd, "unknown option '%s'", argv[optind - 1]);
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", hit->name);
        if (take(s->cmd, flag, hit, optarg))
            return 2;
    }
    return -1;
}
