/*
 * fuzz_report.c — libFuzzer target for the report's input readers: the bytes are parsed
 * by the library's eval and stats readers and, as JSON, handed to the simulate and time
 * series builders, the way moemap_report_write does before it runs gnuplot. Whatever the
 * input, a reader or builder returns
 * 0 with well-formed chart scripts or an error with a message; it never crashes, and on
 * failure the message is not empty (otherwise the target traps).
 */
#include <stdint.h>
#include <string.h>

#include "json_util.h"
#include "moemap/eval.h"
#include "moemap/workload.h"
#include "report/report_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_error err = {0};
    moemap_eval_file *ef = NULL;
    if (moemap_eval_parse_buffer((const char *)data, size, "fuzz.json", &ef, &err) != 0 &&
        err.msg[0] == '\0')
        __builtin_trap();
    moemap_eval_file_free(ef);
    moemap_workload_stats *st = NULL;
    err = (moemap_error){0};
    if (moemap_workload_stats_parse_buffer((const char *)data, size, "fuzz.json", &st, &err) !=
            0 && err.msg[0] == '\0')
        __builtin_trap();
    moemap_workload_stats_free(st);
    err = (moemap_error){0};
    json_t *root = mm_json_load_buffer((const char *)data, size, "fuzz.json", &err);
    if (!root)
        return 0;
    if (json_is_object(root)) {
        for (int kind = 2; kind < 4; kind++) {
            rp_page page;
            memset(&page, 0, sizeof page);
            err = (moemap_error){0};
            int rc;
            switch (kind) {
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
