/* The main() of every test program: run the program's suite in the mode the
 * environment asks for (CK_FORK, CK_VERBOSITY, CK_RUN_CASE, CK_XML_LOG_FILE_NAME...).
 *
 * Grading mode (SIM_GRADE_FD=N, set by tools/grade.py): when every test has run, the
 * runner process (never a test's child) writes one line per result to file descriptor N,
 *     R <passed|failure|error> <test name> <file>:<line> <message>
 * and a last line "END <count>".  Every child that Check forks closes N first (a
 * pthread_atfork handler, registered before any test runs), so code under test can
 * neither write to that channel nor keep it open after the runner is done.
 *
 * With SIM_GRADE_CPU=S as well, each test's child may use S seconds of CPU time, and may
 * sleep for S seconds in a row: a test that loops is stopped by the work it did (SIGXCPU),
 * and one whose threads all wait for something that never comes (a deadlock) by a
 * watchdog thread that sees the process's CPU clock stand still (SIGALRM).  Neither
 * depends on how busy the machine is, which a wall-clock timeout does: a starved loop
 * would reach it first.  Check's wall-clock timeout stays as a backstop, set well above
 * both. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "testlib.h"

/* Check 0.15's struct TestResult (src/check_impl.h), which check.h leaves opaque: no
 * accessor returns a result's test name.  The layout is verified against the accessors
 * for every result before it is trusted. */
struct sim_ck_result {
    enum test_result rtype;
    enum ck_result_ctx ctx;
    char *file;
    int line;
    int iter;
    int duration;
    const char *tcname;
    const char *tname;
    char *msg;
};

static int grade_fd = -1;
static rlim_t test_cpu_seconds;     /* 0: no limit of our own */

static double clock_seconds(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Ends the test with SIGALRM once the process has done no work (under a millisecond of
 * CPU per tenth of a second, the watchdog's own included) for test_cpu_seconds. */
static void *asleep_watchdog(void *unused)
{
    const struct timespec tick = { 0, 100 * 1000 * 1000 };
    double idle_since = clock_seconds(CLOCK_MONOTONIC);
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    sigset_t sigs;

    (void)unused;
    for (;;) {
        double now, used;

        nanosleep(&tick, NULL);
        now = clock_seconds(CLOCK_MONOTONIC);
        used = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        if (used - cpu >= 0.001)
            idle_since = now;
        cpu = used;
        if (now - idle_since >= (double)test_cpu_seconds)
            break;
    }
    /* Whatever the code under test did to SIGALRM, this thread's raise() terminates. */
    signal(SIGALRM, SIG_DFL);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    raise(SIGALRM);
    return NULL;
}

static void grade_child_setup(void)
{
    close(grade_fd);
    if (test_cpu_seconds) {
        /* SIGXCPU at the soft limit, which Check reports as the test's signal. */
        struct rlimit r = { test_cpu_seconds, test_cpu_seconds + 1 };
        sigset_t all, old;
        pthread_t watchdog;

        setrlimit(RLIMIT_CPU, &r);
        /* The watchdog takes no signal meant for the test's own threads. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        if (pthread_create(&watchdog, NULL, asleep_watchdog, NULL) == 0)
            pthread_detach(watchdog);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
}

static const char *result_word(int rtype)
{
    return rtype == CK_PASS ? "passed" : rtype == CK_FAILURE ? "failure" : "error";
}

static int report_results(SRunner *sr, FILE *out)
{
    TestResult **results = srunner_results(sr);
    int n = srunner_ntests_run(sr), bad = 0;

    for (int i = 0; i < n; i++) {
        TestResult *tr = results[i];
        struct sim_ck_result *r = (struct sim_ck_result *)tr;
        const char *msg = tr_msg(tr) ? tr_msg(tr) : "";

        if ((int)r->rtype != tr_rtype(tr) || r->line != tr_lno(tr) || r->tcname != tr_tcname(tr) ||
            !r->tname) {
            bad = 1;
            break;
        }
        fprintf(out, "R %s %s %s:%d ", result_word(tr_rtype(tr)), r->tname,
                tr_lfile(tr) ? tr_lfile(tr) : "?", tr_lno(tr));
        for (const char *c = msg; *c; c++)
            fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out);
        fputc('\n', out);
    }
    free(results);
    fprintf(out, bad ? "BAD-LAYOUT\n" : "END %d\n", n);
    return bad;
}

int main(void)
{
    const char *fd = getenv("SIM_GRADE_FD"), *cpu = getenv("SIM_GRADE_CPU");
    SRunner *sr = srunner_create(test_suite());
    FILE *out = NULL;
    int failed;

    if (fd) {
        grade_fd = atoi(fd);
        test_cpu_seconds = cpu ? strtoul(cpu, NULL, 10) : 0;
        out = fdopen(grade_fd, "w");
        /* A test that floods stdout past the grader's file-size limit loses its writes,
         * not the runner. */
        signal(SIGXFSZ, SIG_IGN);
        pthread_atfork(NULL, NULL, grade_child_setup);
    }
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    if (out) {
        report_results(sr, out);
        fclose(out);
    }
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
