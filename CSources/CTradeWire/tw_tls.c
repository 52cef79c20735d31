/* TLS over memory BIOs: OpenSSL never owns the socket; ciphertext moves through the loop. */
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
    while ((e = ERR_get_error()) != 0 && used + 2 < out_len) {
        if (used)
            out[used++] = ';', out[used++] = ' ', out[used] = 0;
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
    return ctx;
fail:
    queue_text(err, err_len);
    SSL_CTX_free(ctx);
    return NULL;
}

int tw_tls_attach(tw_conn *c, const char *host, bool verify)
{
    c->ssl = SSL_new(c->ssl_ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        queue_text(c->err_text, sizeof c->err_text);
        return TW_ERR_TLS;
    }
    BIO_set_mem_eof_return(c->rbio, -1); /* empty = "retry", not EOF */
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
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

int tw_tls_drain_wbio(tw_conn *c)
{
    size_t pending;
    while ((pending = BIO_ctrl_pending(c->wbio)) > 0) {
        struct tw_buf *b = tw_conn_wbuf(c);
        if (tw_buf_reserve(b, pending) < 0)
            return -12;
        int n = BIO_read(c->wbio, b->p + b->end, (int)pending);
        if (n <= 0)
            break;
        b->end += (size_t)n;
    }
    return 0;
}
