#ifndef INVITELINK_COPENSSL_SHIM_H
#define INVITELINK_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/bio.h>

// OPENSSL_free is a function-like macro (it passes __FILE__/__LINE__), which Swift cannot import.
static inline void invitelink_openssl_free(void *ptr) {
    OPENSSL_free(ptr);
}

// BIO_get_mem_data is a macro over BIO_ctrl; Swift cannot import it.
static inline long invitelink_bio_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}

// OSSL_PARAM arrays keep pointers to their name strings. Built from Swift, those names would
// be temporary bridged strings; built here they point at the static literals of the headers.
static inline int invitelink_hmac_sha256_init(EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen) {
    static const unsigned char empty = 0;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    // A NULL key means "re-initialise with the previous key", so an empty key needs a real pointer.
    return EVP_MAC_init(ctx, key != NULL ? key : &empty, keylen, params);
}

static inline int invitelink_scrypt_derive(EVP_KDF_CTX *ctx,
                                           const unsigned char *pass, size_t passlen,
                                           const unsigned char *salt, size_t saltlen,
                                           uint64_t n, uint32_t r, uint32_t p,
                                           unsigned char *out, size_t outlen) {
    static const unsigned char empty = 0;
    OSSL_PARAM params[6];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(pass != NULL ? pass : &empty), passlen);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(salt != NULL ? salt : &empty), saltlen);
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    params[5] = OSSL_PARAM_construct_end();
    return EVP_KDF_derive(ctx, out, outlen, params);
}

#endif
