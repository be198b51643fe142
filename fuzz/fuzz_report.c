/*
 * fuzz_report.c — libFuzzer target for the report's input readers: the bytes are parsed
 * as JSON and handed to every page builder (stats, eval, simulate, time series), the way
 * moemap_report_write does before it runs gnuplot. Whatever the input, a builder returns
 * 0 with well-formed chart scripts or an error with a message; it never crashes, and on
 * failure the message is not empty (otherwise the target traps).
 */
#include <stdint.h>
#include <string.h>

#include "json_util.h"
#include "report/report_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_error err = {0};
    json_t *root = mm_json_load_buffer((const char *)data, size, "fuzz.json", &err);
    if (!root)
        return 0;
    if (json_is_object(root)) {
        for (int kind = 0; kind < 4; kind++) {
            rp_page page;
            memset(&page, 0, sizeof page);
            err = (moemap_error){0};
            int rc;
            switch (kind) {
            case 0: rc = rp_add_stats(&page, root, "fuzz.json", 1, &err); break;
            case 1: rc = rp_add_eval(&page, root, "fuzz.json", -1, NULL, NULL, &err); break;
            case 2: rc = rp_add_simulate(&page, root, "fuzz.json", &err); break;
            default: rc = rp_add_timeseries(&page, root, "fuzz.json", &err); break;
            }
            if (rc != 0 && err.msg[0] == '\0')
                __builtin_trap();
            /* Every chart script must end its inline data blocks. */
            for (int i = 0; rc == 0 && i < page.num_items; i++) {
                const rp_item *it = &page.items[i];
                if (it->kind == RP_ITEM_CHART && it->body.s &&
                    strstr(it->body.s, "<< EOD") && !strstr(it->body.s, "\nEOD\n"))
                    __builtin_trap();
            }
            rp_page_free(&page);
        }
    }
    json_decref(root);
    return 0;
}
