package io.meshproxy.core.config;

/** How a cluster spreads requests over its endpoints; each honours endpoint weights. */
public enum LbPolicy {
    /** Weighted round robin (smooth: a heavy endpoint's turns are interleaved, not bunched). */
    ROUND_ROBIN,
    /** Power of two choices: two random endpoints, the one with fewer active requests per weight wins. */
    LEAST_REQUEST,
    /** Weighted random. */
    RANDOM
}
