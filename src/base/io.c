/*
 * io.c — see moemap/io.h: the one gate every input file goes through (sized, bounded,
 * refused when it cannot be sized) and the one way every output file is written
 * (temporary file in the same folder, checked, fsync'ed, renamed into place).
 *
 * Why O_TMPFILE first: a nameless file vanishes with the process whatever kills it,
 * SIGKILL included, so a killed write can never leave debris next to the user's file.
 * It gets a name only for the instant between linkat() and rename(). Filesystems
 * without O_TMPFILE get a hidden ".NAME.XXXXXX.tmp" instead, which a signal handler
 * removes (moemap_outputs_on_signal); only SIGKILL can leave that one behind.
 *
 * The process-wide state here (input limit, the held flag, the staged list and the
 * names a signal handler must remove) is deliberate: a signal handler has no other way
 * to find the files, and the limit and hold are settings of the whole program.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include "moemap/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ---------------------------------------------------------------- inputs */

static uint64_t max_input = 0; /* 0: the default */

void moemap_set_max_input_bytes(uint64_t bytes)
{
    max_input = bytes;
}

uint64_t moemap_max_input_bytes(void)
{
    return max_input ? max_input : MOEMAP_DEFAULT_MAX_INPUT_BYTES;
}

static int too_large(const char *path, uint64_t limit, moemap_error *err)
{
    return moemap_error_set(err, MOEMAP_ELIMIT,
                            "%s: larger than the input limit of %llu bytes (raise it with "
                            "--max-input-bytes or MOEMAP_MAX_INPUT_BYTES)",
                            path, (unsigned long long)limit);
}

int moemap_read_file(const char *path, char **buf, size_t *len, moemap_error *err)
{
    *buf = NULL;
    *len = 0;
    int is_stdin = strcmp(path, "-") == 0;
    /* Standard input can be read once: a second reader would find it empty and say
     * something about an empty file instead. */
    static int stdin_taken;
    if (is_stdin && stdin_taken)
        return moemap_error_set(err, MOEMAP_EINVAL, "-: standard input was already read by "
                                "another input (give '-' to one input only)");
    if (is_stdin && isatty(STDIN_FILENO))
        return moemap_error_set(err, MOEMAP_EIO, "-: standard input is a terminal; redirect "
                                "or pipe a file into it ('< FILE')");
    stdin_taken |= is_stdin;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return moemap_error_set(err, MOEMAP_EIO, "%s: cannot open: %s", path, strerror(errno));
    uint64_t limit = moemap_max_input_bytes();
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = moemap_error_set(err, MOEMAP_EIO, "%s: is a directory, not a file", path);
    else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
        /* /dev/zero, /dev/urandom, a terminal: endless or unsizable. */
        rc = moemap_error_set(err, MOEMAP_EIO,
                              "%s: not a regular file (a device cannot be read as input)",
                              path);
    else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit)
        rc = too_large(path, limit, err);
    /* A regular file is read to its size (+1 to see it grow); a pipe grows in steps. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : (size_t)1 << 16;
    char *b = rc ? NULL : moemap_malloc(cap);
    if (!rc && !b)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    size_t n = 0;
    while (!rc) {
        if (n + 1 >= cap) {
            size_t ncap = cap * 2 > limit + 2 ? (size_t)limit + 2 : cap * 2;
            char *nb = ncap > cap ? moemap_realloc(b, ncap) : NULL;
            if (!nb) {
                rc = ncap > cap ? moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path)
                                : too_large(path, limit, err);
                break;
            }
            b = nb;
            cap = ncap;
        }
        ssize_t got = read(fd, b + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = moemap_error_set(err, MOEMAP_EIO, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > limit)
            rc = too_large(path, limit, err);
    }
    if (!is_stdin)
        close(fd);
    if (rc) {
        moemap_free(b);
        return rc;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* --------------------------------------------------------------- outputs */

struct moemap_outfile {
    FILE *f;
    int to_stdout;
    int direct;            /* not a regular file (/dev/null, a FIFO): written in place */
    int nameless;          /* O_TMPFILE: no name on disk until linked */
    int slot;              /* index in tmp_names while it has a name on disk, else -1 */
    char path[PATH_MAX];   /* the target */
    char tmp[PATH_MAX];    /* the temporary name (fallback, or the link before rename) */
};

/* Names of temporary files on disk, for the signal handler. An entry is written before
 * `used` is set, so the handler never sees half a name. */
#define MAX_TMP 64
static struct {
    volatile sig_atomic_t used;
    char name[PATH_MAX];
} tmp_names[2 * MAX_TMP];

static int register_tmp(const char *name)
{
    for (int i = 0; i < 2 * MAX_TMP; i++)
        if (!tmp_names[i].used) {
            memcpy(tmp_names[i].name, name, strlen(name) + 1);
            tmp_names[i].used = 1;
            return i;
        }
    return -1;
}

static void unregister_tmp(int slot)
{
    if (slot >= 0)
        tmp_names[slot].used = 0;
}

void moemap_outputs_on_signal(void)
{
    for (int i = 0; i < 2 * MAX_TMP; i++)
        if (tmp_names[i].used)
            unlink(tmp_names[i].name);
}

static int held = 0;
static moemap_outfile *staged[MAX_TMP];
static int num_staged = 0;

/* Splits path into its folder ("." when none) and base name. */
static void split_path(const char *path, char *dir, size_t dsize, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dsize, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dsize, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dsize, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

static unsigned tmp_counter = 0;

int moemap_outfile_open(const char *path, moemap_outfile **out, moemap_error *err)
{
    *out = NULL;
    if (strlen(path) + 32 >= PATH_MAX)
        return moemap_error_set(err, MOEMAP_EINVAL, "%.64s...: path too long", path);
    moemap_outfile *o = moemap_calloc(1, sizeof *o);
    if (!o)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    o->slot = -1;
    snprintf(o->path, sizeof o->path, "%s", path);
    if (strcmp(path, "-") == 0) {
        o->to_stdout = 1;
        o->f = stdout;
        *out = o;
        return 0;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        moemap_free(o);
        return moemap_error_set(err, MOEMAP_EIO, "%s: is a directory, not a file", path);
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* /dev/null, /dev/stdout, a FIFO: written in place; renaming over a device would
         * replace it with a plain file. Errors still surface at commit. */
        o->direct = 1;
        o->f = fopen(path, "wb");
        if (!o->f) {
            int e = errno;
            moemap_free(o);
            return moemap_error_set(err, MOEMAP_EIO, "%s: cannot open: %s", path, strerror(e));
        }
        *out = o;
        return 0;
    }
    /* A symbolic link stays a link: the file it points to is the one replaced. */
    char real[PATH_MAX];
    if (exists && realpath(path, real) && strlen(real) + 32 < PATH_MAX)
        snprintf(o->path, sizeof o->path, "%s", real);
    path = o->path;
    /* New files get 0666 less the umask, as fopen would; a replaced file keeps its mode. */
    mode_t mask = umask(0);
    umask(mask);
    mode_t mode = exists && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : (0666 & ~mask);
    char dir[PATH_MAX];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    o->nameless = fd >= 0;
#endif
    if (fd < 0) {
        if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX.tmp", dir, base) >=
            (int)sizeof o->tmp)
            errno = ENAMETOOLONG;
        else
            fd = mkstemps(o->tmp, 4);
        if (fd >= 0) {
            o->slot = register_tmp(o->tmp);
            if (fchmod(fd, mode) != 0) {
                /* Harmless: the file keeps mkstemp's 0600. */
            }
        }
    }
    if (fd < 0) { /* the message first: path points into o */
        int rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot create: %s", path,
                                  strerror(errno));
        moemap_free(o);
        return rc;
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot create: %s", path,
                                  strerror(errno));
        close(fd);
        moemap_outfile_abort(o);
        return rc;
    }
    *out = o;
    return 0;
}

FILE *moemap_outfile_stream(moemap_outfile *f)
{
    return f->f;
}

void moemap_outfile_abort(moemap_outfile *f)
{
    if (!f)
        return;
    if (f->f && !f->to_stdout)
        fclose(f->f);
    if (f->slot >= 0) {
        unlink(f->tmp);
        unregister_tmp(f->slot);
    }
    moemap_free(f);
}

/* Gives a synced temporary file its final name. Frees f. */
static int put_in_place(moemap_outfile *f, moemap_error *err)
{
    int rc = 0;
    if (f->nameless) {
        /* linkat cannot replace a file, so the nameless file first gets a fresh hidden
         * name and is then renamed over the target, which is atomic. */
        char proc[64], dir[PATH_MAX];
        const char *base;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(f->f));
        split_path(f->path, dir, sizeof dir, &base);
        for (int tries = 0; tries < 100; tries++) {
            if (snprintf(f->tmp, sizeof f->tmp, "%s/.%s.%ld.%u.tmp", dir, base,
                         (long)getpid(), tmp_counter++) >= (int)sizeof f->tmp) {
                rc = moemap_error_set(err, MOEMAP_EIO, "%s: path too long", f->path);
                break;
            }
            f->slot = register_tmp(f->tmp);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, f->tmp, AT_SYMLINK_FOLLOW) == 0)
                break;
            int e = errno;
            unregister_tmp(f->slot);
            f->slot = -1;
            if (e != EEXIST) {
                rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot create: %s", f->path,
                                      strerror(e));
                break;
            }
        }
        if (!rc && f->slot < 0)
            rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot create a temporary name",
                                  f->path);
    }
    if (!rc && rename(f->tmp, f->path) != 0)
        rc = moemap_error_set(err, MOEMAP_EIO, "%s: cannot replace: %s", f->path,
                              strerror(errno));
    if (!rc) {
        unregister_tmp(f->slot);
        f->slot = -1;
        /* Sync the folder too, so the new name survives a power cut. Best effort: some
         * filesystems refuse fsync on a folder. */
        char dir[PATH_MAX];
        const char *base;
        split_path(f->path, dir, sizeof dir, &base);
        int dfd = open(dir, O_RDONLY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    moemap_outfile_abort(f); /* closes; removes the hidden name if it is still there */
    return rc;
}

int moemap_outfile_commit(moemap_outfile *f, moemap_error *err)
{
    if (f->to_stdout) {
        int bad = fflush(stdout) != 0 || ferror(stdout);
        int e = errno;
        moemap_free(f);
        if (bad)
            return moemap_error_set(err, MOEMAP_EIO, "<stdout>: write failed: %s", strerror(e));
        return 0;
    }
    errno = 0;
    int bad = fflush(f->f) != 0 || ferror(f->f);
    if (f->direct) {
        int e = errno;
        bad |= fclose(f->f) != 0;
        e = e ? e : errno;
        f->f = NULL;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", f->path);
        moemap_free(f);
        if (bad)
            return moemap_error_set(err, MOEMAP_EIO, "%s: write failed: %s", path,
                                    e ? strerror(e) : "error on the stream");
        return 0;
    }
    /* EINVAL/ENOTSUP: a filesystem that cannot sync (a pipe-like target); nothing lost. */
    if (!bad && fsync(fileno(f->f)) != 0 && errno != EINVAL && errno != ENOTSUP)
        bad = 1;
    if (bad) {
        int e = errno;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", f->path);
        moemap_outfile_abort(f);
        return moemap_error_set(err, MOEMAP_EIO, "%s: write failed: %s", path,
                                e ? strerror(e) : "error on the stream");
    }
    if (held) {
        /* A second write of the same file in one run replaces the first. */
        for (int i = 0; i < num_staged; i++)
            if (strcmp(staged[i]->path, f->path) == 0) {
                moemap_outfile_abort(staged[i]);
                staged[i] = f;
                return 0;
            }
        if (num_staged == MAX_TMP) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s", f->path);
            moemap_outfile_abort(f);
            return moemap_error_set(err, MOEMAP_ELIMIT, "%s: more than %d output files", path,
                                    MAX_TMP);
        }
        staged[num_staged++] = f;
        return 0;
    }
    return put_in_place(f, err);
}

int moemap_outfile_write(const char *path, const void *data, size_t len, moemap_error *err)
{
    moemap_outfile *f;
    int rc = moemap_outfile_open(path, &f, err);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, f->f) != len) {
        int e = errno;
        moemap_outfile_abort(f);
        return moemap_error_set(err, MOEMAP_EIO, "%s: write failed: %s", path, strerror(e));
    }
    return moemap_outfile_commit(f, err);
}

void moemap_outputs_hold(void)
{
    held = 1;
}

int moemap_outputs_release(int commit, moemap_error *err)
{
    int rc = 0;
    held = 0;
    for (int i = 0; i < num_staged; i++) {
        if (commit && !rc)
            rc = put_in_place(staged[i], err);
        else
            moemap_outfile_abort(staged[i]);
        staged[i] = NULL;
    }
    num_staged = 0;
    return rc;
}

int moemap_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
