/*
 * libFuzzer target: the frame parser and message state machine.
 * Byte 0 picks the role and a chunking pattern; the rest is the stream, fed
 * in chunks as a socket would deliver it. Every input must be consumed,
 * refused with a close code, or left waiting: never a crash or over-read
 * (ASan checks every access against the exact-size heap copy).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tw_ws.h"
#include "tw_frame.h"
#include "tw_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum tw_role role = (data[0] & 1) ? TW_ROLE_SERVER : TW_ROLE_CLIENT;
    size_t step = (size_t)(data[0] >> 1) + 1;   /* 1..128 bytes per "recv" */
    data++;
    size--;
    struct tw_limits lim = { .max_frame = 1 << 16, .max_message = 1 << 17 };
    tw_ws *ws = tw_ws_new(role, lim);
    uint8_t *buf = malloc(size ? size : 1);
    size_t have = 0, fed = 0;
    while (fed < size) {
        size_t n = size - fed < step ? size - fed : step;
        memcpy(buf + have, data + fed, n);    /* the unconsumed tail stays at buf[0..have) */
        have += n;
        fed += n;
        for (;;) {
            size_t consumed = 0;
            struct tw_ws_message m;
            int r = tw_ws_next(ws, buf, have, &consumed, &m);
            if (r == 1) {
                volatile uint8_t sink = 0;
                for (size_t i = 0; i < m.len; i++)
                    sink ^= m.data[i];
                (void)sink;
                if (m.opcode == TW_OP_CLOSE && m.close_code != 1005 && !tw_ws_close_code_valid(m.close_code))
                    abort();
            }
            if (consumed > have)
                abort();
            memmove(buf, buf + consumed, have - consumed);
            have -= consumed;
            if (r == TW_PARTIAL)
                break;
            if (r < 0) {
                uint16_t code = tw_ws_fail_code(ws);
                if (code != 1002 && code != 1007 && code != 1009 && code != 1011)
                    abort();
                goto done;
            }
        }
    }
done:;
    /* Header decoding alone, on the raw input. */
    struct tw_frame_header h;
    (void)tw_frame_parse_header(data, size, &h);
    free(buf);
    tw_ws_free(ws);
    return 0;
}
