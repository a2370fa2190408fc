/* empty.c: keeps tc_test_support a valid library while it has no sources. */
typedef int tc_test_support_empty;
