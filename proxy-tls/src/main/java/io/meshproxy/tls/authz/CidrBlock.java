package io.meshproxy.tls.authz;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An {@code ipBlocks} entry: an IPv4 or IPv6 address ({@code 10.1.2.3}, a /32 or /128) or a CIDR range
 * ({@code 10.0.0.0/16}, {@code 2001:db8::/32}). An IPv4 block never matches an IPv6 address and the reverse,
 * except that an IPv4-mapped IPv6 source ({@code ::ffff:10.1.2.3}) is compared as the IPv4 address.
 */
final class CidrBlock {
    private final byte[] network;
    private final int prefixLength;

    private CidrBlock(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    static CidrBlock parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty IP block");
        }
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        if (!address.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block"); // no DNS lookups
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block", e);
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "': bad prefix length", e);
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("'" + text + "': prefix length must be 0.." + max);
            }
        }
        return new CidrBlock(bytes, prefix);
    }

    /** The raw address of {@code address} as this class compares it (IPv4-mapped IPv6 unwrapped); null for null. */
    static byte[] normalize(InetAddress address) {
        if (address == null) {
            return null;
        }
        byte[] b = address.getAddress();
        if (b.length == 16) {
            boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                return new byte[] {b[12], b[13], b[14], b[15]};
            }
        }
        return b;
    }

    /** @param address from {@link #normalize(InetAddress)}; null (no address) matches nothing */
    boolean contains(byte[] address) {
        if (address == null || address.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (address[full] & mask) == (network[full] & mask);
    }

    static boolean any(CidrBlock[] blocks, byte[] address) {
        for (CidrBlock b : blocks) {
            if (b.contains(address)) {
                return true;
            }
        }
        return false;
    }

    static CidrBlock[] parseAll(java.util.List<String> values, String field) {
        CidrBlock[] out = new CidrBlock[values.size()];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = parse(values.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + "[" + i + "]: " + e.getMessage(), e);
            }
        }
        return out;
    }
}
