// libpcap for Swift: the system headers, nothing else (PcapIO is the only user).
#ifndef CPCAP_SHIM_H
#define CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <stdio.h>
#endif
