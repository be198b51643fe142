/*
 * fuzz_report.c — libFuzzer target for the report's input readers: the bytes are parsed
 * by the library's eval, stats and simulate readers, the only way moemap_report_write
 * reads those inputs. Whatever the input, a reader returns 0 with a result or an error
 * with a message; it never crashes, and on failure the message is not empty (otherwise
 * the target traps).
 */
#include <stdint.h>
#include <string.h>

#include "moemap/eval.h"
#include "moemap/sim.h"
#include "moemap/workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    moemap_error err = {0};
    moemap_eval_file *ef = NULL;
    if (moemap_eval_parse_buffer(buf, size, "fuzz.json", &ef, &err) != 0 && !err.msg[0])
        __builtin_trap();
    moemap_eval_file_free(ef);
    err = (moemap_error){0};
    moemap_workload_stats *st = NULL;
    if (moemap_workload_stats_parse_buffer(buf, size, "fuzz.json", &st, &err) != 0 &&
        !err.msg[0])
        __builtin_trap();
    moemap_workload_stats_free(st);
    err = (moemap_error){0};
    moemap_sim_file *sf = NULL;
    if (moemap_sim_parse_buffer(buf, size, "fuzz.json", &sf, &err) != 0 && !err.msg[0])
        __builtin_trap();
    moemap_sim_file_free(sf);
    return 0;
}
