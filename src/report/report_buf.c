/*
 * report_buf.c — small utilities of the report module: the growable text buffer used to
 * build gnuplot scripts and HTML, the page's list of items, base64 for data: URIs, and the
 * charts' common look (gnuplot preamble and series colours), which every chart builder
 * uses: here, below them, rather than in report.c, which calls the builders.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

static int reserve(rp_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = moemap_realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void rp_buf_append(rp_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void rp_buf_printf(rp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rp_buf_html(rp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': rp_buf_append(b, "&amp;", 5); break;
        case '<': rp_buf_append(b, "&lt;", 4); break;
        case '>': rp_buf_append(b, "&gt;", 4); break;
        case '"': rp_buf_append(b, "&quot;", 6); break;
        default: rp_buf_append(b, s, 1);
        }
    }
}

void rp_buf_gp_str(rp_buf *b, const char *s)
{
    rp_buf_append(b, "'", 1);
    for (; s && *s; s++) {
        if (*s == '\'')
            rp_buf_append(b, "''", 2);
        else if (*s == '\n' || *s == '\r')
            rp_buf_append(b, " ", 1); /* a newline would end the gnuplot command */
        else
            rp_buf_append(b, s, 1);
    }
    rp_buf_append(b, "'", 1);
}

void rp_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

void rp_buf_free(rp_buf *b)
{
    moemap_free(b->s);
    memset(b, 0, sizeof *b);
}

rp_item *rp_page_add(rp_page *page, rp_item_kind kind, const char *id, const char *title)
{
    if (page->num_items == page->cap_items) {
        int cap = page->cap_items ? 2 * page->cap_items : 8;
        rp_item *items = moemap_realloc(page->items, (size_t)cap * sizeof *items);
        if (!items)
            return NULL;
        page->items = items;
        page->cap_items = cap;
    }
    rp_item *it = &page->items[page->num_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->height = RP_CHART_H;
    snprintf(it->id, sizeof it->id, "%s", id);
    snprintf(it->title, sizeof it->title, "%s", title);
    return it;
}

void rp_page_missing(rp_page *page, const char *chart, const char *why)
{
    rp_buf_append(&page->missing, "<li><b>", 7);
    rp_buf_html(&page->missing, chart);
    rp_buf_append(&page->missing, "</b>: ", 6);
    rp_buf_html(&page->missing, why);
    rp_buf_append(&page->missing, "</li>\n", 6);
    page->charts_missing++;
}

void rp_page_free(rp_page *page)
{
    for (int i = 0; i < page->num_items; i++) {
        rp_buf_free(&page->items[i].caption);
        rp_buf_free(&page->items[i].body);
        moemap_free(page->items[i].png);
    }
    moemap_free(page->items);
    rp_buf_free(&page->inputs);
    rp_buf_free(&page->missing);
    memset(page, 0, sizeof *page);
}

char *moemap_base64_encode(const unsigned char *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out_len = 4 * ((n + 2) / 3);
    char *out = moemap_malloc(out_len + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) { /* one or two bytes left: pad with '=' */
        unsigned v = (unsigned)data[i] << 16 | (i + 1 < n ? (unsigned)data[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static const char *palette[] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                "#CC79A7", "#56B4E9", "#8C564B", "#000000"};

const char *rp_gp_color(int i)
{
    return palette[(i < 0 ? 0 : i) % (int)(sizeof palette / sizeof palette[0])];
}

void rp_gp_style(rp_buf *s)
{
    rp_buf_printf(s, "set encoding utf8\n"
                     "set border 3 lc rgb '#555555'\n"
                     "set tics nomirror textcolor rgb '#333333'\n"
                     "set grid ytics lc rgb '#e0e0e0' lt 1\n"
                     "set key box lc rgb '#cccccc' opaque samplen 2\n"
                     "set style fill solid 0.85 noborder\n"
                     "set datafile missing '?'\n");
}
