#include "tw_error.h"
#include <string.h>

const char *tw_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case TW_PARTIAL: return "more bytes needed";
    case TW_ERR_PROTOCOL: return "WebSocket protocol violation by the peer";
    case TW_ERR_INVALID_UTF8: return "invalid UTF-8 in a text message or close reason";
    case TW_ERR_TOO_BIG: return "frame or message over the configured limit";
    case TW_ERR_HTTP_MALFORMED: return "malformed HTTP upgrade message";
    case TW_ERR_HTTP_STATUS: return "upgrade refused: HTTP status other than 101";
    case TW_ERR_BAD_ACCEPT: return "Sec-WebSocket-Accept missing or wrong";
    case TW_ERR_BAD_UPGRADE: return "Upgrade, Connection or version header wrong";
    case TW_ERR_TLS: return "TLS failure";
    case TW_ERR_TLS_VERIFY: return "TLS certificate verification failed";
    case TW_ERR_CLOSED: return "connection closed";
    case TW_ERR_NO_SPACE: return "fixed-capacity buffer or table full";
    case TW_ERR_INVALID_ARGUMENT: return "invalid argument";
    case TW_ERR_TIMEOUT: return "timed out";
    case TW_ERR_EOF: return "peer closed TCP without a close frame";
    case TW_ERR_RESOLVE: return "host name could not be resolved";
    case TW_ERR_UNSUPPORTED: return "backend not available on this system";
    }
    if (code < 0 && code > -1000)
        return strerror(-code); /* glibc: static table text for known errnos */
    return "unknown error";
}
