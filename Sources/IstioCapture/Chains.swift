import Netfilter

/// Istio's chain names.
extension ChainName {
    public static let istioOutput: ChainName = "ISTIO_OUTPUT"
    public static let istioOutputDNS: ChainName = "ISTIO_OUTPUT_DNS"
    public static let istioInbound: ChainName = "ISTIO_INBOUND"
    public static let istioDivert: ChainName = "ISTIO_DIVERT"
    public static let istioTProxy: ChainName = "ISTIO_TPROXY"
    public static let istioRedirect: ChainName = "ISTIO_REDIRECT"
    public static let istioInRedirect: ChainName = "ISTIO_IN_REDIRECT"
    public static let istioDrop: ChainName = "ISTIO_DROP"
}
