/*
 * udp_echo_mmsg — plaintext UDP echo server, the ceiling of the benchmark suite.
 *
 * Usage: udp_echo_mmsg PORT [ADDRESS] [BATCH]
 *   PORT     UDP port (0 = the kernel picks; the chosen one is printed)
 *   ADDRESS  IPv4 address to bind, default 127.0.0.1
 *   BATCH    datagrams per recvmmsg/sendmmsg, default 64, at most 1024
 *
 * One thread, one socket. Each recvmmsg(MSG_WAITFORONE) blocks for the first datagram and then takes
 * whatever else is already queued, up to BATCH; one sendmmsg sends every datagram back to its sender,
 * in place, from the same buffers and the same msghdrs (the kernel filled msg_name with the sender).
 * So under load a batch of N echoes costs two system calls instead of 2N.
 *
 * Prints "listening on PORT" once bound; SIGINT/SIGTERM end it with exit status 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define DATAGRAM_MAX 65536 /* > the largest UDP payload (65507), so nothing is ever truncated */

static volatile sig_atomic_t s_stop;

static void on_signal(int signo)
{
    (void)signo;
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

int main(int argc, char **argv)
{
    unsigned long port, batch = 64;
    const char *address = argc > 2 ? argv[2] : "127.0.0.1";
    if (argc < 2 || argc > 4 || parse_uint(argv[1], 65535, &port) != 0
        || (argc > 3 && (parse_uint(argv[3], MAX_BATCH, &batch) != 0 || batch == 0))) {
        fprintf(stderr, "usage: %s PORT [ADDRESS] [BATCH 1..%d]\n", argv[0], MAX_BATCH);
        return 2;
    }

    /* No SA_RESTART: a signal interrupts the blocking recvmmsg with EINTR and the loop sees s_stop. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
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
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
        perror("bind");
        return 1;
    }
    socklen_t local_length = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &local_length);

    /* One buffer, iovec, msghdr and sender address per slot, allocated once. */
    unsigned char *buffers = malloc(batch * DATAGRAM_MAX);
    struct mmsghdr *messages = calloc(batch, sizeof *messages);
    struct iovec *iovecs = calloc(batch, sizeof *iovecs);
    struct sockaddr_in *peers = calloc(batch, sizeof *peers);
    if (buffers == NULL || messages == NULL || iovecs == NULL || peers == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    printf("listening on %u\n", (unsigned)ntohs(local.sin_port));
    fflush(stdout);

    unsigned long long echoed = 0;
    while (!s_stop) {
        for (unsigned long i = 0; i < batch; i++) {
            iovecs[i].iov_base = buffers + i * DATAGRAM_MAX;
            iovecs[i].iov_len = DATAGRAM_MAX;
            messages[i].msg_hdr.msg_iov = &iovecs[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_name = &peers[i];
            messages[i].msg_hdr.msg_namelen = sizeof peers[i];
            messages[i].msg_hdr.msg_control = NULL;
            messages[i].msg_hdr.msg_controllen = 0;
            messages[i].msg_hdr.msg_flags = 0;
        }
        int received = recvmmsg(fd, messages, (unsigned)batch, MSG_WAITFORONE, NULL);
        if (received < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("recvmmsg");
            break;
        }
        /* Echo in place: the same msghdrs, each iovec shortened to the datagram's length. */
        for (int i = 0; i < received; i++)
            iovecs[i].iov_len = messages[i].msg_len;
        int sent = 0;
        while (sent < received) {
            int n = sendmmsg(fd, messages + sent, (unsigned)(received - sent), 0);
            if (n < 0) {
                if (errno == EINTR && !s_stop)
                    continue;
                if (errno == EINTR)
                    break;
                sent++; /* This datagram cannot be sent (e.g. EPERM, ENOBUFS): drop it, as UDP may. */
                continue;
            }
            sent += n;
        }
        echoed += (unsigned long long)received;
    }

    fprintf(stderr, "udp_echo_mmsg: stopped after %llu datagrams\n", echoed);
    close(fd);
    free(buffers);
    free(messages);
    free(iovecs);
    free(peers);
    return 0;
}
