/* Generated from chapters/06-mirror-device.nw by make tangle (sum 21821c05d6ab): edit the chapter, not this file. */
#line 777 "chapters/06-mirror-device.nw"
/* A mirror device reads a process's memory, then snapshots its page table. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "hmmwb.h"

#define NPAGES 6

#line 825 "chapters/06-mirror-device.nw"
static void run(struct dmirror *dmirror, const char *what, unsigned int cmd,
                unsigned long addr, unsigned long npages, void *buf)
{
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uint64_t)(uintptr_t)buf,
                                 .npages = npages };
    int ret = dmirror_ioctl(dmirror, cmd, &c);

    printf("%-22s returns %d, cpages %lu, faults %lu\n", what, ret,
           (unsigned long)c.cpages, (unsigned long)c.faults);
}
#line 841 "chapters/06-mirror-device.nw"
static const char *prot_name(unsigned char prot)
{
    switch (prot) {
    case HMM_DMIRROR_PROT_ERROR:
        return "error (no VMA)";
    case HMM_DMIRROR_PROT_NONE:
        return "none (not present)";
    case HMM_DMIRROR_PROT_READ:
        return "read";
    case HMM_DMIRROR_PROT_WRITE:
        return "write (and so read)";
    case HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ:
        return "read, the zero page";
    default:
        return "another code";
    }
}

#line 789 "chapters/06-mirror-device.nw"
int main(void)
{
    static unsigned char buf[NPAGES * PAGE_SIZE];
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdevice = dmirror_device_create(0);
    long addr = sim_mmap(mm, 0, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS);
    struct dmirror *dmirror = mdevice && addr >= 0 ? dmirror_open(mdevice, mm) : NULL;

    if (!dmirror)
        return 1;
    for (int i = 0; i < 4; i++) {
        memset(buf, 'a' + i, PAGE_SIZE);
        sim_write(mm, addr + i * PAGE_SIZE, buf, PAGE_SIZE);
    }
    run(dmirror, "READ pages 0-3", HMM_DMIRROR_READ, addr, 4, buf);
    printf("  the device read \"%c%c%c%c\" at the start of each page\n",
           buf[0], buf[PAGE_SIZE], buf[2 * PAGE_SIZE], buf[3 * PAGE_SIZE]);
    run(dmirror, "READ pages 0-3 again", HMM_DMIRROR_READ, addr, 4, buf);
    sim_mprotect(mm, addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ);
    sim_munmap(mm, addr + 5 * PAGE_SIZE, PAGE_SIZE);
    printf("mprotect pages 2-3 read-only, munmap page 5\n");
    run(dmirror, "SNAPSHOT pages 0-5", HMM_DMIRROR_SNAPSHOT, addr, NPAGES, buf);
    for (int i = 0; i < NPAGES; i++)
        printf("  page %d: 0x%02x %s\n", i, buf[i], prot_name(buf[i]));
    dmirror_release(dmirror);
    dmirror_device_destroy(mdevice);
    mmput(mm);
    return 0;
}
