/* The C baseline of tools/bench: reads a capture with libpcap's pcap_next_ex, decodes
 * Ethernet (802.1Q) / IPv4 / IPv6 / TCP / UDP and counts packets per direction-normalised
 * 5-tuple in an open-addressing hash table. Prints "PACKETS packets FLOWS flows".
 *
 *   loop CAPTURE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t a[2], b[2]; uint16_t pa, pb; uint8_t proto, used; uint32_t packets; } entry_t;

static entry_t *table;
static size_t capacity = 1 << 16, count;

static uint64_t hash(const entry_t *k) {
    uint64_t h = (k->a[0] ^ (k->a[1] * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    h ^= (k->b[0] ^ (k->b[1] * 0xC2B2AE3D27D4EB4Full)) * 0x94D049BB133111EBull;
    h ^= ((uint64_t)k->pa << 32 | (uint64_t)k->pb << 16 | k->proto) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static void insert(entry_t *slots, size_t cap, const entry_t *k) {
    size_t i = hash(k) & (cap - 1);
    while (slots[i].used) {
        entry_t *e = &slots[i];
        if (e->proto == k->proto && e->pa == k->pa && e->pb == k->pb && !memcmp(e->a, k->a, 16) && !memcmp(e->b, k->b, 16)) {
            e->packets++;
            return;
        }
        i = (i + 1) & (cap - 1);
    }
    slots[i] = *k;
    slots[i].used = 1;
    slots[i].packets = 1;
    count++;
}

static void grow(void) {
    size_t cap = capacity * 2;
    entry_t *slots = calloc(cap, sizeof *slots);
    for (size_t i = 0; i < capacity; i++)
        if (table[i].used) {
            size_t j = hash(&table[i]) & (cap - 1);
            while (slots[j].used) j = (j + 1) & (cap - 1);
            slots[j] = table[i];
        }
    free(table);
    table = slots;
    capacity = cap;
}

static inline uint16_t be16(const u_char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint64_t be64(const u_char *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }

int main(int argc, char **argv) {
    char err[PCAP_ERRBUF_SIZE];
    if (argc < 2) { fprintf(stderr, "usage: loop CAPTURE\n"); return 64; }
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) { fprintf(stderr, "%s\n", err); return 1; }
    table = calloc(capacity, sizeof *table);
    struct pcap_pkthdr *h;
    const u_char *d;
    long packets = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        packets++;
        uint32_t n = h->caplen, off = 14;
        if (n < 14) continue;
        uint16_t type = be16(d + 12);
        while ((type == 0x8100 || type == 0x88a8) && off + 4 <= n) { type = be16(d + off + 2); off += 4; }
        entry_t k = {0};
        uint32_t l4;
        if (type == 0x0800 && off + 20 <= n) {
            const u_char *ip = d + off;
            k.proto = ip[9];
            k.a[1] = (uint64_t)be16(ip + 12) << 16 | be16(ip + 14);
            k.b[1] = (uint64_t)be16(ip + 16) << 16 | be16(ip + 18);
            l4 = off + (ip[0] & 15) * 4;
            if (be16(ip + 6) & 0x1fff) l4 = n;
        } else if (type == 0x86dd && off + 40 <= n) {
            const u_char *ip = d + off;
            k.proto = ip[6];
            k.a[0] = be64(ip + 8); k.a[1] = be64(ip + 16);
            k.b[0] = be64(ip + 24); k.b[1] = be64(ip + 32);
            l4 = off + 40;
        } else {
            continue;
        }
        if ((k.proto == 6 || k.proto == 17) && l4 + 4 <= n) { k.pa = be16(d + l4); k.pb = be16(d + l4 + 2); }
        /* normalise: smaller (address, port) first */
        if (k.a[0] > k.b[0] || (k.a[0] == k.b[0] && (k.a[1] > k.b[1] || (k.a[1] == k.b[1] && k.pa > k.pb)))) {
            uint64_t t0 = k.a[0], t1 = k.a[1]; uint16_t tp = k.pa;
            k.a[0] = k.b[0]; k.a[1] = k.b[1]; k.pa = k.pb;
            k.b[0] = t0; k.b[1] = t1; k.pb = tp;
        }
        if ((count + 1) * 2 > capacity) grow();
        insert(table, capacity, &k);
    }
    printf("%ld packets %zu flows\n", packets, count);
    pcap_close(p);
    return 0;
}
