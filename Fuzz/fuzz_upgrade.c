/* libFuzzer target: the HTTP/1.1 upgrade request and response parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tw_http.h"
#include "tw_error.h"

static void check(const char *buf, size_t size, const struct tw_http_head *h, int r)
{
    if (r == TW_PARTIAL || r == TW_ERR_HTTP_MALFORMED)
        return;
    if (r <= 0 || (size_t)r > size)
        abort();
    for (size_t i = 0; i < h->num_headers; i++) {
        const struct tw_http_header *x = &h->headers[i];
        if (x->name < buf || x->name + x->name_len > buf + r || x->value < buf || x->value + x->value_len > buf + r)
            abort();
        (void)tw_http_has_token(x->value, x->value_len, "upgrade");
    }
    (void)tw_http_find(h, "Sec-WebSocket-Accept");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);    /* exact size: ASan catches any over-read */
    memcpy(buf, data, size);
    struct tw_http_head h;
    int r = tw_http_parse_response(buf, size, &h);
    check(buf, size, &h, r);
    r = tw_http_parse_request(buf, size, &h);
    check(buf, size, &h, r);
    free(buf);
    return 0;
}
