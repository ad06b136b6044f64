/* Exercise: the snapshot's permission bytes (chapter 6).  Replace the body. */
#include "hmmwb.h"

unsigned char dmirror_mkentry(struct dmirror *dmirror, unsigned long entry)
{
    (void)dmirror;
    return (entry & HMM_PFN_VALID) ? HMM_DMIRROR_PROT_READ : HMM_DMIRROR_PROT_NONE;
}
