/*
 * openssl_dtls_echo — OpenSSL 3 DTLS 1.2 PSK echo server: many clients, one UDP socket, one thread.
 *
 * Usage: openssl_dtls_echo [--ciphers LIST] [--groups LIST] [--resume id|ticket] PORT [ADDRESS] [BATCH]
 *   PORT     UDP port (0 = the kernel picks; the chosen one is printed)
 *   ADDRESS  IPv4 address to bind, default 127.0.0.1
 *   BATCH    datagrams per recvmmsg/sendmmsg, default 32, at most 256 (1 = one system call per datagram)
 *   --ciphers LIST  OpenSSL cipher list (SSL_CTX_set_cipher_list), most preferred first, instead of the
 *            default PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384; or the environment's
 *            OPENSSL_DTLS_ECHO_CIPHERS. A list naming a CCM8 suite gets ":@SECLEVEL=0" appended unless it
 *            sets a level itself (later OpenSSL releases rate an 8-byte tag below level 1 and refuse the suite).
 *   --groups LIST   ECDHE groups (SSL_CTX_set1_groups_list), default X25519:P-256 as HotDtls's; or the
 *            environment's OPENSSL_DTLS_ECHO_GROUPS. Only ECDHE-PSK suites use them.
 *   --resume id|ticket  let clients resume sessions: "id" keeps a server-side session cache (session-ID resumption,
 *            no tickets), "ticket" issues RFC 5077 tickets and keeps no cache. Without it (the default) every
 *            handshake is a full one.
 * Options may come anywhere on the line; a command-line option wins over its environment variable.
 *
 * Credentials are the Qt DTLS example's: identity hint "Qt DTLS example server", any client identity,
 * key 1a2b3c4d5e6f; by default suites PSK-AES128-GCM-SHA256 and PSK-AES256-GCM-SHA384; DTLS 1.2 only.
 * Every application-data record is answered with the same plaintext, re-encrypted.
 *
 * How one socket serves many peers (what high-rate OpenSSL DTLS servers do):
 *
 *   recvmmsg ──► datagram from A ──► peer table (hash of A) ──hit──► A's SSL ──► SSL_read ─► SSL_write
 *                                         │                           ▲   │ (echo)
 *                                         miss                        │   ▼
 *                                         ▼                     read BIO   write BIO ──► send queue ──► sendmmsg
 *                                  listener SSL: DTLSv1_listen (cookie check, no state kept)
 *                                         │ valid cookie: the listener SSL becomes A's SSL
 *
 * Each SSL has one custom BIO (a datagram BIO without a socket): reading returns the one datagram being
 * fed, whole, then "retry"; writing appends one datagram (OpenSSL 3.0 writes one record per BIO_write,
 * as to a datagram socket) to a batch that one sendmmsg sends after each received batch. So an echo under
 * load costs a share of two system calls, like the plaintext udp_echo_mmsg ceiling, plus OpenSSL itself.
 *
 * Before a valid cookie nothing is stored: one reusable listener SSL runs DTLSv1_listen, whose
 * HelloVerifyRequest cookie is HMAC-SHA256(secret, peer address) with a random 32-byte secret.
 *
 * Timers: handshaking peers are checked every TICK_MS with DTLSv1_handle_timeout (OpenSSL's RFC 6347
 * §4.2.4 retransmission, 1 s doubling) and freed after HANDSHAKE_TIMEOUT_MS or too many retransmissions;
 * established peers idle for IDLE_TIMEOUT_MS, or that send close_notify or a fatal alert, are freed.
 * A ClientHello with a valid cookie from an address that has a session starts a new session
 * (RFC 6347 §4.2.8: the client rebooted). SIGINT/SIGTERM send close_notify to every peer and exit 0;
 * SIGUSR1 prints how many peers are held.
 *
 * IPv4 only. Prints "listening on PORT" once bound.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define MAX_BATCH 256
#define DATAGRAM_MAX 65536                   /* > the largest UDP payload: no datagram is truncated */
#define LINK_MTU 1500                        /* Ethernet; handshake flights are cut to fit */
#define IPV4_UDP_OVERHEAD 28
#define TICK_MS 50                           /* timer resolution (the socket's receive timeout) */
#define HANDSHAKE_TIMEOUT_MS 30000           /* as HotDtls's default HandshakeTimeout */
#define IDLE_TIMEOUT_MS (5 * 60 * 1000)      /* as HotDtls's default IdleTimeout */
#define MAX_PEERS (1u << 20)                 /* ClientHellos beyond this many sessions are dropped */
#define COOKIE_LENGTH 32                     /* HMAC-SHA256, untruncated */
#define SEND_QUEUE_SLOTS 1024
#define SEND_ARENA_BYTES (1u << 20)

static const unsigned char s_psk[] = { 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f };
static const char s_identity_hint[] = "Qt DTLS example server";
static const char s_default_cipher_list[] = "PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384";
static const char s_default_groups[] = "X25519:P-256"; /* as HotDtls's DtlsOptions.NamedGroups */
static char s_cipher_list[1024];                           /* what the context was given, for the start-up line */

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_report; /* SIGUSR1: print the peer counts to stderr */

/* ---------------------------------------------------------------------------------------------------- */
/* Time                                                                                                   */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Send queue: datagrams written by the SSLs, sent with one sendmmsg per received batch                  */

static int s_fd = -1;
static struct mmsghdr s_out_messages[SEND_QUEUE_SLOTS];
static struct iovec s_out_iovecs[SEND_QUEUE_SLOTS];
static struct sockaddr_in s_out_peers[SEND_QUEUE_SLOTS];
static unsigned char *s_out_arena;
static size_t s_out_used;
static unsigned s_out_count;

static void flush_send_queue(void)
{
    unsigned sent = 0;
    while (sent < s_out_count) {
        int n = sendmmsg(s_fd, s_out_messages + sent, s_out_count - sent, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            sent++; /* This datagram cannot be sent (EPERM, ENOBUFS, ...): dropped, as UDP may. */
            continue;
        }
        sent += (unsigned)n;
    }
    s_out_count = 0;
    s_out_used = 0;
}

static void queue_datagram(const struct sockaddr_in *to, const void *data, size_t length)
{
    if (length > SEND_ARENA_BYTES) {
        sendto(s_fd, data, length, 0, (const struct sockaddr *)to, sizeof *to);
        return;
    }
    if (s_out_count == SEND_QUEUE_SLOTS || s_out_used + length > SEND_ARENA_BYTES)
        flush_send_queue();
    unsigned i = s_out_count++;
    memcpy(s_out_arena + s_out_used, data, length);
    s_out_peers[i] = *to;
    s_out_iovecs[i].iov_base = s_out_arena + s_out_used;
    s_out_iovecs[i].iov_len = length;
    memset(&s_out_messages[i], 0, sizeof s_out_messages[i]);
    s_out_messages[i].msg_hdr.msg_name = &s_out_peers[i];
    s_out_messages[i].msg_hdr.msg_namelen = sizeof s_out_peers[i];
    s_out_messages[i].msg_hdr.msg_iov = &s_out_iovecs[i];
    s_out_messages[i].msg_hdr.msg_iovlen = 1;
    s_out_used += length;
}

/* ---------------------------------------------------------------------------------------------------- */
/* The datagram BIO without a socket                                                                     */

/* What one SSL's BIO reads from and writes to. */
struct endpoint {
    struct sockaddr_in address;
    const unsigned char *datagram; /* the datagram being fed, or NULL once read */
    size_t datagram_length;
};

static BIO_METHOD *s_bio_method;

static int endpoint_bio_write(BIO *bio, const char *data, int length)
{
    struct endpoint *endpoint = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (length > 0)
        queue_datagram(&endpoint->address, data, (size_t)length);
    return length;
}

static int endpoint_bio_read(BIO *bio, char *out, int capacity)
{
    struct endpoint *endpoint = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (endpoint->datagram == NULL) {
        BIO_set_retry_read(bio);
        return -1;
    }
    /* A datagram larger than OpenSSL's buffer is cut, as a datagram socket would; its record then fails. */
    size_t n = endpoint->datagram_length < (size_t)capacity ? endpoint->datagram_length : (size_t)capacity;
    memcpy(out, endpoint->datagram, n);
    endpoint->datagram = NULL;
    return (int)n;
}

static long endpoint_bio_ctrl(BIO *bio, int command, long number, void *pointer)
{
    (void)bio;
    (void)number;
    (void)pointer;
    switch (command) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return IPV4_UDP_OVERHEAD;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return LINK_MTU - IPV4_UDP_OVERHEAD;
    default:
        return 0; /* PENDING/WPENDING: nothing buffered; peer and timeout controls: not needed here */
    }
}

static int endpoint_bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Cookies: HMAC-SHA256(secret, peer address), stateless                                                  */

static EVP_MAC_CTX *s_cookie_mac; /* keyed once; re-initialised (same key) for each cookie */

static int compute_cookie(SSL *ssl, unsigned char out[COOKIE_LENGTH])
{
    const struct endpoint *endpoint = BIO_get_data(SSL_get_rbio(ssl));
    unsigned char input[6];
    memcpy(input, &endpoint->address.sin_addr, 4);
    memcpy(input + 4, &endpoint->address.sin_port, 2);
    size_t length = 0;
    return EVP_MAC_init(s_cookie_mac, NULL, 0, NULL) == 1 && EVP_MAC_update(s_cookie_mac, input, sizeof input) == 1
        && EVP_MAC_final(s_cookie_mac, out, &length, COOKIE_LENGTH) == 1 && length == COOKIE_LENGTH;
}

static int generate_cookie(SSL *ssl, unsigned char *cookie, unsigned int *cookie_length)
{
    if (!compute_cookie(ssl, cookie))
        return 0;
    *cookie_length = COOKIE_LENGTH;
    return 1;
}

static int verify_cookie(SSL *ssl, const unsigned char *cookie, unsigned int cookie_length)
{
    unsigned char expected[COOKIE_LENGTH];
    return cookie_length == COOKIE_LENGTH && compute_cookie(ssl, expected)
        && CRYPTO_memcmp(expected, cookie, COOKIE_LENGTH) == 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* PSK: any identity, one key                                                                            */

static unsigned int psk_server_callback(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max_psk_length)
{
    (void)ssl;
    (void)identity;
    if (sizeof s_psk > max_psk_length)
        return 0;
    memcpy(psk, s_psk, sizeof s_psk);
    return sizeof s_psk;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Peers: a hash table by address, a list by last activity, a list of handshakes in progress             */

struct peer {
    struct endpoint endpoint; /* first: the BIO's data */
    uint64_t key;             /* address and port */
    SSL *ssl;
    int established;
    uint64_t last_active_ms;
    uint64_t handshake_started_ms;
    struct peer *bucket_next;
    struct peer *active_prev, *active_next;       /* oldest activity first */
    struct peer *handshake_prev, *handshake_next; /* only while the handshake runs */
};

static struct peer **s_buckets;
static size_t s_bucket_mask;
static size_t s_peer_count;
static uint64_t s_hash_seed;
static struct peer *s_active_head, *s_active_tail;
static struct peer *s_handshake_head;

static uint64_t address_key(const struct sockaddr_in *address)
{
    return ((uint64_t)ntohl(address->sin_addr.s_addr) << 16) | ntohs(address->sin_port);
}

static size_t bucket_of(uint64_t key)
{
    /* splitmix64 finaliser over a random seed: peers cannot aim at one bucket */
    uint64_t z = key ^ s_hash_seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (size_t)(z ^ (z >> 31)) & s_bucket_mask;
}

static struct peer *find_peer(uint64_t key)
{
    for (struct peer *p = s_buckets[bucket_of(key)]; p != NULL; p = p->bucket_next)
        if (p->key == key)
            return p;
    return NULL;
}

static void grow_table(void)
{
    size_t old_count = s_bucket_mask + 1;
    struct peer **old = s_buckets;
    struct peer **grown = calloc(old_count * 2, sizeof *grown);
    if (grown == NULL)
        return; /* longer chains, still correct */
    s_buckets = grown;
    s_bucket_mask = old_count * 2 - 1;
    for (size_t i = 0; i < old_count; i++) {
        for (struct peer *p = old[i], *next; p != NULL; p = next) {
            next = p->bucket_next;
            size_t b = bucket_of(p->key);
            p->bucket_next = s_buckets[b];
            s_buckets[b] = p;
        }
    }
    free(old);
}

static void active_unlink(struct peer *p)
{
    if (p->active_prev) p->active_prev->active_next = p->active_next; else s_active_head = p->active_next;
    if (p->active_next) p->active_next->active_prev = p->active_prev; else s_active_tail = p->active_prev;
    p->active_prev = p->active_next = NULL;
}

static void active_append(struct peer *p)
{
    p->active_prev = s_active_tail;
    p->active_next = NULL;
    if (s_active_tail) s_active_tail->active_next = p; else s_active_head = p;
    s_active_tail = p;
}

static void touch(struct peer *p, uint64_t now)
{
    p->last_active_ms = now;
    if (s_active_tail != p) {
        active_unlink(p);
        active_append(p);
    }
}

static void handshake_unlink(struct peer *p)
{
    if (p->handshake_prev) p->handshake_prev->handshake_next = p->handshake_next;
    else if (s_handshake_head == p) s_handshake_head = p->handshake_next;
    if (p->handshake_next) p->handshake_next->handshake_prev = p->handshake_prev;
    p->handshake_prev = p->handshake_next = NULL;
}

static void handshake_push(struct peer *p)
{
    p->handshake_prev = NULL;
    p->handshake_next = s_handshake_head;
    if (s_handshake_head) s_handshake_head->handshake_prev = p;
    s_handshake_head = p;
}

/* Frees the peer; with send_close_notify, an established session says goodbye first. */
static void free_peer(struct peer *p, int send_close_notify)
{
    if (send_close_notify && p->established) {
        p->endpoint.datagram = NULL;
        SSL_shutdown(p->ssl);
    }
    ERR_clear_error();
    size_t b = bucket_of(p->key);
    for (struct peer **link = &s_buckets[b]; *link != NULL; link = &(*link)->bucket_next) {
        if (*link == p) {
            *link = p->bucket_next;
            break;
        }
    }
    active_unlink(p);
    if (!p->established)
        handshake_unlink(p);
    SSL_free(p->ssl); /* frees its BIO */
    free(p);
    s_peer_count--;
}

/* ---------------------------------------------------------------------------------------------------- */
/* SSLs                                                                                                  */

static SSL_CTX *s_ctx;
static SSL *s_listener;               /* runs DTLSv1_listen; becomes a peer's SSL on a valid cookie */
static struct endpoint s_listener_endpoint;
static BIO_ADDR *s_listen_client;

static SSL *new_listener(void)
{
    SSL *ssl = SSL_new(s_ctx);
    BIO *bio = BIO_new(s_bio_method);
    if (ssl == NULL || bio == NULL) {
        fprintf(stderr, "openssl_dtls_echo: SSL_new/BIO_new failed\n");
        exit(1);
    }
    BIO_set_data(bio, &s_listener_endpoint);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_accept_state(ssl);
    SSL_set_mtu(ssl, LINK_MTU - IPV4_UDP_OVERHEAD);
    return ssl;
}

static unsigned char s_plaintext[16384 + 2048];

/* Runs the handshake or echoes application data; frees the peer on close_notify or a fatal error. */
static void drive_peer(struct peer *p, uint64_t now)
{
    if (!p->established) {
        int r = SSL_do_handshake(p->ssl);
        if (r != 1) {
            int error = SSL_get_error(p->ssl, r);
            if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
                free_peer(p, 0); /* OpenSSL has already queued its fatal alert */
            else
                ERR_clear_error();
            return;
        }
        p->established = 1;
        handshake_unlink(p);
        touch(p, now);
    }
    for (;;) {
        int n = SSL_read(p->ssl, s_plaintext, sizeof s_plaintext);
        if (n > 0) {
            if (SSL_write(p->ssl, s_plaintext, n) <= 0) {
                free_peer(p, 0);
                return;
            }
            continue;
        }
        int error = SSL_get_error(p->ssl, n);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return;
        }
        /* SSL_ERROR_ZERO_RETURN: close_notify, answered with ours; anything else: a fatal alert either way. */
        free_peer(p, error == SSL_ERROR_ZERO_RETURN);
        return;
    }
}

/* RFC 6347 §4.1: ContentType(1) ProtocolVersion(2) epoch(2) sequence_number(6) length(2), then for a
 * handshake record HandshakeType(1). A ClientHello in epoch 0 from a known address is a new connection. */
static int is_epoch0_client_hello(const unsigned char *d, size_t length)
{
    return length > 13 && d[0] == 22 && d[3] == 0 && d[4] == 0 && d[13] == 1;
}

/* Runs an unknown (or reconnecting) peer's datagram through the cookie check; on a valid cookie returns
 * the listener SSL, now holding the ClientHello, and makes a new listener. */
static SSL *listen_for(const struct sockaddr_in *from, const unsigned char *datagram, size_t length)
{
    s_listener_endpoint.address = *from;
    s_listener_endpoint.datagram = datagram;
    s_listener_endpoint.datagram_length = length;
    int r = DTLSv1_listen(s_listener, s_listen_client);
    s_listener_endpoint.datagram = NULL;
    ERR_clear_error();
    if (r <= 0)
        return NULL; /* HelloVerifyRequest queued, or the datagram dropped */
    SSL *accepted = s_listener;
    s_listener = new_listener();
    return accepted;
}

static void on_datagram(const struct sockaddr_in *from, const unsigned char *datagram, size_t length, uint64_t now)
{
    uint64_t key = address_key(from);
    struct peer *p = find_peer(key);
    if (p != NULL && !(p->established && is_epoch0_client_hello(datagram, length))) {
        p->endpoint.datagram = datagram;
        p->endpoint.datagram_length = length;
        touch(p, now);
        drive_peer(p, now); /* may free p */
        return;
    }
    if (p == NULL && s_peer_count >= MAX_PEERS)
        return;
    SSL *ssl = listen_for(from, datagram, length);
    if (ssl == NULL)
        return;
    if (p != NULL)
        free_peer(p, 0); /* the client restarted: its old session is gone (RFC 6347 §4.2.8) */

    p = calloc(1, sizeof *p);
    if (p == NULL) {
        SSL_free(ssl);
        return;
    }
    p->endpoint.address = *from;
    p->key = key;
    p->ssl = ssl;
    p->handshake_started_ms = now;
    p->last_active_ms = now;
    BIO_set_data(SSL_get_rbio(ssl), &p->endpoint);
    size_t b = bucket_of(key);
    p->bucket_next = s_buckets[b];
    s_buckets[b] = p;
    active_append(p);
    handshake_push(p);
    if (++s_peer_count > s_bucket_mask + 1)
        grow_table();
    drive_peer(p, now); /* the buffered ClientHello: ServerHello, ServerKeyExchange, ServerHelloDone */
}

static void on_tick(uint64_t now)
{
    for (struct peer *p = s_handshake_head, *next; p != NULL; p = next) {
        next = p->handshake_next;
        if (now - p->handshake_started_ms > HANDSHAKE_TIMEOUT_MS || DTLSv1_handle_timeout(p->ssl) < 0)
            free_peer(p, 0);
    }
    while (s_active_head != NULL && now - s_active_head->last_active_ms > IDLE_TIMEOUT_MS)
        free_peer(s_active_head, 1);
    ERR_clear_error();
}

/* ---------------------------------------------------------------------------------------------------- */

static void on_signal(int signo)
{
    if (signo == SIGUSR1)
        s_report = 1;
    else
        s_stop = 1;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value > max)
        return -1;
    *out = value;
    return 0;
}

/* The cipher list to give OpenSSL: LIST, with ":@SECLEVEL=0" appended when it names a CCM8 suite and sets no
 * level. Later OpenSSL releases rate an 8-byte tag as 64 bits of security, below level 1's 80, and refuse the
 * suite; 3.0 accepts it at level 1 too. With a fixed PSK suite and no certificates the level changes nothing else. */
static void choose_cipher_list(const char *list)
{
    const char *level = strcasestr(list, "CCM8") != NULL && strcasestr(list, "@SECLEVEL") == NULL ? ":@SECLEVEL=0" : "";
    if ((size_t)snprintf(s_cipher_list, sizeof s_cipher_list, "%s%s", list, level) >= sizeof s_cipher_list) {
        fprintf(stderr, "openssl_dtls_echo: the cipher list is too long\n");
        exit(2);
    }
}

static void setup_tls(const char *groups, const char *resume)
{
    s_ctx = SSL_CTX_new(DTLS_server_method());
    if (s_ctx == NULL
        || SSL_CTX_set_min_proto_version(s_ctx, DTLS1_2_VERSION) != 1
        || SSL_CTX_set_max_proto_version(s_ctx, DTLS1_2_VERSION) != 1
        || SSL_CTX_set_cipher_list(s_ctx, s_cipher_list) != 1
        || SSL_CTX_set1_groups_list(s_ctx, groups) != 1
        || SSL_CTX_use_psk_identity_hint(s_ctx, s_identity_hint) != 1) {
        fprintf(stderr, "openssl_dtls_echo: cannot set up the context (ciphers \"%s\", groups \"%s\"):\n", s_cipher_list, groups);
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_CTX_set_psk_server_callback(s_ctx, psk_server_callback);
    SSL_CTX_set_cookie_generate_cb(s_ctx, generate_cookie);
    SSL_CTX_set_cookie_verify_cb(s_ctx, verify_cookie);
    /* The MTU comes from us, not from a socket; no renegotiation; by default no session cache or tickets, so every
     * handshake is a full one. --resume id: a server-side cache (OpenSSL's default size), no tickets; --resume
     * ticket: tickets (OpenSSL's own key, rotated by it), no cache — what HotDtls does with each. */
    uint64_t options = SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE; /* AES-128-GCM first, as HotDtls */
    if (resume == NULL || strcmp(resume, "id") == 0)
        options |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(s_ctx, options);
    if (resume != NULL && strcmp(resume, "id") == 0) {
        static const unsigned char context[] = "openssl_dtls_echo";
        SSL_CTX_set_session_cache_mode(s_ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_session_id_context(s_ctx, context, sizeof context - 1);
    } else {
        SSL_CTX_set_session_cache_mode(s_ctx, SSL_SESS_CACHE_OFF);
    }

    s_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "endpoint datagram");
    if (s_bio_method == NULL
        || BIO_meth_set_write(s_bio_method, endpoint_bio_write) != 1
        || BIO_meth_set_read(s_bio_method, endpoint_bio_read) != 1
        || BIO_meth_set_ctrl(s_bio_method, endpoint_bio_ctrl) != 1
        || BIO_meth_set_create(s_bio_method, endpoint_bio_create) != 1) {
        fprintf(stderr, "openssl_dtls_echo: BIO_meth_new failed\n");
        exit(1);
    }

    unsigned char secret[32];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (mac == NULL || RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes((unsigned char *)&s_hash_seed, sizeof s_hash_seed) != 1
        || (s_cookie_mac = EVP_MAC_CTX_new(mac)) == NULL || EVP_MAC_init(s_cookie_mac, secret, sizeof secret, params) != 1) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    EVP_MAC_free(mac);
    OPENSSL_cleanse(secret, sizeof secret);

    s_listen_client = BIO_ADDR_new();
    s_listener = new_listener();
}

int main(int argc, char **argv)
{
    const char *ciphers = getenv("OPENSSL_DTLS_ECHO_CIPHERS");
    const char *groups = getenv("OPENSSL_DTLS_ECHO_GROUPS");
    const char *resume = NULL;
    const char *positional[3];
    int positional_count = 0, usage_error = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ciphers") == 0 && i + 1 < argc)
            ciphers = argv[++i];
        else if (strcmp(argv[i], "--groups") == 0 && i + 1 < argc)
            groups = argv[++i];
        else if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc)
            resume = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            usage_error = 1;
        else if (positional_count < 3)
            positional[positional_count++] = argv[i];
        else
            usage_error = 1;
    }
    unsigned long port, batch = 32;
    const char *address = positional_count > 1 ? positional[1] : "127.0.0.1";
    if (usage_error || positional_count < 1 || parse_uint(positional[0], 65535, &port) != 0
        || (positional_count > 2 && (parse_uint(positional[2], MAX_BATCH, &batch) != 0 || batch == 0))
        || (ciphers != NULL && ciphers[0] == '\0') || (groups != NULL && groups[0] == '\0')
        || (resume != NULL && strcmp(resume, "id") != 0 && strcmp(resume, "ticket") != 0)) {
        fprintf(stderr, "usage: %s [--ciphers LIST] [--groups LIST] [--resume id|ticket] PORT [ADDRESS] [BATCH 1..%d]\n", argv[0], MAX_BATCH);
        return 2;
    }
    choose_cipher_list(ciphers != NULL ? ciphers : s_default_cipher_list);
    if (groups == NULL)
        groups = s_default_groups;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    setup_tls(groups, resume);
    s_bucket_mask = 1023;
    s_buckets = calloc(s_bucket_mask + 1, sizeof *s_buckets);
    s_out_arena = malloc(SEND_ARENA_BYTES);
    unsigned char *buffers = malloc(batch * DATAGRAM_MAX);
    struct mmsghdr *messages = calloc(batch, sizeof *messages);
    struct iovec *iovecs = calloc(batch, sizeof *iovecs);
    struct sockaddr_in *peers = calloc(batch, sizeof *peers);
    if (s_buckets == NULL || s_out_arena == NULL || buffers == NULL || messages == NULL || iovecs == NULL || peers == NULL) {
        fprintf(stderr, "openssl_dtls_echo: out of memory\n");
        return 1;
    }

    s_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (s_fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in local;
    memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    local.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, address, &local.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", address);
        return 2;
    }
    if (bind(s_fd, (struct sockaddr *)&local, sizeof local) != 0) {
        perror("bind");
        return 1;
    }
    /* The receive timeout is the timer tick: an idle server still runs retransmissions and timeouts. */
    struct timeval tick = { .tv_sec = 0, .tv_usec = TICK_MS * 1000 };
    setsockopt(s_fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    socklen_t local_length = sizeof local;
    getsockname(s_fd, (struct sockaddr *)&local, &local_length);
    printf("ciphers %s; groups %s\n", s_cipher_list, groups);
    printf("listening on %u\n", (unsigned)ntohs(local.sin_port));
    fflush(stdout);

    uint64_t next_tick = now_ms() + TICK_MS;
    while (!s_stop) {
        for (unsigned long i = 0; i < batch; i++) {
            iovecs[i].iov_base = buffers + i * DATAGRAM_MAX;
            iovecs[i].iov_len = DATAGRAM_MAX;
            memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
            messages[i].msg_hdr.msg_iov = &iovecs[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_name = &peers[i];
            messages[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
        int received = recvmmsg(s_fd, messages, (unsigned)batch, MSG_WAITFORONE, NULL);
        uint64_t now = now_ms();
        if (received < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            perror("recvmmsg");
            break;
        }
        for (int i = 0; i < received; i++) {
            if (messages[i].msg_hdr.msg_namelen == sizeof peers[i] && peers[i].sin_family == AF_INET)
                on_datagram(&peers[i], buffers + (size_t)i * DATAGRAM_MAX, messages[i].msg_len, now);
        }
        if (now >= next_tick) {
            on_tick(now);
            next_tick = now + TICK_MS;
        }
        flush_send_queue();
        if (s_report) {
            s_report = 0;
            size_t handshaking = 0;
            for (const struct peer *p = s_handshake_head; p != NULL; p = p->handshake_next)
                handshaking++;
            fprintf(stderr, "openssl_dtls_echo: %zu peers, %zu of them handshaking\n", s_peer_count, handshaking);
        }
    }

    size_t closed = s_peer_count;
    while (s_active_head != NULL)
        free_peer(s_active_head, 1);
    flush_send_queue();
    fprintf(stderr, "openssl_dtls_echo: stopped; close_notify sent to the established among %zu peers\n", closed);

    SSL_free(s_listener);
    SSL_CTX_free(s_ctx);
    BIO_meth_free(s_bio_method);
    BIO_ADDR_free(s_listen_client);
    EVP_MAC_CTX_free(s_cookie_mac);
    close(s_fd);
    free(s_buckets);
    free(s_out_arena);
    free(buffers);
    free(messages);
    free(iovecs);
    free(peers);
    return 0;
}
