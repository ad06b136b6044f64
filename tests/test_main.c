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
 * With SIM_GRADE_CPU=S as well, each test's child may use S seconds of CPU time: a test
 * that loops is stopped by the work it did, whatever else the machine is doing, and
 * Check's wall-clock timeout only has to catch a test that sleeps forever. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

static void grade_child_setup(void)
{
    close(grade_fd);
    if (test_cpu_seconds) {
        /* SIGXCPU at the soft limit, which Check reports as the test's signal. */
        struct rlimit r = { test_cpu_seconds, test_cpu_seconds + 1 };

        setrlimit(RLIMIT_CPU, &r);
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
