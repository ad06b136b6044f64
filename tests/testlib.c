/* Shared helpers of the workbook's Check suites. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "testlib.h"

void sim_test_teardown(void)
{
    ck_assert_msg(sim_check_invariants() == 0,
                  "the invariant checker found problems (see stderr)");
    ck_assert_msg(sim_nr_pages_in_use() == 0, "%lu frames still in use at teardown",
                  sim_nr_pages_in_use());
}

TCase *sim_tcase(const char *name, double timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    tcase_add_checked_fixture(tc, NULL, sim_test_teardown);
    return tc;
}

TCase *sim_tcase_unchecked(const char *name, double timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    return tc;
}

char sim_test_thread_state(int tid)
{
    char path[64], line[512], *paren;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    f = fopen(path, "r");
    if (!f)
        return '?';
    /* The command name in parentheses may hold spaces: the state follows the last ')'. */
    paren = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
    fclose(f);
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

int sim_test_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

/* Whether every thread but the caller is asleep or gone. */
static bool others_settled(void)
{
    DIR *dir = opendir("/proc/self/task");
    int self = sim_test_gettid();
    struct dirent *e;
    bool settled = true;

    ck_assert_msg(dir != NULL, "cannot read /proc/self/task");
    while (settled && (e = readdir(dir)) != NULL) {
        int tid = atoi(e->d_name);
        char state = tid > 0 && tid != self ? sim_test_thread_state(tid) : 'S';

        settled = state == 'S' || state == '?' || state == 'Z' || state == 'X';
    }
    closedir(dir);
    return settled;
}

void sim_test_let_others_settle(int ms)
{
    const struct timespec pause = { 0, 200 * 1000 };
    struct timespec start, now;
    int in_a_row = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        in_a_row = others_settled() ? in_a_row + 1 : 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (in_a_row == 3 || (now.tv_sec - start.tv_sec) * 1000 +
                             (now.tv_nsec - start.tv_nsec) / 1000000 >= ms)
            return;
        nanosleep(&pause, NULL);
    }
}

unsigned char sim_pattern_byte(unsigned long seed, unsigned long i)
{
    unsigned long x = (seed + 1) * 0x9e3779b97f4a7c15UL + i * 0x2545f4914f6cdd1dUL;

    x ^= x >> 29;
    /* Never zero, so that a pattern cannot be mistaken for fresh memory. */
    return (unsigned char)(x % 255 + 1);
}

void sim_fill_pattern(void *buf, unsigned long len, unsigned long seed)
{
    unsigned char *p = buf;

    for (unsigned long i = 0; i < len; i++)
        p[i] = sim_pattern_byte(seed, i);
}

unsigned long sim_pattern_mismatch(const void *buf, unsigned long len, unsigned long seed)
{
    const unsigned char *p = buf;

    for (unsigned long i = 0; i < len; i++)
        if (p[i] != sim_pattern_byte(seed, i))
            return i;
    return len;
}

unsigned long sim_bytes_mismatch(const void *buf, unsigned long len, unsigned char c)
{
    const unsigned char *p = buf;

    for (unsigned long i = 0; i < len; i++)
        if (p[i] != c)
            return i;
    return len;
}

#ifdef HMMWB_MM_H
unsigned long sim_test_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len,
                            int prot, int flags)
{
    long ret = sim_mmap(mm, addr, len, prot, flags);

    ck_assert_msg(ret > 0, "sim_mmap(%#lx, %#lx, %d, %#x) failed: %ld", addr, len, prot,
                  flags, ret);
    return (unsigned long)ret;
}

unsigned long sim_test_map_private(struct mm_struct *mm, unsigned long len)
{
    return sim_test_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
}

unsigned long sim_test_map_shared(struct mm_struct *mm, unsigned long len)
{
    return sim_test_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
}

void sim_test_memset(struct mm_struct *mm, unsigned long addr, unsigned char c,
                     unsigned long len)
{
    unsigned char *buf = malloc(len);
    int ret;

    ck_assert_ptr_nonnull(buf);
    memset(buf, c, len);
    ret = sim_write(mm, addr, buf, len);
    free(buf);
    ck_assert_msg(ret == 0, "sim_write(%#lx, %#lx) failed: %d", addr, len, ret);
}

void sim_test_expect_bytes(struct mm_struct *mm, unsigned long addr, unsigned char c,
                           unsigned long len)
{
    unsigned char *buf = malloc(len);
    unsigned long bad;
    int ret;

    ck_assert_ptr_nonnull(buf);
    memset(buf, c ^ 0xff, len);
    ret = sim_read(mm, addr, buf, len);
    bad = sim_bytes_mismatch(buf, len, c);
    ck_assert_msg(ret == 0, "sim_read(%#lx, %#lx) failed: %d", addr, len, ret);
    ck_assert_msg(bad == len, "byte at %#lx is %#x, expected %#x", addr + bad,
                  bad < len ? buf[bad] : 0, c);
    free(buf);
}

struct page *sim_test_mapped_page(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);
    struct page *page;

    ck_assert_msg(pte_present(pte), "no page mapped at %#lx (entry %#lx)", addr, pte);
    page = pfn_to_page(pte_pfn(pte));
    ck_assert_ptr_nonnull(page);
    return page;
}

void sim_test_fill_pages(struct mm_struct *mm, unsigned long addr, unsigned long n,
                         unsigned long seed)
{
    unsigned char buf[PAGE_SIZE];

    for (unsigned long i = 0; i < n; i++) {
        sim_fill_pattern(buf, PAGE_SIZE, seed + i);
        ck_assert_int_eq(sim_write(mm, addr + i * PAGE_SIZE, buf, PAGE_SIZE), 0);
    }
}

void sim_test_expect_pages(struct mm_struct *mm, unsigned long addr, unsigned long n,
                           unsigned long seed)
{
    unsigned char buf[PAGE_SIZE];

    for (unsigned long i = 0; i < n; i++) {
        unsigned long bad;

        memset(buf, 0, PAGE_SIZE);
        ck_assert_int_eq(sim_read(mm, addr + i * PAGE_SIZE, buf, PAGE_SIZE), 0);
        bad = sim_pattern_mismatch(buf, PAGE_SIZE, seed + i);
        ck_assert_msg(bad == PAGE_SIZE, "page %lu of %#lx: byte %lu is %#x, expected %#x",
                      i, addr, bad, bad < PAGE_SIZE ? buf[bad] : 0,
                      sim_pattern_byte(seed + i, bad));
    }
}
#endif

#ifdef HMMWB_DMIRROR_H
struct hmm_buffer *hmm_buffer_create(struct mm_struct *mm, unsigned long npages,
                                     unsigned long mirror_bytes, int prot, int flags)
{
    struct hmm_buffer *b = calloc(1, sizeof(*b));

    ck_assert_ptr_nonnull(b);
    b->size = npages * PAGE_SIZE;
    b->mirror = malloc(mirror_bytes);
    ck_assert_ptr_nonnull(b->mirror);
    b->addr = sim_test_mmap(mm, 0, b->size, prot, flags | MAP_ANONYMOUS);
    return b;
}

void hmm_buffer_free(struct mm_struct *mm, struct hmm_buffer *b)
{
    if (b->addr)
        ck_assert_int_eq(sim_munmap(mm, b->addr, b->size), 0);
    free(b->mirror);
    free(b);
}

int hmm_cmd_at(struct dmirror *dmirror, unsigned int request, struct hmm_buffer *b,
               unsigned long first, unsigned long npages)
{
    struct hmm_dmirror_cmd cmd = {
        .addr = b->addr + first * PAGE_SIZE,
        .ptr = (uint64_t)(uintptr_t)b->mirror,
        .npages = npages,
        .cpages = 0xdeadbeef,
        .faults = 0xdeadbeef,
    };
    int ret = dmirror_ioctl(dmirror, request, &cmd);

    b->cpages = cmd.cpages;
    b->faults = cmd.faults;
    return ret;
}

int hmm_cmd(struct dmirror *dmirror, unsigned int request, struct hmm_buffer *b,
            unsigned long npages)
{
    return hmm_cmd_at(dmirror, request, b, 0, npages);
}
#endif

struct page *sim_test_copy_page(struct page *src)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    lock_page(page);
    memcpy(sim_page_address(page), sim_page_address(src), PAGE_SIZE);
    return page;
}

#ifdef HMMWB_INTERVAL_TREE_H
static bool sim_test_set_seq(struct mmu_interval_notifier *sub,
                             const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    (void)range;
    mmu_interval_set_seq(sub, cur_seq);
    return true;
}

const struct mmu_interval_notifier_ops sim_test_seq_only_ops = {
    .invalidate = sim_test_set_seq,
};
#endif

#ifdef HMMWB_HMM_H
static struct sim_test_injector *sim_test_the_injector;

static void *sim_test_injector_main(void *arg)
{
    struct sim_test_injector *inj = arg;

    for (;;) {
        pthread_barrier_wait(&inj->go);
        if (inj->stop)
            return NULL;
        inj->madvise_ret = sim_madvise(inj->mm, inj->target, PAGE_SIZE, MADV_DONTNEED);
        inj->injected++;
        pthread_barrier_wait(&inj->done);
    }
}

static void sim_test_injector_hook(struct hmm_range *range, unsigned long addr)
{
    struct sim_test_injector *inj = sim_test_the_injector;

    if (inj->hook_calls++ == 0) {
        inj->first_addr = addr;
        inj->first_range = range;
    }
    if (inj->injected < inj->limit) {
        pthread_barrier_wait(&inj->go);
        pthread_barrier_wait(&inj->done);
        ck_assert_int_eq(inj->madvise_ret, 0);
    }
}

void sim_test_injector_start(struct sim_test_injector *inj, struct mm_struct *mm,
                             unsigned long target, int limit)
{
    memset(inj, 0, sizeof(*inj));
    inj->mm = mm;
    inj->target = target;
    inj->limit = limit;
    pthread_barrier_init(&inj->go, NULL, 2);
    pthread_barrier_init(&inj->done, NULL, 2);
    ck_assert_int_eq(pthread_create(&inj->thread, NULL, sim_test_injector_main, inj), 0);
    sim_test_the_injector = inj;
    sim_hmm_walk_hook = sim_test_injector_hook;
}

void sim_test_injector_stop(struct sim_test_injector *inj)
{
    sim_hmm_walk_hook = NULL;
    sim_test_the_injector = NULL;
    inj->stop = true;
    pthread_barrier_wait(&inj->go);
    pthread_join(inj->thread, NULL);
    pthread_barrier_destroy(&inj->go);
    pthread_barrier_destroy(&inj->done);
}
#endif

#ifdef HMMWB_TRACE_H
void sim_test_write_trace(const char *name, const char *title, const char *verdict)
{
    const char *dir = getenv("SIM_TRACE_DIR");
    char path[512];

    if (!dir)
        return;
    snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
    ck_assert_int_eq(sim_trace_write(path, title, verdict), 0);
}
#endif
