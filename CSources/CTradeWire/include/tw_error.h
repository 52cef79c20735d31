#ifndef TW_ERROR_H
#define TW_ERROR_H

/*
 * Error contract of the C core.
 *   >= 0      success (a count or 0)
 *   -1..-999  negative errno from a system call (e.g. -ECONNRESET)
 *   <= -1000  a named tw_err below (protocol, TLS, handshake)
 */
enum tw_err {
    TW_PARTIAL = -1000,            /* more bytes are needed */
    TW_ERR_PROTOCOL = -1001,       /* RFC 6455 violation by the peer (close 1002) */
    TW_ERR_INVALID_UTF8 = -1002,   /* text payload or close reason not UTF-8 (close 1007) */
    TW_ERR_TOO_BIG = -1003,        /* frame or message over the configured limit (close 1009) */
    TW_ERR_HTTP_MALFORMED = -1004, /* upgrade request/response could not be parsed */
    TW_ERR_HTTP_STATUS = -1005,    /* upgrade answered with a status other than 101 */
    TW_ERR_BAD_ACCEPT = -1006,     /* Sec-WebSocket-Accept missing or wrong */
    TW_ERR_BAD_UPGRADE = -1007,    /* Upgrade/Connection/version headers wrong */
    TW_ERR_TLS = -1008,            /* TLS failure; text in tw_conn_error_text */
    TW_ERR_TLS_VERIFY = -1009,     /* certificate or host-name verification failed */
    TW_ERR_CLOSED = -1010,         /* connection is closing or closed */
    TW_ERR_NO_SPACE = -1011,       /* a fixed-capacity buffer or table is full */
    TW_ERR_INVALID_ARGUMENT = -1012,
    TW_ERR_TIMEOUT = -1013,        /* a deadline of the core expired (close handshake) */
    TW_ERR_EOF = -1014,            /* peer closed TCP without a close frame */
    TW_ERR_RESOLVE = -1015,        /* host name could not be resolved */
    TW_ERR_UNSUPPORTED = -1016,    /* backend not available on this system */
};

/* Static text for a code of the contract above (errno or tw_err). Never NULL. */
const char *tw_strerror(int code);

#endif
