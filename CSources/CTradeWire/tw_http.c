#include "tw_http.h"
#include "tw_error.h"
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Token characters of RFC 9110 §5.6.2 (header names, methods). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Length of the head up to and including CRLFCRLF, or 0 if not present yet. */
static size_t head_length(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* Parse "HTTP/1.x" at p; returns minor version or -1. */
static int parse_version(const char *p, size_t n)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
        return -1;
    return p[7] - '0';
}

/* Header lines between p and end (end points at the final CRLF of the head). */
static int parse_headers(const char *p, const char *end, struct tw_http_head *out)
{
    out->num_headers = 0;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p) + 1);
        if (!eol || eol[1] != '\n')
            return TW_ERR_HTTP_MALFORMED;
        const char *colon = p;
        while (colon < eol && is_tchar((unsigned char)*colon))
            colon++;
        if (colon == p || colon == eol || *colon != ':')
            return TW_ERR_HTTP_MALFORMED; /* also refuses obs-fold lines starting with SP */
        if (out->num_headers == TW_HTTP_MAX_HEADERS)
            return TW_ERR_HTTP_MALFORMED;
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *c = v; c < ve; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return TW_ERR_HTTP_MALFORMED;
        struct tw_http_header *h = &out->headers[out->num_headers++];
        h->name = p;
        h->name_len = (size_t)(colon - p);
        h->value = v;
        h->value_len = (size_t)(ve - v);
        p = eol + 2;
    }
    return 0;
}

int tw_http_parse_response(const char *buf, size_t len, struct tw_http_head *out)
{
    size_t hl = head_length(buf, len);
    if (!hl)
        return TW_PARTIAL;
    const char *end = buf + hl - 2;       /* the final CRLF */
    const char *eol = memchr(buf, '\r', hl);
    const char *sp = memchr(buf, ' ', (size_t)(eol - buf));
    if (!sp)
        return TW_ERR_HTTP_MALFORMED;
    out->minor_version = parse_version(buf, (size_t)(sp - buf));
    if (out->minor_version < 0 || eol - sp < 4)
        return TW_ERR_HTTP_MALFORMED;
    const char *d = sp + 1;
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9')
            return TW_ERR_HTTP_MALFORMED;
    if (d + 3 != eol && d[3] != ' ')
        return TW_ERR_HTTP_MALFORMED;
    out->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    out->method = NULL;
    out->method_len = 0;
    out->target = NULL;
    out->target_len = 0;
    int r = parse_headers(eol + 2, end, out);
    return r < 0 ? r : (int)hl;
}

int tw_http_parse_request(const char *buf, size_t len, struct tw_http_head *out)
{
    size_t hl = head_length(buf, len);
    if (!hl)
        return TW_PARTIAL;
    const char *end = buf + hl - 2;
    const char *eol = memchr(buf, '\r', hl);
    const char *m = buf, *me = buf;
    while (me < eol && is_tchar((unsigned char)*me))
        me++;
    if (me == m || me >= eol || *me != ' ')
        return TW_ERR_HTTP_MALFORMED;
    const char *t = me + 1, *te = t;
    while (te < eol && *te != ' ')
        if ((unsigned char)*te++ <= 0x20)
            return TW_ERR_HTTP_MALFORMED;
    if (te == t || te >= eol)
        return TW_ERR_HTTP_MALFORMED;
    out->minor_version = parse_version(te + 1, (size_t)(eol - te - 1));
    if (out->minor_version < 0)
        return TW_ERR_HTTP_MALFORMED;
    out->status = 0;
    out->method = m;
    out->method_len = (size_t)(me - m);
    out->target = t;
    out->target_len = (size_t)(te - t);
    int r = parse_headers(eol + 2, end, out);
    return r < 0 ? r : (int)hl;
}

const struct tw_http_header *tw_http_find(const struct tw_http_head *head, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < head->num_headers; i++)
        if (head->headers[i].name_len == n && strncasecmp(head->headers[i].name, name, n) == 0)
            return &head->headers[i];
    return NULL;
}

int tw_http_has_token(const char *value, size_t len, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t s = i;
        while (i < len && value[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(value + s, token, tl) == 0)
            return 1;
    }
    return 0;
}

int tw_ws_accept_key(const char *key, size_t key_len, char out[29])
{
    unsigned char digest[20];
    unsigned int dlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return -12; /* -ENOMEM */
    int ok = EVP_DigestInit_ex(md, EVP_sha1(), NULL) &&
             EVP_DigestUpdate(md, key, key_len) &&
             EVP_DigestUpdate(md, WS_GUID, sizeof WS_GUID - 1) &&
             EVP_DigestFinal_ex(md, digest, &dlen);
    EVP_MD_CTX_free(md);
    if (!ok || dlen != 20)
        return TW_ERR_TLS;
    return EVP_EncodeBlock((unsigned char *)out, digest, 20); /* 28 chars + NUL */
}
