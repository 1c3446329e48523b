/* Writes a synthetic Ethernet pcap for tools/bench: a pod (10.44.0.2, fd00:44::2) with
 * concurrent TCP connections (handshake, request/response rounds, FIN teardown) inbound to its
 * app ports and outbound to services, plus UDP DNS queries; 10% of flows over IPv6.
 * Timestamps advance 100 us per packet, so flows end and expire as in a real capture.
 *
 *   gen OUT.pcap PACKETS [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

typedef struct {
    int v6, udp, inbound;
    uint8_t client[16], server[16];
    uint16_t cport, sport;
    uint32_t cseq, sseq;
    int step, rounds, total;   /* packets emitted, data rounds, packets in all */
    int active;
} flow_t;

static FILE *out;
static uint64_t now_us = 1700000000ull * 1000000ull;
static long written;
static uint8_t frame[2048];

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

static uint16_t ip_checksum(const uint8_t *p, int n) {
    uint32_t sum = 0;
    for (int i = 0; i < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void emit(const flow_t *f, int from_client, uint8_t flags, int payload) {
    int l3 = 14, l4, len;
    const uint8_t *src = from_client ? f->client : f->server, *dst = from_client ? f->server : f->client;
    memset(frame, 0, 14);
    frame[0] = 0x02; frame[5] = from_client ? 1 : 2; frame[6] = 0x02; frame[11] = from_client ? 2 : 1;
    int th = f->udp ? 8 : 20;
    if (f->v6) {
        put16(frame + 12, 0x86dd);
        uint8_t *ip = frame + l3;
        memset(ip, 0, 40);
        ip[0] = 0x60; put16(ip + 4, th + payload); ip[6] = f->udp ? 17 : 6; ip[7] = 64;
        memcpy(ip + 8, src, 16); memcpy(ip + 24, dst, 16);
        l4 = l3 + 40;
    } else {
        put16(frame + 12, 0x0800);
        uint8_t *ip = frame + l3;
        memset(ip, 0, 20);
        ip[0] = 0x45; put16(ip + 2, 20 + th + payload); put16(ip + 4, (uint16_t)rnd());
        put16(ip + 6, 0x4000); ip[8] = 64; ip[9] = f->udp ? 17 : 6;
        memcpy(ip + 12, src + 12, 4); memcpy(ip + 16, dst + 12, 4);
        put16(ip + 10, ip_checksum(ip, 20));
        l4 = l3 + 20;
    }
    uint8_t *t = frame + l4;
    put16(t, from_client ? f->cport : f->sport); put16(t + 2, from_client ? f->sport : f->cport);
    if (f->udp) {
        put16(t + 4, 8 + payload); put16(t + 6, 0);
    } else {
        memset(t + 4, 0, 16);
        put32(t + 4, from_client ? f->cseq : f->sseq); put32(t + 8, from_client ? f->sseq : f->cseq);
        t[12] = 0x50; t[13] = flags; put16(t + 14, 65535);
    }
    len = l4 + th + payload;
    memset(frame + l4 + th, 0x61, payload);
    uint32_t hdr[4] = {(uint32_t)(now_us / 1000000), (uint32_t)(now_us % 1000000), (uint32_t)len, (uint32_t)len};
    fwrite(hdr, 4, 4, out);
    fwrite(frame, 1, len, out);
    now_us += 50 + rnd() % 100;
    written++;
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define PSH 0x08

static void address(uint8_t *a, int v6, uint32_t host) {
    memset(a, 0, 16);
    if (v6) { a[0] = 0xfd; a[1] = 0x00; a[2] = 0x00; a[3] = 0x44; a[12] = host >> 24; a[13] = host >> 16; a[14] = host >> 8; a[15] = host; }
    else { a[12] = host >> 24; a[13] = host >> 16; a[14] = host >> 8; a[15] = host; }
}

static void start(flow_t *f) {
    memset(f, 0, sizeof *f);
    f->active = 1;
    f->v6 = rnd() % 10 == 0;
    uint32_t pod = f->v6 ? 2 : (10u << 24 | 44u << 16 | 2);
    int kind = rnd() % 100;
    if (kind < 4) {            /* DNS to kube-dns */
        f->udp = 1;
        address(f->client, f->v6, pod);
        address(f->server, f->v6, f->v6 ? 0xa : (10u << 24 | 96u << 16 | 10));
        f->sport = 53; f->cport = 32768 + rnd() % 28000; f->total = 2;
        return;
    }
    static const uint16_t app_ports[] = {8080, 8080, 8080, 9090, 15021};
    static const uint16_t svc_ports[] = {80, 443, 443, 8080, 5432, 6379};
    f->inbound = kind < 52;
    f->rounds = 6 + rnd() % 5;
    f->total = 3 + 3 * f->rounds + 4;
    f->cseq = rnd(); f->sseq = rnd();
    f->cport = 32768 + rnd() % 28000;
    if (f->inbound) {
        address(f->server, f->v6, pod);
        uint32_t c = rnd() % 400;
        address(f->client, f->v6, f->v6 ? 0x100 + c : (10u << 24 | 44u << 16 | (1 + c / 250) << 8 | (3 + c % 250)));
        f->sport = app_ports[rnd() % 5];
    } else {
        address(f->client, f->v6, pod);
        uint32_t s = rnd() % 40;
        address(f->server, f->v6, f->v6 ? 0x200 + s : (10u << 24 | 96u << 16 | (s / 200) << 8 | (20 + s)));
        f->sport = svc_ports[rnd() % 6];
    }
}

static void next_packet(flow_t *f) {
    if (f->udp) {
        if (f->step == 0) emit(f, 1, 0, 40); else emit(f, 0, 0, 120);
    } else {
        int s = f->step, last = f->total;
        if (s == 0) emit(f, 1, SYN, 0);
        else if (s == 1) emit(f, 0, SYN | ACK, 0);
        else if (s == 2) emit(f, 1, ACK, 0);
        else if (s < last - 4) {
            int r = (s - 3) % 3;
            if (r == 0) { int n = 80 + rnd() % 300; emit(f, 1, PSH | ACK, n); f->cseq += n; }
            else if (r == 1) { int n = 60 + rnd() % 600; emit(f, 0, PSH | ACK, n); f->sseq += n; }
            else emit(f, 1, ACK, 0);
        } else if (s == last - 4) { emit(f, 1, FIN | ACK, 0); f->cseq++; }
        else if (s == last - 3) emit(f, 0, ACK, 0);
        else if (s == last - 2) { emit(f, 0, FIN | ACK, 0); f->sseq++; }
        else emit(f, 1, ACK, 0);
    }
    if (++f->step == f->total) f->active = 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: gen OUT.pcap PACKETS [SEED]\n"); return 64; }
    long packets = atol(argv[2]);
    rng_state = argc > 3 ? strtoull(argv[3], 0, 10) : 88172645463325252ull;
    out = fopen(argv[1], "wb");
    if (!out) { perror(argv[1]); return 1; }
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
    fwrite(gh, 4, 6, out);
    enum { CONCURRENT = 512 };
    static flow_t flows[CONCURRENT];
    long flows_started = 0;
    for (int i = 0; i < CONCURRENT; i++) { start(&flows[i]); flows_started++; }
    while (written < packets) {
        flow_t *f = &flows[rnd() % CONCURRENT];
        next_packet(f);
        if (!f->active) { start(f); flows_started++; }
    }
    fclose(out);
    fprintf(stderr, "%ld packets, %ld flows started, %.1f s of capture\n", written, flows_started,
            (now_us - 1700000000ull * 1000000ull) / 1e6);
    return 0;
}
