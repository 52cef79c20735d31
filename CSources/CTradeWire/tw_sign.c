/* SHA256_Init/Update/Final: the low-level API keeps a hash state in a plain struct we can copy, which is what a
 * prepared HMAC key needs (OpenSSL 3 marks it deprecated; EVP has no copy without allocation). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tw_sign.h"
#include "tw_error.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

int tw_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, char *out, size_t out_cap)
{
    unsigned char mac[32];
    unsigned int n = 0;
    if (out_cap < 64)
        return TW_ERR_NO_SPACE;
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac, &n) || n != 32)
        return TW_ERR_TLS;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    return 64;
}

int tw_hmac_sha512(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t *out, size_t out_cap)
{
    unsigned int n = 0;
    if (out_cap < 64)
        return TW_ERR_NO_SPACE;
    if (!HMAC(EVP_sha512(), key, (int)key_len, msg, msg_len, out, &n))
        return TW_ERR_TLS;
    return (int)n;
}

int tw_sha256(const void *msg, size_t msg_len, uint8_t *out, size_t out_cap)
{
    unsigned int n = 0;
    if (out_cap < 32)
        return TW_ERR_NO_SPACE;
    if (!EVP_Digest(msg, msg_len, out, &n, EVP_sha256(), NULL))
        return TW_ERR_TLS;
    return (int)n;
}

int tw_base64_encode(const void *in, size_t n, char *out, size_t out_cap)
{
    if (out_cap < 4 * ((n + 2) / 3) + 1)
        return TW_ERR_NO_SPACE;
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int tw_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap)
{
    if (n % 4 != 0)
        return TW_ERR_INVALID_ARGUMENT;
    if (out_cap < 3 * (n / 4))
        return TW_ERR_NO_SPACE;
    int r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (r < 0)
        return TW_ERR_INVALID_ARGUMENT;
    /* EVP_DecodeBlock counts padding as zero bytes: take them off. */
    if (n >= 1 && in[n - 1] == '=')
        r--;
    if (n >= 2 && in[n - 2] == '=')
        r--;
    return r;
}

static EVP_PKEY *load_private(const char *key, size_t key_len)
{
    if (key_len == 32 && strncmp(key, "-----", 5) != 0)
        return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, (const unsigned char *)key, 32);
    BIO *b = BIO_new_mem_buf(key, (int)key_len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

int tw_ed25519_sign_base64(const char *key, size_t key_len, const void *msg, size_t msg_len, char *out, size_t out_cap)
{
    if (out_cap < 89)
        return TW_ERR_NO_SPACE;
    EVP_PKEY *k = load_private(key, key_len);
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        return TW_ERR_INVALID_ARGUMENT;
    }
    unsigned char sig[64];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    if (!ok)
        return TW_ERR_TLS;
    return EVP_EncodeBlock((unsigned char *)out, sig, (int)sig_len);
}

int tw_ed25519_verify_base64(const char *pub_pem, size_t pem_len, const void *msg, size_t msg_len, const char *sig_b64, size_t sig_len)
{
    uint8_t sig[96];
    int n = tw_base64_decode(sig_b64, sig_len, sig, sizeof sig);
    if (n != 64)
        return 0;
    BIO *b = BIO_new_mem_buf(pub_pem, (int)pem_len);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k)
        return TW_ERR_INVALID_ARGUMENT;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int r = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 ? EVP_DigestVerify(md, sig, 64, msg, msg_len) : -1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return r == 1 ? 1 : 0;
}

int tw_rsa_sha256_sign_base64(const char *pem, size_t pem_len, const void *msg, size_t msg_len, char *out, size_t out_cap)
{
    BIO *b = BIO_new_mem_buf(pem, (int)pem_len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return TW_ERR_INVALID_ARGUMENT;
    }
    uint8_t sig[1024];                          /* up to RSA-8192 */
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* RSA's default padding with a digest is PKCS#1 v1.5, as Binance specifies. */
    int ok = md && (size_t)EVP_PKEY_get_size(k) <= sizeof sig &&
             EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    if (!ok)
        return TW_ERR_TLS;
    if (out_cap < 4 * ((sig_len + 2) / 3) + 1)
        return TW_ERR_NO_SPACE;
    return EVP_EncodeBlock((unsigned char *)out, sig, (int)sig_len);
}

int tw_rsa_sha256_verify_base64(const char *pub_pem, size_t pem_len, const void *msg, size_t msg_len, const char *sig_b64, size_t sig_len)
{
    uint8_t sig[1100];
    int n = sig_len <= 1400 ? tw_base64_decode(sig_b64, sig_len, sig, sizeof sig) : -1;
    if (n <= 0)
        return 0;
    BIO *b = BIO_new_mem_buf(pub_pem, (int)pem_len);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return TW_ERR_INVALID_ARGUMENT;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int r = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 ? EVP_DigestVerify(md, sig, (size_t)n, msg, msg_len) : -1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return r == 1 ? 1 : 0;
}

int tw_ed25519_generate(char *priv_pem, size_t priv_cap, char *pub_pem, size_t pub_cap)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!k)
        return TW_ERR_TLS;
    BIO *a = BIO_new(BIO_s_mem()), *b = BIO_new(BIO_s_mem());
    int ok = a && b && PEM_write_bio_PrivateKey(a, k, NULL, NULL, 0, NULL, NULL) && PEM_write_bio_PUBKEY(b, k);
    char *pa, *pb;
    long la = ok ? BIO_get_mem_data(a, &pa) : 0, lb = ok ? BIO_get_mem_data(b, &pb) : 0;
    ok = ok && (size_t)la < priv_cap && (size_t)lb < pub_cap;
    if (ok) {
        memcpy(priv_pem, pa, (size_t)la);
        priv_pem[la] = 0;
        memcpy(pub_pem, pb, (size_t)lb);
        pub_pem[lb] = 0;
    }
    BIO_free(a);
    BIO_free(b);
    EVP_PKEY_free(k);
    return ok ? 0 : TW_ERR_NO_SPACE;
}

struct tw_signer {
    int kind;                    /* 0: HMAC-SHA256, 1: a private key (Ed25519 or RSA) */
    SHA256_CTX inner, outer;     /* HMAC: the states after key ^ ipad and key ^ opad */
    EVP_PKEY *key;
    const EVP_MD *md;            /* RSA: SHA-256; Ed25519: none (it hashes itself) */
};

tw_signer *tw_signer_hmac_sha256(const void *key, size_t key_len)
{
    tw_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    unsigned char k[64] = {0}, pad[64];
    if (key_len > 64) {
        SHA256(key, key_len, k);                 /* RFC 2104: a long key is hashed first */
    } else {
        memcpy(k, key, key_len);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&s->inner);
    SHA256_Update(&s->inner, pad, 64);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&s->outer);
    SHA256_Update(&s->outer, pad, 64);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return s;
}

tw_signer *tw_signer_private_key(const char *key, size_t key_len)
{
    EVP_PKEY *k = load_private(key, key_len);
    if (!k || (EVP_PKEY_id(k) != EVP_PKEY_ED25519 && EVP_PKEY_id(k) != EVP_PKEY_RSA)) {
        EVP_PKEY_free(k);
        return NULL;
    }
    tw_signer *s = calloc(1, sizeof *s);
    if (!s) {
        EVP_PKEY_free(k);
        return NULL;
    }
    s->kind = 1;
    s->key = k;
    s->md = EVP_PKEY_id(k) == EVP_PKEY_RSA ? EVP_sha256() : NULL;
    return s;
}

int tw_signer_sign(tw_signer *s, const void *msg, size_t msg_len, char *out, size_t out_cap)
{
    if (s->kind == 0) {
        if (out_cap < 64)
            return TW_ERR_NO_SPACE;
        unsigned char mac[32];
        SHA256_CTX c = s->inner;                 /* a copy of the prepared state: no key setup, no allocation */
        SHA256_Update(&c, msg, msg_len);
        SHA256_Final(mac, &c);
        c = s->outer;
        SHA256_Update(&c, mac, 32);
        SHA256_Final(mac, &c);
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            out[2 * i] = hex[mac[i] >> 4];
            out[2 * i + 1] = hex[mac[i] & 15];
        }
        return 64;
    }
    uint8_t sig[1024];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && (size_t)EVP_PKEY_get_size(s->key) <= sizeof sig &&
             EVP_DigestSignInit(md, NULL, s->md, NULL, s->key) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return TW_ERR_TLS;
    if (out_cap < 4 * ((sig_len + 2) / 3) + 1)
        return TW_ERR_NO_SPACE;
    return EVP_EncodeBlock((unsigned char *)out, sig, (int)sig_len);
}

void tw_signer_free(tw_signer *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(&s->inner, sizeof s->inner);
    OPENSSL_cleanse(&s->outer, sizeof s->outer);
    EVP_PKEY_free(s->key);
    free(s);
}
