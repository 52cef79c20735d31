#define _GNU_SOURCE
#include "tw_floor.h"
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int twf_die_with_parent(void)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return -errno;
    /* The parent may have gone before the signal was armed. */
    return getppid() == parent ? 0 : -ESRCH;
}
