/* Exercise: reference counts (chapter 1).  Replace the bodies. */
#include "page.h"

void get_page(struct page *page)
{
    /* Take one more reference on page. */
    (void)page;
}

void put_page(struct page *page)
{
    /* Drop one reference; free the frame when the last one goes. */
    (void)page;
}
