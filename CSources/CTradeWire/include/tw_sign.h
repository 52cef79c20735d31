#ifndef TW_SIGN_H
#define TW_SIGN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Request signing for venues, through OpenSSL's libcrypto.
 * All functions return the number of bytes written to out (no NUL unless
 * stated), or a negative code (TW_ERR_NO_SPACE if out is too small).
 */

/* HMAC-SHA256(key, msg) as 64 lower-case hex characters (Binance HMAC keys). */
int tw_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, char *out, size_t out_cap);

/* Raw HMAC-SHA512 (64 bytes) and SHA-256 (32 bytes), for Kraken's REST signature. */
int tw_hmac_sha512(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t *out, size_t out_cap);
int tw_sha256(const void *msg, size_t msg_len, uint8_t *out, size_t out_cap);

/* Base64 encode (NUL-terminated; needs 4*ceil(n/3)+1 bytes) and decode. */
int tw_base64_encode(const void *in, size_t n, char *out, size_t out_cap);
int tw_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap);

/*
 * Ed25519 signature of msg, base64 (88 characters + NUL), with a private key
 * given as PEM text (PKCS#8) or as its 32 raw seed bytes (pem_len == 32 and
 * no "-----" header). Binance's recommended key type.
 */
int tw_ed25519_sign_base64(const char *key, size_t key_len, const void *msg, size_t msg_len, char *out, size_t out_cap);

/* Verify an Ed25519 base64 signature with a public key in PEM. 1 valid, 0 invalid, < 0 error. */
int tw_ed25519_verify_base64(const char *pub_pem, size_t pem_len, const void *msg, size_t msg_len, const char *sig_b64, size_t sig_len);

/*
 * RSA signature (PKCS#1 v1.5 over SHA-256) of msg, base64, with a private key
 * in PEM (PKCS#1 or PKCS#8): Binance's RSA keys. Returns the length written
 * (out needs 4/3 of the key size + 1: 685 bytes for RSA-4096), or < 0.
 */
int tw_rsa_sha256_sign_base64(const char *pem, size_t pem_len, const void *msg, size_t msg_len, char *out, size_t out_cap);

/* Verify an RSA PKCS#1 v1.5 SHA-256 base64 signature with a public key in PEM. 1 valid, 0 invalid, < 0 error. */
int tw_rsa_sha256_verify_base64(const char *pub_pem, size_t pem_len, const void *msg, size_t msg_len, const char *sig_b64, size_t sig_len);

/*
 * A signer prepared once per key, for the order path: HMAC-SHA256 keeps the inner and outer SHA-256 states
 * after the key's pads (no key setup and no allocation per message; out: 64 hex characters); Ed25519 and RSA
 * keep the parsed private key (no PEM parse per message; out: base64). Not thread-safe: one thread signs.
 */
typedef struct tw_signer tw_signer;
tw_signer *tw_signer_hmac_sha256(const void *key, size_t key_len);
/* Ed25519 or RSA private key as PEM (or Ed25519's 32 raw seed bytes); NULL if it cannot be read. */
tw_signer *tw_signer_private_key(const char *key, size_t key_len);
int tw_signer_sign(tw_signer *s, const void *msg, size_t msg_len, char *out, size_t out_cap);
void tw_signer_free(tw_signer *s);

/* Make an Ed25519 key pair as PEM (for tests and the simulator). Returns 0. */
int tw_ed25519_generate(char *priv_pem, size_t priv_cap, char *pub_pem, size_t pub_cap);

#endif
