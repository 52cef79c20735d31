#ifndef TW_CERT_H
#define TW_CERT_H

#include <stddef.h>

/*
 * Make a fresh CA (self-signed, EC P-256) and a server certificate signed by
 * it for dns_name and/or ip (either may be NULL), valid from now+not_before_s
 * to now+not_after_s (negative offsets make an expired certificate).
 * Writes PEM files. Returns 0, or a negative code with the OpenSSL error in err.
 */
int tw_cert_generate(const char *ca_path, const char *cert_path, const char *key_path,
                     const char *dns_name, const char *ip,
                     long not_before_s, long not_after_s, char *err, size_t err_len);

#endif
