/* Test and simulator certificates made at run time with OpenSSL: a CA and a leaf signed by it. */
#include "tw_cert.h"
#include "tw_error.h"
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn,
                       const char *san, long nb, long na)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = X509_set_version(x, 2) && RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7f;                  /* positive */
    if (ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL)
        ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), nb) && X509_gmtime_adj(X509_getm_notAfter(x), na) &&
         X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"TradeWire test", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    if (ok && !san) {
        ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else if (ok) {
        ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature") &&
             add_ext(x, iss, NID_ext_key_usage, "serverAuth") &&
             add_ext(x, iss, NID_subject_alt_name, san);
    }
    ok = ok && add_ext(x, iss, NID_subject_key_identifier, "hash") &&
         (!issuer || add_ext(x, iss, NID_authority_key_identifier, "keyid:always")) &&
         X509_sign(x, signer, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok;
}

int tw_cert_generate(const char *ca_path, const char *cert_path, const char *key_path,
                     const char *dns_name, const char *ip,
                     long not_before_s, long not_after_s, char *err, size_t err_len)
{
    char san[512] = "";
    if (dns_name && ip)
        snprintf(san, sizeof san, "DNS:%s,IP:%s", dns_name, ip);
    else if (dns_name)
        snprintf(san, sizeof san, "DNS:%s", dns_name);
    else if (ip)
        snprintf(san, sizeof san, "IP:%s", ip);
    else
        return TW_ERR_INVALID_ARGUMENT;
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    EVP_PKEY *leaf_key = EVP_EC_gen("P-256");
    X509 *ca = NULL, *leaf = NULL;
    int ok = ca_key && leaf_key;
    /* The CA is valid around now; only the leaf takes the requested window. */
    ok = ok && (ca = make_cert(ca_key, ca_key, NULL, "TradeWire test CA", NULL, -86400 * 30L, 86400 * 3650L));
    ok = ok && (leaf = make_cert(leaf_key, ca_key, ca, dns_name ? dns_name : ip, san, not_before_s, not_after_s));
    ok = ok && write_pem(ca_path, ca, NULL) && write_pem(cert_path, leaf, NULL) && write_pem(key_path, NULL, leaf_key);
    if (!ok && err && err_len) {
        unsigned long e = ERR_get_error();
        if (e)
            ERR_error_string_n(e, err, err_len);
        else
            snprintf(err, err_len, "cannot write certificate files");
    }
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    return ok ? 0 : TW_ERR_TLS;
}
