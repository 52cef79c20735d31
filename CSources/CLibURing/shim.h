/* liburing for the C core only: Swift never imports this header (see design.md §5). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <liburing.h>
