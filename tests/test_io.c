/*
 * test_io.c — unit tests of moemap/io.h: the input gate (devices, folders, the size
 * limit counted on files and on pipes) and the atomic output file (the target keeps its
 * old content until commit, an abort or a failure leaves it as it was and nothing else
 * in the folder, held outputs appear only on release, devices are written in place,
 * links are followed), with every allocation of a write made to fail in turn.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "moemap/io.h"

static char dir[256];

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static int file_is(const char *path, const char *want)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void clean_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
}

TEST(read_refuses_devices_folders_and_oversize)
{
    moemap_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    CHECK(moemap_read_file("/dev/zero", &buf, &len, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "/dev/zero: not a regular file");
    CHECK(buf == NULL);
    CHECK(moemap_read_file(dir, &buf, &len, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "is a directory");
    char p[512];
    path_in(p, sizeof p, "small.txt");
    put(p, "0123456789");
    moemap_set_max_input_bytes(9);
    CHECK_INT_EQ(moemap_read_file(p, &buf, &len, &err), MOEMAP_ELIMIT);
    CHECK_STR_CONTAINS(err.msg, "larger than the input limit of 9 bytes");
    moemap_set_max_input_bytes(10);
    CHECK_OK(moemap_read_file(p, &buf, &len, &err), &err);
    CHECK_INT_EQ(len, 10);
    CHECK(buf && strcmp(buf, "0123456789") == 0);
    moemap_free(buf);
    moemap_set_max_input_bytes(0);
    CHECK(moemap_max_input_bytes() == MOEMAP_DEFAULT_MAX_INPUT_BYTES);
    clean_dir();
}

/* A pipe cannot be sized: the limit is counted as the bytes arrive. */
TEST(read_counts_the_limit_on_a_pipe)
{
    char p[512];
    path_in(p, sizeof p, "fifo");
    CHECK(mkfifo(p, 0600) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(p, O_WRONLY);
        char block[4096];
        memset(block, 'x', sizeof block);
        for (int i = 0; i < 64 && fd >= 0; i++)
            if (write(fd, block, sizeof block) < 0)
                break;
        _exit(0);
    }
    moemap_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    moemap_set_max_input_bytes(100000);
    CHECK_INT_EQ(moemap_read_file(p, &buf, &len, &err), MOEMAP_ELIMIT);
    CHECK_STR_CONTAINS(err.msg, "larger than the input limit of 100000 bytes");
    moemap_set_max_input_bytes(0);
    int st;
    waitpid(pid, &st, 0);
    clean_dir();
}

TEST(commit_replaces_abort_keeps)
{
    char p[512];
    path_in(p, sizeof p, "out.json");
    put(p, "old");
    moemap_error err = {0};
    moemap_outfile *f;
    CHECK_OK(moemap_outfile_open(p, &f, &err), &err);
    fputs("new content", moemap_outfile_stream(f));
    CHECK(file_is(p, "old")); /* untouched until commit */
    moemap_outfile_abort(f);
    CHECK(file_is(p, "old"));
    CHECK_INT_EQ(count_entries(), 1);
    CHECK_OK(moemap_outfile_write(p, "new", 3, &err), &err);
    CHECK(file_is(p, "new"));
    CHECK_INT_EQ(count_entries(), 1);
    clean_dir();
}

TEST(held_outputs_appear_on_release_only)
{
    char a[512], b[512];
    path_in(a, sizeof a, "a.txt");
    path_in(b, sizeof b, "b.txt");
    put(a, "old");
    moemap_error err = {0};
    moemap_outputs_hold();
    CHECK_OK(moemap_outfile_write(a, "A1", 2, &err), &err);
    CHECK_OK(moemap_outfile_write(a, "A2", 2, &err), &err); /* the second write wins */
    CHECK_OK(moemap_outfile_write(b, "B", 1, &err), &err);
    CHECK(file_is(a, "old"));
    CHECK(access(b, F_OK) != 0);
    CHECK_OK(moemap_outputs_release(1, &err), &err);
    CHECK(file_is(a, "A2"));
    CHECK(file_is(b, "B"));
    CHECK_INT_EQ(count_entries(), 2);
    /* A failed command: nothing of it appears. */
    moemap_outputs_hold();
    CHECK_OK(moemap_outfile_write(a, "A3", 2, &err), &err);
    CHECK_OK(moemap_outfile_write(b, "B3", 2, &err), &err);
    CHECK_OK(moemap_outputs_release(0, &err), &err);
    CHECK(file_is(a, "A2"));
    CHECK(file_is(b, "B"));
    CHECK_INT_EQ(count_entries(), 2);
    clean_dir();
}

TEST(devices_links_and_folders)
{
    moemap_error err = {0};
    CHECK_OK(moemap_outfile_write("/dev/null", "x", 1, &err), &err);
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK_INT_EQ(moemap_outfile_write("/dev/full", "x", 1, &err), MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "/dev/full: write failed: No space left on device");
    char target[512], link[512];
    path_in(target, sizeof target, "target.txt");
    path_in(link, sizeof link, "link.txt");
    put(target, "old");
    CHECK(symlink("target.txt", link) == 0);
    CHECK_OK(moemap_outfile_write(link, "via link", 8, &err), &err);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(file_is(target, "via link"));
    CHECK_INT_EQ(moemap_outfile_write(dir, "x", 1, &err), MOEMAP_EIO);
    CHECK_STR_CONTAINS(err.msg, "is a directory");
    CHECK(moemap_same_file(link, target));
    CHECK(!moemap_same_file(link, "/dev/null"));
    clean_dir();
}

/* Every allocation of a write fails in turn: an error or a whole file, the old content
 * otherwise, and never a stray file. */
TEST(allocation_failures)
{
    char p[512];
    path_in(p, sizeof p, "out.txt");
    put(p, "old");
    int completed = 0;
    for (long k = 0; k < 16 && !completed; k++) {
        moemap_error err = {0};
        moemap_alloc_fail_after(k);
        int rc = moemap_outfile_write(p, "new", 3, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0) {
            completed = 1;
            CHECK(file_is(p, "new"));
        } else {
            CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
            CHECK(file_is(p, "old"));
        }
        CHECK_INT_EQ(count_entries(), 1);
    }
    CHECK(completed);
    clean_dir();
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/moemap-test-io-%ld", (long)getpid());
    mkdir(dir, 0700);
    RUN(read_refuses_devices_folders_and_oversize);
    RUN(read_counts_the_limit_on_a_pipe);
    RUN(commit_replaces_abort_keeps);
    RUN(held_outputs_appear_on_release_only);
    RUN(devices_links_and_folders);
    RUN(allocation_failures);
    clean_dir();
    rmdir(dir);
    return mm_test_done();
}
