/*
 * error.c — status names and messages (generated from the X-macro table in base.h), the
 * error report helpers and the always-on assertion used for moemap's own invariants.
 */
#include "moemap/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *moemap_status_name(int status)
{
    switch (status) {
#define NAME_CASE_(name, code, msg) \
    case code:                      \
        return #name;
        MOEMAP_STATUS_MAP(NAME_CASE_)
#undef NAME_CASE_
    }
    return "UNKNOWN";
}

const char *moemap_status_message(int status)
{
    switch (status) {
#define MSG_CASE_(name, code, msg) \
    case code:                     \
        return msg;
        MOEMAP_STATUS_MAP(MSG_CASE_)
#undef MSG_CASE_
    }
    return "unknown status";
}

/* Messages are one line by contract (the CLI prints them as "moemap cmd: msg"), but they
 * may quote user input (a JSON parser's "near '...'"), which can hold control bytes:
 * those become spaces. */
static void one_line(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

int moemap_error_set(moemap_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        one_line(err->msg);
        err->code = code;
    }
    return code;
}

void moemap_error_prefix(moemap_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[MOEMAP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[2 * MOEMAP_ERROR_MSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    /* A message longer than the report keeps its beginning, which names the input. */
    memcpy(err->msg, joined, sizeof err->msg - 1);
    err->msg[sizeof err->msg - 1] = '\0';
    one_line(err->msg);
}

void moemap_assert_fail_(const char *expr, const char *file, int line)
{
    fprintf(stderr, "moemap: internal error at %s:%d: assertion '%s' failed\n", file, line,
            expr);
    abort();
}

const char *moemap_version(void)
{
    return "0.1.0";
}
