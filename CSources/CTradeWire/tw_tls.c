/*
 * TLS over a custom BIO: OpenSSL never owns the socket. Its reads take
 * ciphertext straight from the connection's receive buffer (filled by the
 * loop's recv) and its writes append straight to the send queue, so no
 * OpenSSL-side buffer is allocated or copied per record.
 */
#include "tw_internal.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Copy OpenSSL's error queue into out at once (it is per-thread and transient). */
static void queue_text(char *out, size_t out_len)
{
    size_t used = strlen(out);
    unsigned long e;
    while ((e = ERR_get_error()) != 0 && used + 3 < out_len) {
        if (used) {
            memcpy(out + used, "; ", 3);    /* separator and NUL */
            used += 2;
        }
        ERR_error_string_n(e, out + used, out_len - used);
        used = strlen(out);
    }
}

static int add_pem_trust(SSL_CTX *ctx, const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b)
        return 0;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1)
            added++;
        X509_free(x);
    }
    ERR_clear_error();                  /* the loop ends on a "no start line" error */
    BIO_free(b);
    return added;
}

SSL_CTX *tw_tls_client_ctx(const struct tw_tls_options *o, char *err, size_t err_len)
{
    err[0] = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (o->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            goto fail;
        if (o->ca_file && SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
            snprintf(err, err_len, "cannot load CA file %s: ", o->ca_file);
            goto fail;
        }
        if (o->ca_pem && add_pem_trust(ctx, o->ca_pem) == 0) {
            snprintf(err, err_len, "no certificate in the CA PEM text: ");
            goto fail;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
fail:
    queue_text(err, err_len);
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *tw_tls_server_ctx(const struct tw_tls_options *o, char *err, size_t err_len)
{
    err[0] = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (!o->cert_file || !o->key_file) {
        snprintf(err, err_len, "a TLS listener needs cert_file and key_file");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, err_len, "cannot load %s / %s: ", o->cert_file, o->key_file);
        goto fail;
    }
    if (o->require_client_cert)     /* clients without one get a fatal alert (fault injection) */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
fail:
    queue_text(err, err_len);
    SSL_CTX_free(ctx);
    return NULL;
}

static int bio_write(BIO *b, const char *data, int len)
{
    tw_conn *c = BIO_get_data(b);
    struct tw_buf *q = tw_conn_wbuf(c);
    if (tw_buf_reserve(q, (size_t)len) < 0)
        return -1;
    memcpy(q->p + q->end, data, (size_t)len);
    q->end += (size_t)len;
    return len;
}

static int bio_read(BIO *b, char *out, int len)
{
    tw_conn *c = BIO_get_data(b);
    size_t avail = c->crx.end - c->crx.start;
    BIO_clear_retry_flags(b);
    if (avail == 0) {
        BIO_set_retry_read(b);           /* "no data yet", not EOF */
        return -1;
    }
    size_t n = avail < (size_t)len ? avail : (size_t)len;
    memcpy(out, c->crx.p + c->crx.start, n);
    c->crx.start += n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b; (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;                        /* the loop flushes the send queue itself */
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
        return 0;
    default:
        return 0;
    }
}

static BIO_METHOD *conn_bio_method(void)
{
    static BIO_METHOD *m;                /* made once; all loops share it read-only */
    if (!m) {
        BIO_METHOD *n = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tradewire conn");
        if (n && BIO_meth_set_write(n, bio_write) && BIO_meth_set_read(n, bio_read) && BIO_meth_set_ctrl(n, bio_ctrl))
            m = n;
    }
    return m;
}

int tw_tls_attach(tw_conn *c, const char *host, bool verify)
{
    c->ssl = SSL_new(c->ssl_ctx);
    BIO_METHOD *method = conn_bio_method();
    BIO *bio = method ? BIO_new(method) : NULL;
    if (!c->ssl || !bio) {
        BIO_free(bio);
        queue_text(c->err_text, sizeof c->err_text);
        return TW_ERR_TLS;
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio);       /* the same BIO both ways: SSL_set_bio takes our one reference */
    if (c->role == TW_ROLE_SERVER) {
        SSL_set_accept_state(c->ssl);
        return 0;
    }
    SSL_set_connect_state(c->ssl);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!is_ip)                          /* RFC 6066: SNI carries names only */
        SSL_set_tlsext_host_name(c->ssl, host);
    if (verify) {
        X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, host) : SSL_set1_host(c->ssl, host);
        if (ok != 1) {
            queue_text(c->err_text, sizeof c->err_text);
            return TW_ERR_TLS;
        }
    }
    return 0;
}

void tw_tls_error_text(tw_conn *c, int ssl_ret, char *out, size_t out_len)
{
    int e = SSL_get_error(c->ssl, ssl_ret);
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK)
        snprintf(out, out_len, "certificate verify failed (%ld: %s)", v, X509_verify_cert_error_string(v));
    else
        snprintf(out, out_len, "SSL error %d", e);
    queue_text(out, out_len);
}

