/*
 * report_gnuplot.c — draws the report's charts by running gnuplot (pngcairo terminal) as
 * a subprocess, one run per chart, and loads the PNGs it writes.
 *
 * Each chart's script is written to WORK/<id>.gp with the terminal and output lines put
 * in front; gnuplot is started with posix_spawnp (no shell, so no quoting problems),
 * stdin from /dev/null and stderr into WORK/<id>.err, whose last lines become the error
 * message when gnuplot fails. A run that takes longer than a minute is killed: a chart
 * never takes that long, so it means something is wrong and the caller should hear so.
 * Text is drawn "noenhanced": labels come from user data (file names, strategy names
 * such as round_robin, events such as switch@60=...), whose _ ^ @ { } would otherwise be
 * read as gnuplot markup.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include "report_internal.h"

extern char **environ;

#define GNUPLOT_TIMEOUT_MS 60000

/* Reads a whole file into memory (moemap_malloc'ed, NUL-terminated). Returns 0,
 * MOEMAP_EIO when it cannot be read, MOEMAP_ENOMEM when memory runs out. */
static int slurp(const char *path, unsigned char **out, size_t *len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return MOEMAP_EIO;
    unsigned char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? 2 * cap : 131072;
            unsigned char *d = moemap_realloc(data, cap);
            if (!d) {
                moemap_free(data);
                fclose(f);
                return MOEMAP_ENOMEM;
            }
            data = d;
        }
        size_t got = fread(data + n, 1, 65536, f);
        n += got;
        if (got < 65536)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        moemap_free(data);
        return MOEMAP_EIO;
    }
    data[n] = '\0';
    *out = data;
    *len = n;
    return 0;
}

/* The last non-empty lines of gnuplot's stderr, joined into one line for a message. */
static void last_lines(const char *path, char *out, size_t size)
{
    size_t len = 0;
    unsigned char *raw = NULL;
    out[0] = '\0';
    if (slurp(path, &raw, &len) != 0)
        return;
    char *text = (char *)raw;
    /* gnuplot repeats the offending line with a caret under it; keep the last 3 lines. */
    int lines = 0;
    size_t start = len;
    while (start > 0 && lines < 3) {
        start--;
        if (text[start] == '\n' && start + 1 < len && text[start + 1] != '\n')
            lines++;
    }
    size_t o = 0;
    for (size_t i = start; i < len && o + 1 < size; i++) {
        char ch = text[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        if (ch == ' ' && (o == 0 || out[o - 1] == ' '))
            continue;
        out[o++] = ch;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    moemap_free(text);
}

/* Runs `gnuplot script` with stderr to err_path; waits at most GNUPLOT_TIMEOUT_MS. */
static int run_gnuplot(const char *gnuplot, const char *script, const char *err_path,
                       const char *chart, moemap_error *err)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return moemap_error_set(err, MOEMAP_ENOMEM, "cannot start gnuplot: out of memory");
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *argv[] = {(char *)gnuplot, (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT)
        return moemap_error_set(err, MOEMAP_ENOTSUP,
                                "gnuplot not found ('%s' %s): install it (Debian: apt-get "
                                "install gnuplot-nox) or name it with --gnuplot PATH",
                                gnuplot,
                                strchr(gnuplot, '/') ? "does not exist" : "is not in PATH");
    if (rc != 0)
        return moemap_error_set(err, MOEMAP_EIO, "cannot run '%s': %s", gnuplot,
                                strerror(rc));
    int status = 0;
    long waited_ms = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return moemap_error_set(err, MOEMAP_EIO, "waiting for gnuplot: %s",
                                    strerror(errno));
        if (waited_ms >= GNUPLOT_TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return moemap_error_set(err, MOEMAP_ELIMIT,
                                    "gnuplot took over %d s on chart '%s'; stopped it",
                                    GNUPLOT_TIMEOUT_MS / 1000, chart);
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited_ms += 5;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char msg[360];
    last_lines(err_path, msg, sizeof msg);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !msg[0])
        return moemap_error_set(err, MOEMAP_ENOTSUP, "gnuplot '%s' could not be executed",
                                gnuplot);
    return moemap_error_set(err, MOEMAP_EIO, "gnuplot failed on chart '%s' (%s): %s", chart,
                            script, msg[0] ? msg : "no message");
}

int rp_render_charts(rp_page *page, const char *gnuplot, const char *work_dir,
                     moemap_progress_fn progress, void *ctx,
                     moemap_error *err)
{
    int total = 0, done = 0;
    for (int i = 0; i < page->num_items; i++)
        total += page->items[i].kind == RP_ITEM_CHART;
    for (int i = 0; i < page->num_items; i++) {
        rp_item *it = &page->items[i];
        if (it->kind != RP_ITEM_CHART)
            continue;
        char script[4096], png[4096], errf[4096];
        snprintf(script, sizeof script, "%s/%s.gp", work_dir, it->id);
        snprintf(png, sizeof png, "%s/%s.png", work_dir, it->id);
        snprintf(errf, sizeof errf, "%s/%s.err", work_dir, it->id);
        rp_buf text = {0};
        rp_buf_printf(&text,
                      "set terminal pngcairo size %d,%d noenhanced font 'Sans,10' "
                      "linewidth 1.2\nset output ",
                      RP_CHART_W, it->height);
        rp_buf_gp_str(&text, png);
        rp_buf_printf(&text, "\n");
        rp_gp_style(&text);
        rp_buf_append(&text, it->body.s ? it->body.s : "", it->body.len);
        rp_buf_printf(&text, "\nunset output\n");
        if (text.oom) {
            rp_buf_free(&text);
            return moemap_error_set(err, MOEMAP_ENOMEM, "chart '%s': out of memory", it->id);
        }
        FILE *f = fopen(script, "w");
        if (!f) {
            rp_buf_free(&text);
            return moemap_error_set(err, MOEMAP_EIO, "%s: cannot write: %s", script,
                                    strerror(errno));
        }
        int bad = fwrite(text.s, 1, text.len, f) != text.len;
        bad |= fclose(f) != 0;
        rp_buf_free(&text);
        if (bad)
            return moemap_error_set(err, MOEMAP_EIO, "%s: write failed", script);
        remove(png); /* so a stale PNG from an earlier run is never embedded */
        int rc = run_gnuplot(gnuplot, script, errf, it->id, err);
        if (rc != 0)
            return rc;
        moemap_free(it->png);
        it->png = NULL;
        rc = slurp(png, &it->png, &it->png_len);
        if (rc == MOEMAP_ENOMEM)
            return moemap_error_set(err, rc, "chart '%s': out of memory", it->id);
        if (rc || it->png_len < 8 || memcmp(it->png, "\x89PNG", 4) != 0)
            return moemap_error_set(err, MOEMAP_EIO,
                                    "gnuplot wrote no PNG for chart '%s' (%s)", it->id, png);
        done++;
        if (progress)
            progress(ctx, "charts", done, total);
    }
    return 0;
}
