/* Generated from chapters/02-address-spaces.nw by make tangle (sum a18eb1bb1ebe): edit the chapter, not this file. */
#line 2357 "chapters/02-address-spaces.nw"
#ifndef HMMWB_MM_H
#define HMMWB_MM_H

#include <pthread.h>
#include <sys/mman.h>
#include "page.h"
#include "mmu_notifier.h"

#line 34 "chapters/02-address-spaces.nw"
typedef unsigned long pte_t;

#define PTRS_PER_PTE 512
#define PMD_SHIFT 21
#define PUD_SHIFT 30
#define PGDIR_SHIFT 39
#define PMD_SIZE (1UL << PMD_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define SIM_PT_LEVELS 4

#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define _PAGE_PROTNONE (1UL << 8)
#define PTE_PFN_MASK 0x000ffffffffff000UL
#line 60 "chapters/02-address-spaces.nw"
static inline bool pte_none(pte_t pte)
{
    return pte == 0;
}

static inline bool pte_present(pte_t pte)
{
    return pte & (_PAGE_PRESENT | _PAGE_PROTNONE);
}

static inline bool pte_protnone(pte_t pte)
{
    return (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE;
}

static inline bool sim_pte_accessible(pte_t pte)
{
    return pte & _PAGE_PRESENT;
}

static inline bool pte_write(pte_t pte)
{
    return pte & _PAGE_RW;
}

static inline bool pte_dirty(pte_t pte)
{
    return pte & _PAGE_DIRTY;
}

static inline unsigned long pte_pfn(pte_t pte)
{
    return (pte & PTE_PFN_MASK) >> PAGE_SHIFT;
}

static inline pte_t pfn_pte(unsigned long pfn, unsigned long bits)
{
    return ((pfn << PAGE_SHIFT) & PTE_PFN_MASK) | bits;
}

static inline pte_t pte_wrprotect(pte_t pte)
{
    return pte & ~_PAGE_RW;
}
#line 121 "chapters/02-address-spaces.nw"
enum sim_swp_type {
    SIM_SWP_NONE = 0,            /* reserved: never written to a page table */
#line 289 "chapters/07-device-private.nw"
    SIM_SWP_DEVICE_READ,         /* chapter 7: a read-only device-private page */
    SIM_SWP_DEVICE_WRITE,        /* chapter 7: a writable device-private page */
#line 35 "chapters/08-migration.nw"
    SIM_SWP_MIGRATION_READ,      /* chapter 8: a page being moved, mapped read-only */
    SIM_SWP_MIGRATION_WRITE,     /* chapter 8: a page being moved, mapped writable */
#line 32 "chapters/09-device-exclusive.nw"
    SIM_SWP_DEVICE_EXCLUSIVE,    /* chapter 9: a page a device holds exclusively */
#line 124 "chapters/02-address-spaces.nw"
    SIM_SWP_NR_TYPES
};

#define SIM_SWP_TYPE_SHIFT 1
#define SIM_SWP_TYPE_MASK (0x1fUL << SIM_SWP_TYPE_SHIFT)
#line 140 "chapters/02-address-spaces.nw"
typedef struct {
    unsigned long val;
} swp_entry_t;

static inline bool is_swap_pte(pte_t pte)
{
    return !pte_none(pte) && !pte_present(pte);
}

static inline swp_entry_t swp_entry(enum sim_swp_type type, unsigned long offset)
{
    return (swp_entry_t){ ((unsigned long)type << SIM_SWP_TYPE_SHIFT) |
                          ((offset << PAGE_SHIFT) & PTE_PFN_MASK) };
}

static inline enum sim_swp_type swp_type(swp_entry_t entry)
{
    return (entry.val & SIM_SWP_TYPE_MASK) >> SIM_SWP_TYPE_SHIFT;
}

static inline unsigned long swp_offset(swp_entry_t entry)
{
    return (entry.val & PTE_PFN_MASK) >> PAGE_SHIFT;
}

static inline swp_entry_t pte_to_swp_entry(pte_t pte)
{
    return (swp_entry_t){ pte };
}

static inline pte_t swp_entry_to_pte(swp_entry_t entry)
{
    return entry.val;
}
#line 321 "chapters/02-address-spaces.nw"
#define VM_READ 0x00000001UL
#define VM_WRITE 0x00000002UL
#define VM_EXEC 0x00000004UL
#define VM_SHARED 0x00000008UL
#define VM_IO 0x00004000UL
#define VM_PFNMAP 0x00000400UL
#define VM_MIXEDMAP 0x10000000UL
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)
#line 340 "chapters/02-address-spaces.nw"
static inline unsigned long sim_access_flags(bool write)
{
    return write ? VM_WRITE : VM_ACCESS_FLAGS;
}
#line 1382 "chapters/02-address-spaces.nw"
#define SIM_MMAP_MIN_ADDR 0x10000UL
#define SIM_TASK_SIZE ((1UL << 47) - PAGE_SIZE)
#define SIM_MMAP_BASE 0x7f0000000000UL
#line 185 "chapters/02-address-spaces.nw"
struct sim_pgtable {
    unsigned long entry[PTRS_PER_PTE];
};

static inline unsigned sim_pt_index(unsigned long addr, int level)
{
    return (addr >> (PAGE_SHIFT + 9 * level)) & (PTRS_PER_PTE - 1);
}
#line 366 "chapters/02-address-spaces.nw"
struct sim_shmem {
    atomic_int refs;                 /* VMAs using this object */
    pthread_mutex_t lock;            /* protects pages[] */
    unsigned long nr_pages;
    struct page **pages;             /* NULL until first touched */
    unsigned long census;            /* the checker's last census that counted it */
};
#line 349 "chapters/02-address-spaces.nw"
struct vm_area_struct {
    unsigned long vm_start;          /* first address */
    unsigned long vm_end;            /* first address past the end */
    unsigned long vm_flags;          /* VM_* */
    struct mm_struct *vm_mm;         /* the address space it belongs to */
    unsigned long vm_pgoff;          /* page offset of vm_start in vm_shmem */
    struct sim_shmem *vm_shmem;      /* backing of MAP_SHARED memory, else NULL */
    struct vm_area_struct *vm_prev, *vm_next;   /* sorted by address */
};
#line 440 "chapters/02-address-spaces.nw"
struct mm_struct {
    pthread_rwlock_t mmap_lock;          /* protects the VMA list */
    pthread_mutex_t page_table_lock;     /* protects every table and PTE */
    atomic_int mm_users;
    atomic_int mm_count;
    struct sim_pgtable *pgd;
    struct vm_area_struct *mmap;         /* first VMA, sorted by address */
    int map_count;                       /* number of VMAs */
    struct mm_struct *sim_prev, *sim_next;   /* list of every live mm */
#line 110 "chapters/03-mmu-notifiers.nw"
    struct mmu_notifier_subscriptions *notifier_subscriptions;
#line 450 "chapters/02-address-spaces.nw"
};
#line 909 "chapters/02-address-spaces.nw"
#define FAULT_FLAG_WRITE (1U << 0)
#define FAULT_FLAG_REMOTE (1U << 7)

typedef unsigned int vm_fault_t;

#define VM_FAULT_OOM 0x000001U
#define VM_FAULT_SIGBUS 0x000002U
#define VM_FAULT_SIGSEGV 0x000040U
#define VM_FAULT_ERROR (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)

struct vm_fault {
    struct vm_area_struct *vma;      /* the VMA of the faulting address */
    unsigned long address;           /* faulting address, page aligned */
    unsigned int flags;              /* FAULT_FLAG_* */
    pte_t orig_pte;                  /* the entry as it was when we looked */
    struct page *page;               /* the page involved, where there is one */

};
#line 2302 "chapters/02-address-spaces.nw"
struct mm_struct *sim_mm_create(void);
void mmput(struct mm_struct *mm);
long sim_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot,
              int flags);
int sim_munmap(struct mm_struct *mm, unsigned long addr, unsigned long len);
int sim_mprotect(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot);
int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice);
struct mm_struct *sim_fork(struct mm_struct *mm);
int sim_read(struct mm_struct *mm, unsigned long addr, void *buf, unsigned long len);
int sim_write(struct mm_struct *mm, unsigned long addr, const void *buf,
              unsigned long len);

void mmap_read_lock(struct mm_struct *mm);
void mmap_read_unlock(struct mm_struct *mm);
void mmap_write_lock(struct mm_struct *mm);
void mmap_write_unlock(struct mm_struct *mm);
bool mmget_not_zero(struct mm_struct *mm);
void mmget(struct mm_struct *mm);
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
                           unsigned int flags);

bool sim_mm_alive(struct mm_struct *mm);
pte_t *sim_pte_offset(struct mm_struct *mm, unsigned long addr, bool alloc);
pte_t sim_pte_get(struct mm_struct *mm, unsigned long addr);
void sim_zap_range(struct vm_area_struct *vma, unsigned long start, unsigned long end);
struct page *sim_zero_page(void);
bool is_zero_pfn(unsigned long pfn);
#line 116 "chapters/03-mmu-notifiers.nw"
static inline struct mmu_notifier_subscriptions *
sim_mm_subscriptions(struct mm_struct *mm)
{
    return __atomic_load_n(&mm->notifier_subscriptions, __ATOMIC_ACQUIRE);
}

static inline bool mm_has_notifiers(struct mm_struct *mm)
{
    return sim_mm_subscriptions(mm) != NULL;
}
#line 2337 "chapters/02-address-spaces.nw"
extern struct mm_struct *sim_mm_list;
extern pthread_mutex_t sim_mm_list_lock;
int sim_mm_list_snapshot(struct mm_struct ***out);
void sim_mm_list_release(struct mm_struct **mms, int n);
struct mm_struct *sim_mm_alloc(void);
struct sim_shmem *sim_shmem_create(unsigned long nr_pages);
void sim_shmem_put(struct sim_shmem *shm);
void sim_vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void sim_vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);
void sim_vma_free(struct vm_area_struct *vma);
int sim_split_at(struct mm_struct *mm, unsigned long addr);
bool sim_range_accessible(struct mm_struct *mm, unsigned long start, unsigned long end,
                          unsigned long any_of);
vm_fault_t sim_do_wp_page(struct vm_fault *vmf, pte_t *ptep);
vm_fault_t sim_wp_page_copy(struct vm_fault *vmf);
#line 151 "chapters/08-migration.nw"
void sim_wait_on_page_unlock(struct page *page, pthread_mutex_t *held);
#line 245 "chapters/02-address-spaces.nw"
static inline unsigned long sim_next_pte_addr(pte_t *pte, unsigned long addr)
{
    if (pte)
        return addr + PAGE_SIZE;
    return (addr + PMD_SIZE) & PMD_MASK;
}

#line 2381 "chapters/02-address-spaces.nw"
#endif
