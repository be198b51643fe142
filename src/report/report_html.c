/*
 * report_html.c — writes the report page: one HTML file with inline CSS, the charts as
 * data:image/png;base64 URIs and no external reference of any kind (no fonts, scripts
 * or styles fetched), so it renders the same offline, from a mail attachment or a CI
 * artefact. A few lines of inline script count the charts that decoded and show the
 * count at the top of the page ("6 of 6 charts rendered"), which is also what the
 * headless-browser test reads back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_internal.h"

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "background:#f6f7f9;color:#1d2330}\n"
    "header{background:#1d2330;color:#fff;padding:18px 32px}\n"
    "header h1{margin:0;font-size:24px}header p{margin:6px 0 0;color:#c8cdd8}\n"
    "main{max-width:1060px;margin:0 auto;padding:12px 24px 40px}\n"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:8px;"
    "margin:18px 0;padding:14px 20px}\n"
    "section h2{font-size:18px;margin:4px 0 8px}\n"
    ".caption{color:#444b5a;font-size:14px;line-height:1.45}\n"
    "img.chart{display:block;max-width:100%;height:auto;margin:8px 0}\n"
    "table{border-collapse:collapse;font-size:14px;margin:8px 0}\n"
    "th,td{border-bottom:1px solid #e3e6ec;padding:4px 12px;text-align:right}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "th{background:#f0f2f6}\n"
    "td.best{font-weight:bold;color:#006b3c}\n"
    "#chart-status{font-size:13px}\n"
    "ul{font-size:14px}\n"
    "code{background:#f0f2f6;padding:1px 4px;border-radius:3px}\n";

/* Counts images that decoded (naturalWidth > 0) once the page has loaded and writes the
 * result into #chart-status and the body's data-charts attribute. */
static const char *status_script =
    "<script>\n"
    "window.addEventListener('load',function(){\n"
    "  var imgs=document.querySelectorAll('img.chart'),ok=0;\n"
    "  for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}\n"
    "  var s=document.getElementById('chart-status');\n"
    "  s.textContent=ok+' of '+imgs.length+' charts rendered';\n"
    "  document.body.setAttribute('data-charts',ok+'/'+imgs.length);\n"
    "});\n"
    "</script>\n";

int rp_write_html(const rp_page *page, const char *path, long *bytes, moemap_error *err)
{
    rp_buf h = {0};
    int charts = 0;
    for (int i = 0; i < page->num_items; i++)
        charts += page->items[i].kind == RP_ITEM_CHART;

    rp_buf_printf(&h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                      "<title>");
    rp_buf_html(&h, page->title);
    rp_buf_printf(&h, "</title>\n<style>\n%s</style>\n</head>\n<body data-charts=\"\">\n"
                      "<header><h1>", css);
    rp_buf_html(&h, page->title);
    time_t now = time(NULL);
    struct tm tm;
    char when[64] = "";
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    rp_buf_printf(&h, "</h1><p>moemap %s &middot; %s &middot; <span id=\"chart-status\">"
                      "%d charts</span></p></header>\n<main>\n",
                  moemap_version(), when, charts);

    /* Table of contents, so a long report can be navigated. */
    rp_buf_printf(&h, "<section><h2>Contents</h2><ul>\n");
    for (int i = 0; i < page->num_items; i++) {
        const rp_item *it = &page->items[i];
        rp_buf_printf(&h, "<li><a href=\"#%s\">", it->id);
        rp_buf_html(&h, it->title);
        rp_buf_printf(&h, "</a></li>\n");
    }
    rp_buf_printf(&h, "</ul>\n");
    if (page->inputs.len)
        rp_buf_printf(&h, "<p class=\"caption\">Inputs:</p><ul>%s</ul>\n", page->inputs.s);
    if (page->missing.len)
        rp_buf_printf(&h, "<p class=\"caption\">Not shown (input missing):</p><ul>%s</ul>\n",
                      page->missing.s);
    rp_buf_printf(&h, "</section>\n");

    for (int i = 0; i < page->num_items; i++) {
        const rp_item *it = &page->items[i];
        rp_buf_printf(&h, "<section id=\"%s\"><h2>", it->id);
        rp_buf_html(&h, it->title);
        rp_buf_printf(&h, "</h2>\n");
        if (it->caption.len)
            rp_buf_printf(&h, "<p class=\"caption\">%s</p>\n", it->caption.s);
        if (it->kind == RP_ITEM_HTML) {
            if (it->body.len)
                rp_buf_append(&h, it->body.s, it->body.len);
        } else {
            char *b64 = it->png ? moemap_base64_encode(it->png, it->png_len) : NULL;
            if (!b64) {
                rp_buf_free(&h);
                return moemap_error_set(err, MOEMAP_ENOMEM,
                                        "chart '%s': not drawn or out of memory", it->id);
            }
            rp_buf_printf(&h, "<img class=\"chart\" id=\"img-%s\" width=\"%d\" height=\"%d\" "
                              "alt=\"",
                          it->id, RP_CHART_W, it->height);
            rp_buf_html(&h, it->title);
            rp_buf_printf(&h, "\" src=\"data:image/png;base64,");
            rp_buf_append(&h, b64, strlen(b64));
            rp_buf_printf(&h, "\">\n");
            moemap_free(b64);
        }
        rp_buf_printf(&h, "</section>\n");
    }
    rp_buf_printf(&h, "</main>\n%s</body>\n</html>\n", status_script);
    if (h.oom) {
        rp_buf_free(&h);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory building the page",
                                path);
    }
    /* Through the library's output file: written next to the target and renamed into
     * place, so a failed write never leaves a half page (or replaces a good one). */
    if (bytes)
        *bytes = (long)h.len;
    int wrc = moemap_outfile_write(path, h.s, h.len, err);
    rp_buf_free(&h);
    return wrc;
}
