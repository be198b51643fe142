/*
 * moemap/io.h — how libmoemap reads and writes files, so that no input can make it eat
 * the machine and no failure can lose a user's file.
 *
 * Inputs: every reader takes its file through one gate that refuses what it cannot
 * size (a directory, /dev/zero, a terminal) and anything larger than the input limit
 * (MOEMAP_DEFAULT_MAX_INPUT_BYTES unless raised). Pipes and FIFOs are read with the
 * same limit counted as the bytes come in.
 *
 * Outputs: every file is written to a nameless temporary file in the target's folder
 * (O_TMPFILE, or a hidden ".NAME.XXXXXX.tmp" where the filesystem lacks it), checked,
 * fsync'ed and renamed over the target only when complete. A failed write, a crash or a
 * kill leaves the old file as it was; a kill leaves no temporary file behind (none at
 * all with O_TMPFILE, and the hidden one is removed by moemap_outputs_on_signal).
 *
 * A program that wants all-or-nothing outputs (the CLI: "a command that fails writes
 * none of its outputs") calls moemap_outputs_hold() first; committed files are then
 * staged and only renamed into place by moemap_outputs_release(1, ...).
 */
#ifndef MOEMAP_IO_H
#define MOEMAP_IO_H

#include <stdint.h>
#include <stdio.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* The largest input file any reader accepts unless moemap_set_max_input_bytes raises
 * it: 1 GiB, four times the largest real trace we know of (an ESFT layer file). */
#define MOEMAP_DEFAULT_MAX_INPUT_BYTES (UINT64_C(1) << 30)

/* Sets the input limit for every reader from now on (0 restores the default). Process
 * wide, like the allocation hook: set it once at start-up. */
void moemap_set_max_input_bytes(uint64_t bytes);
uint64_t moemap_max_input_bytes(void);

/* Reads a whole input file into a moemap_malloc'ed, NUL-terminated buffer. Refuses a
 * directory ("is a directory"), a device or other file it cannot size, and a file over
 * the input limit, each with a message naming the path; MOEMAP_EIO when it cannot be
 * opened or read. "-" reads standard input (limit counted as it comes), once per
 * process: a second "-" is refused (MOEMAP_EINVAL), and so is a terminal (MOEMAP_EIO). */
int moemap_read_file(const char *path, char **buf, size_t *len, moemap_error *err);

/* An output file being written. */
typedef struct moemap_outfile moemap_outfile;

/* Starts writing `path` ("-": standard output, written directly). Fails when the folder
 * cannot take a file or path names a directory. The target is untouched until commit. */
int moemap_outfile_open(const char *path, moemap_outfile **out, moemap_error *err);
/* The stream to write to (stdout for "-"). */
FILE *moemap_outfile_stream(moemap_outfile *f);
/* Checks every write, flushes, fsyncs and renames the file into place (or stages it
 * when outputs are held). Always frees f; on failure the target is as it was and the
 * message names the path and the system's reason ("out.json: write failed: No space
 * left on device"). */
int moemap_outfile_commit(moemap_outfile *f, moemap_error *err);
/* Drops what was written; the target is as it was. Frees f; NULL is a no-op. */
void moemap_outfile_abort(moemap_outfile *f);
/* open + one write + commit. */
int moemap_outfile_write(const char *path, const void *data, size_t len, moemap_error *err);

/* From now on, committed files are staged (written, synced, nameless) instead of
 * renamed into place, until moemap_outputs_release: commit != 0 renames them all into
 * place in the order they were committed (0, or the first failure; the ones after it
 * are dropped), commit == 0 drops them all. At most 64 files may be staged. */
void moemap_outputs_hold(void);
int moemap_outputs_release(int commit, moemap_error *err);
/* For a signal handler (async-signal-safe): removes every temporary file that has a
 * name on disk. The caller then lets the signal end the process. */
void moemap_outputs_on_signal(void);

/* 1 when a and b name the same existing file (same device and inode), else 0. */
int moemap_same_file(const char *a, const char *b);

/* Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGPIPE that remove temporary files
 * (moemap_outputs_on_signal) and then die of the signal as before; a signal the process
 * ignores (nohup) stays ignored. */
void moemap_outputs_catch_signals(void);

/* "1073741824", "512M", "2G" (K, M, G, T: powers of 1024) as bytes; 0 when malformed. */
uint64_t moemap_parse_size(const char *s);

/* "first ARG1 ARG2 ..." allocated with moemap_malloc (NULL when out of memory): a
 * command line as the provenance a written file records. */
char *moemap_args_join(const char *first, int argc, char **argv);

/* Strict parsing of a value typed by a user: the whole text must be the number, within
 * [lo, hi]. 0, or -1 with what is wrong in why ("'x' is not an integer", "5 is outside
 * [1, 4]"). */
int moemap_parse_long(const char *s, long lo, long hi, long *out, char *why, size_t size);
int moemap_parse_double(const char *s, double lo, double hi, double *out, char *why,
                        size_t size);
/* "1,0.9,0.95" into an array allocated with moemap_malloc; ints: each an integer within
 * [lo, hi] ("%g is not an integer in lo..hi"). An empty list is an error. */
int moemap_parse_list(const char *s, int ints, long lo, long hi, double **out, int *n,
                      char *why, size_t size);
/* "GPU=VALUE" (GPU within [0, max_gpu], VALUE within [lo, hi]). why names the part. */
int moemap_parse_gpu_value(const char *s, int max_gpu, double lo, double hi, int *gpu,
                           double *value, char *why, size_t size);

/* A command line's outputs against its inputs: an output (the value of --out, -o,
 * --export FORMAT=FILE, --plan, and of each flag in extra_outputs, NULL-terminated,
 * e.g. simulate's --timeseries) that is the same file as any other argument or another
 * output would destroy a file the command still reads. Standard input and output are
 * checked the same way: "-" may be given to one input (an argument "-", "--flag=-",
 * "-X-", or a value ending in "=-" such as an event's file) and to one output, and to no
 * output when --json prints on standard output. 0, or 1 with why naming the flags, the
 * files and what they clash with. */
int moemap_args_output_clash(int argc, char **argv, const char *const *extra_outputs,
                             char *why, size_t size);
/* 1 when one of the outputs (as moemap_args_output_clash finds them) is "-": what the
 * command would print on standard output then goes to standard error. */
int moemap_args_stdout_output(int argc, char **argv, const char *const *extra_outputs);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
