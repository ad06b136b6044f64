/* The main() of every test program: run the program's suite in the mode the
 * environment asks for (CK_FORK, CK_VERBOSITY, CK_RUN_CASE, CK_XML_LOG_FILE_NAME...). */
#include <stdlib.h>
#include "testlib.h"

int main(void)
{
    SRunner *sr = srunner_create(test_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
