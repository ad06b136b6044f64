/* Generated from chapters/02-address-spaces.nw by make tangle (sum 5ce45070658e): edit the chapter, not this file. */
#line 1959 "chapters/02-address-spaces.nw"
/* One private page through a read, a write, fork and copy-on-write. */
#include <stdio.h>
#include <sys/mman.h>
#include "hmmwb.h"

#line 2000 "chapters/02-address-spaces.nw"
static void show(const char *when, struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);
    struct page *page = pfn_to_page(pte_pfn(pte));

    printf("%-24s pfn %#7lx  %-9s", when, pte_pfn(pte),
           pte_write(pte) ? "writable" : "read-only");
    if (is_zero_pfn(pte_pfn(pte)))
        printf("  the zero page\n");
    else
        printf("  refcount %d  mapcount %d\n", page_ref_count(page),
               page_mapcount(page));
}

#line 1966 "chapters/02-address-spaces.nw"
int main(void)
{
    struct mm_struct *parent = sim_mm_create(), *child;
    long addr = sim_mmap(parent, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS);
    char c;

    if (!parent || addr < 0)
        return 1;
    sim_read(parent, addr, &c, 1);
    show("parent, after a read", parent, addr);
    c = 'P';
    sim_write(parent, addr, &c, 1);
    show("parent, after a write", parent, addr);
    child = sim_fork(parent);
    show("parent, after fork", parent, addr);
    show("child, after fork", child, addr);
    c = 'C';
    sim_write(child, addr, &c, 1);
    show("child, after its write", child, addr);
    show("parent, meanwhile", parent, addr);
    sim_read(parent, addr, &c, 1);
    printf("the parent still reads '%c'\n", c);
    mmput(child);
    mmput(parent);
    printf("frames in use once both are gone: %lu\n", sim_nr_pages_in_use());
    return 0;
}
