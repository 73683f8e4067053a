package io.meshproxy.core.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Selects a virtual host by the request's {@code :authority}, as Envoy does: an exact domain first, then the
 * longest suffix wildcard ({@code *.example.com}), then the longest prefix wildcard ({@code reviews.*}), then
 * {@code *}. Domains are case-insensitive. A wildcard stands for at least one character.
 *
 * <p>The authority is tried as sent first, so a domain written with a port ({@code reviews:9080}) wins; when
 * nothing but {@code *} matches it and it carries a port, the host without the port is tried; only then
 * {@code *}. A null authority matches only {@code *}.
 *
 * <p>Lookups never scan the domain list: exact domains sit in one hash map, and wildcards sit in hash maps
 * bucketed by their fixed part's length, visited longest first, so a lookup costs one probe per distinct
 * wildcard length. When two virtual hosts list the same domain, the first one keeps it. Immutable.
 */
final class DomainIndex {

    private final Map<String, CompiledVirtualHost> exact;
    /** Suffix wildcards: {@code suffixLengths[i]} is the length of every key of {@code suffixes[i]}; descending. */
    private final int[] suffixLengths;
    private final Map<String, CompiledVirtualHost>[] suffixes;
    /** Prefix wildcards, bucketed the same way. */
    private final int[] prefixLengths;
    private final Map<String, CompiledVirtualHost>[] prefixes;
    private final CompiledVirtualHost catchAll;

    private DomainIndex(Map<String, CompiledVirtualHost> exact, TreeMap<Integer, Map<String, CompiledVirtualHost>> suffixes,
            TreeMap<Integer, Map<String, CompiledVirtualHost>> prefixes, CompiledVirtualHost catchAll) {
        this.exact = exact;
        this.suffixLengths = lengths(suffixes);
        this.suffixes = buckets(suffixes);
        this.prefixLengths = lengths(prefixes);
        this.prefixes = buckets(prefixes);
        this.catchAll = catchAll;
    }

    /** Indexes the domains of {@code hosts}, in order. */
    static DomainIndex build(List<CompiledVirtualHost> hosts) {
        Map<String, CompiledVirtualHost> exact = new HashMap<>();
        TreeMap<Integer, Map<String, CompiledVirtualHost>> suffixes = new TreeMap<>(Comparator.reverseOrder());
        TreeMap<Integer, Map<String, CompiledVirtualHost>> prefixes = new TreeMap<>(Comparator.reverseOrder());
        CompiledVirtualHost catchAll = null;
        for (CompiledVirtualHost host : hosts) {
            for (String raw : host.domains()) {
                String domain = raw.toLowerCase(Locale.ROOT);
                if (domain.equals("*")) {
                    if (catchAll == null) {
                        catchAll = host;
                    }
                } else if (domain.startsWith("*")) {
                    String suffix = domain.substring(1);
                    suffixes.computeIfAbsent(suffix.length(), k -> new HashMap<>()).putIfAbsent(suffix, host);
                } else if (domain.endsWith("*")) {
                    String prefix = domain.substring(0, domain.length() - 1);
                    prefixes.computeIfAbsent(prefix.length(), k -> new HashMap<>()).putIfAbsent(prefix, host);
                } else {
                    exact.putIfAbsent(domain, host);
                }
            }
        }
        return new DomainIndex(exact, suffixes, prefixes, catchAll);
    }

    /** The virtual host for {@code authority} (which may carry a port, or be null), or null when none matches. */
    CompiledVirtualHost select(String authority) {
        if (authority == null || authority.isEmpty()) {
            return catchAll;
        }
        String lower = authority.toLowerCase(Locale.ROOT); // returns the same string when already lower-case
        CompiledVirtualHost found = selectSpecific(lower);
        if (found != null) {
            return found;
        }
        int portStart = portSeparator(lower);
        if (portStart > 0) {
            found = selectSpecific(lower.substring(0, portStart));
            if (found != null) {
                return found;
            }
        }
        return catchAll;
    }

    /** Exact, then suffix wildcards, then prefix wildcards; never {@code *}. */
    private CompiledVirtualHost selectSpecific(String host) {
        CompiledVirtualHost found = exact.get(host);
        if (found != null) {
            return found;
        }
        int length = host.length();
        for (int i = 0; i < suffixLengths.length; i++) {
            int l = suffixLengths[i];
            if (l < length) { // the wildcard must stand for at least one character
                found = suffixes[i].get(host.substring(length - l));
                if (found != null) {
                    return found;
                }
            }
        }
        for (int i = 0; i < prefixLengths.length; i++) {
            int l = prefixLengths[i];
            if (l < length) {
                found = prefixes[i].get(host.substring(0, l));
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /**
     * The index of the ':' that starts the port of {@code authority}, or -1 when it has none. Handles bracketed
     * IPv6 literals ({@code [::1]:8080}); an unbracketed string with several colons has no port.
     */
    static int portSeparator(String authority) {
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            return close > 0 && close + 1 < authority.length() && authority.charAt(close + 1) == ':' ? close + 1 : -1;
        }
        int colon = authority.lastIndexOf(':');
        return colon > 0 && authority.indexOf(':') == colon ? colon : -1;
    }

    private static int[] lengths(TreeMap<Integer, Map<String, CompiledVirtualHost>> byLength) {
        int[] lengths = new int[byLength.size()];
        int i = 0;
        for (Integer l : byLength.keySet()) {
            lengths[i++] = l;
        }
        return lengths;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, CompiledVirtualHost>[] buckets(TreeMap<Integer, Map<String, CompiledVirtualHost>> byLength) {
        return new ArrayList<>(byLength.values()).toArray(new Map[0]);
    }
}
