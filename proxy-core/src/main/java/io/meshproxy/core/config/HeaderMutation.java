package io.meshproxy.core.config;

import java.util.List;

/**
 * Header changes applied in this order: remove, set (replace all values), add (append).
 */
public record HeaderMutation(List<Header> set, List<Header> add, List<String> remove) {
    public static final HeaderMutation NONE = new HeaderMutation(List.of(), List.of(), List.of());

    public record Header(String name, String value) {}

    public boolean isEmpty() {
        return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }
}
