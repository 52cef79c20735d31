#include "tw_ws.h"
#include "tw_frame.h"
#include "tw_utf8.h"
#include "tw_error.h"
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT (16u << 20)

struct tw_ws {
    enum tw_role role;
    struct tw_limits limits;
    uint64_t wanted;
    uint16_t fail_code;
    /* Fragmented message being reassembled (only these are copied). */
    bool in_message;
    uint8_t msg_opcode;
    uint32_t utf8_state;
    uint8_t *asm_buf;
    size_t asm_len, asm_cap;
};

tw_ws *tw_ws_new(enum tw_role role, struct tw_limits limits)
{
    tw_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->role = role;
    ws->limits.max_frame = limits.max_frame ? limits.max_frame : DEFAULT_LIMIT;
    ws->limits.max_message = limits.max_message ? limits.max_message : DEFAULT_LIMIT;
    return ws;
}

void tw_ws_free(tw_ws *ws)
{
    if (!ws)
        return;
    free(ws->asm_buf);
    free(ws);
}

uint64_t tw_ws_wanted(const tw_ws *ws) { return ws->wanted; }
uint16_t tw_ws_fail_code(const tw_ws *ws) { return ws->fail_code; }

int tw_ws_close_code_valid(uint16_t code)
{
    if (code >= 1000 && code <= 1003)
        return 1;
    if (code >= 1007 && code <= 1014) /* 1012-1014 are IANA-registered */
        return 1;
    return code >= 3000 && code <= 4999;
}

static int fail(tw_ws *ws, uint16_t code, int err)
{
    ws->fail_code = code;
    return err;
}

/* Append a fragment to the reassembly buffer; growth only, reused afterwards. */
static int append(tw_ws *ws, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (ws->asm_len + n > ws->asm_cap) {
        size_t cap = ws->asm_cap ? ws->asm_cap : 4096;
        while (cap < ws->asm_len + n)
            cap *= 2;
        uint8_t *nb = realloc(ws->asm_buf, cap);
        if (!nb)
            return fail(ws, 1011, -12);
        ws->asm_buf = nb;
        ws->asm_cap = cap;
    }
    memcpy(ws->asm_buf + ws->asm_len, p, n);
    ws->asm_len += n;
    return 0;
}

/* Checks that need only the header (RFC 6455 §5.2, §5.4, §5.5). */
static int check_header(tw_ws *ws, const struct tw_frame_header *h)
{
    if (h->rsv)
        return fail(ws, 1002, TW_ERR_PROTOCOL);           /* no extension negotiated */
    bool control = (h->opcode & 0x8) != 0;
    switch (h->opcode) {
    case TW_OP_CONTINUATION: case TW_OP_TEXT: case TW_OP_BINARY:
    case TW_OP_CLOSE: case TW_OP_PING: case TW_OP_PONG:
        break;
    default:
        return fail(ws, 1002, TW_ERR_PROTOCOL);           /* reserved opcode */
    }
    if (control && (!h->fin || h->payload_len > 125))
        return fail(ws, 1002, TW_ERR_PROTOCOL);
    if (h->masked != (ws->role == TW_ROLE_SERVER))
        return fail(ws, 1002, TW_ERR_PROTOCOL);           /* servers never mask, clients always */
    if (h->payload_len > ws->limits.max_frame)
        return fail(ws, 1009, TW_ERR_TOO_BIG);
    if (!control) {
        if (h->opcode == TW_OP_CONTINUATION && !ws->in_message)
            return fail(ws, 1002, TW_ERR_PROTOCOL);
        if (h->opcode != TW_OP_CONTINUATION && ws->in_message)
            return fail(ws, 1002, TW_ERR_PROTOCOL);
        uint64_t total = (ws->in_message ? ws->asm_len : 0) + h->payload_len;
        if (total > ws->limits.max_message)
            return fail(ws, 1009, TW_ERR_TOO_BIG);
    }
    return 0;
}

int tw_ws_next(tw_ws *ws, uint8_t *buf, size_t len, size_t *consumed, struct tw_ws_message *msg)
{
    size_t pos = 0;
    *consumed = 0;
    for (;;) {
        struct tw_frame_header h;
        int hl = tw_frame_parse_header(buf + pos, len - pos, &h);
        if (hl == TW_PARTIAL) {
            ws->wanted = TW_FRAME_MAX_HEADER;
            *consumed = pos;
            return TW_PARTIAL;
        }
        int r = check_header(ws, &h);
        if (r < 0)
            return r;
        if (len - pos - (size_t)hl < h.payload_len) {
            ws->wanted = (uint64_t)hl + h.payload_len;
            *consumed = pos;
            return TW_PARTIAL;
        }
        uint8_t *payload = buf + pos + hl;
        size_t plen = (size_t)h.payload_len;
        if (h.masked)
            tw_mask(payload, plen, h.mask_key, 0);
        pos += (size_t)hl + plen;

        if (h.opcode & 0x8) {
            msg->opcode = h.opcode;
            msg->data = payload;
            msg->len = plen;
            msg->close_code = 0;
            if (h.opcode == TW_OP_CLOSE) {
                if (plen == 1)
                    return fail(ws, 1002, TW_ERR_PROTOCOL);
                msg->close_code = 1005;
                if (plen >= 2) {
                    uint16_t code = (uint16_t)((payload[0] << 8) | payload[1]);
                    if (!tw_ws_close_code_valid(code))
                        return fail(ws, 1002, TW_ERR_PROTOCOL);
                    uint32_t st = 0;
                    if (tw_utf8_validate(&st, payload + 2, plen - 2) < 0 || st != 0)
                        return fail(ws, 1007, TW_ERR_INVALID_UTF8);
                    msg->close_code = code;
                    msg->data = payload + 2;
                    msg->len = plen - 2;
                }
            }
            *consumed = pos;
            return 1;
        }

        if (h.opcode != TW_OP_CONTINUATION && h.fin) {
            /* The common case: a whole message in one frame, lent in place. */
            if (h.opcode == TW_OP_TEXT) {
                uint32_t st = 0;
                if (tw_utf8_validate(&st, payload, plen) < 0 || st != 0)
                    return fail(ws, 1007, TW_ERR_INVALID_UTF8);
            }
            msg->opcode = h.opcode;
            msg->data = payload;
            msg->len = plen;
            msg->close_code = 0;
            *consumed = pos;
            return 1;
        }

        if (h.opcode != TW_OP_CONTINUATION) {
            ws->in_message = true;
            ws->msg_opcode = h.opcode;
            ws->utf8_state = 0;
            ws->asm_len = 0;
        }
        /* Validate each fragment as it arrives so bad text fails fast. */
        if (ws->msg_opcode == TW_OP_TEXT && tw_utf8_validate(&ws->utf8_state, payload, plen) < 0)
            return fail(ws, 1007, TW_ERR_INVALID_UTF8);
        if ((r = append(ws, payload, plen)) < 0)
            return r;
        if (!h.fin)
            continue;
        if (ws->msg_opcode == TW_OP_TEXT && ws->utf8_state != 0)
            return fail(ws, 1007, TW_ERR_INVALID_UTF8);
        ws->in_message = false;
        msg->opcode = ws->msg_opcode;
        msg->data = ws->asm_buf ? ws->asm_buf : payload; /* empty message: no buffer yet */
        msg->len = ws->asm_len;
        msg->close_code = 0;
        *consumed = pos;
        return 1;
    }
}
