#ifndef TW_WS_H
#define TW_WS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * The WebSocket message state machine: bytes in, messages out, no I/O.
 * It validates every frame (RFC 6455 §5), reassembles fragmented messages
 * only, and validates UTF-8 of text messages and close reasons.
 */

enum tw_role { TW_ROLE_CLIENT = 0, TW_ROLE_SERVER = 1 };

struct tw_limits {
    uint64_t max_frame;     /* largest frame payload accepted (close 1009 above) */
    uint64_t max_message;   /* largest reassembled message (close 1009 above) */
};

/* One complete message or control frame. data is lent until the next tw_ws_next call. */
struct tw_ws_message {
    const uint8_t *data;
    size_t len;
    uint8_t opcode;         /* TEXT, BINARY, PING, PONG or CLOSE */
    uint16_t close_code;    /* CLOSE: received code, 1005 if none */
};

typedef struct tw_ws tw_ws;

tw_ws *tw_ws_new(enum tw_role role, struct tw_limits limits);
void tw_ws_free(tw_ws *ws);

/*
 * Take the next message from buf[0..len). buf may be modified (server role
 * unmasks in place). On success returns 1 with *consumed set and *msg filled;
 * msg->data points into buf for a single-frame message (zero copy) or into
 * the reassembly buffer for a fragmented one.
 * Returns TW_PARTIAL when no complete message is available; *consumed then
 * says how many leading bytes were taken (fragments moved into the
 * reassembly buffer) and tw_ws_wanted says how many bytes the pending frame needs.
 * Any other negative return fails the connection; tw_ws_fail_code gives the
 * close code to send (1002, 1007, 1009).
 */
int tw_ws_next(tw_ws *ws, uint8_t *buf, size_t len, size_t *consumed, struct tw_ws_message *msg);

/* Bytes the current incomplete frame needs in one contiguous buffer (header + payload). */
uint64_t tw_ws_wanted(const tw_ws *ws);

/* Close code for the last failure of tw_ws_next. */
uint16_t tw_ws_fail_code(const tw_ws *ws);

/* 1 if a close code may appear on the wire (RFC 6455 §7.4), else 0. */
int tw_ws_close_code_valid(uint16_t code);

#endif
