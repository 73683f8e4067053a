package io.meshproxy.core.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Header changes applied in this order: remove, set (replace all values), add (append).
 *
 * <p>Validated on construction: null lists become empty, elements are non-null, removed names non-blank.
 *
 * @param set headers whose values are replaced
 * @param add headers appended to existing values
 * @param remove names of headers removed
 */
public record HeaderMutation(List<Header> set, List<Header> add, List<String> remove) {
    /** No change. */
    public static final HeaderMutation NONE = new HeaderMutation(List.of(), List.of(), List.of());

    /**
     * One header: a non-blank name and a non-null value.
     *
     * @param name the header name
     * @param value the header value (may be empty)
     */
    public record Header(String name, String value) {
        public Header {
            Checks.nonBlank("name", name);
            Checks.required("value", value);
        }
    }

    public HeaderMutation {
        set = Checks.list("set", set);
        add = Checks.list("add", add);
        remove = Checks.list("remove", remove);
        for (int i = 0; i < remove.size(); i++) {
            Checks.nonBlank("remove[" + i + "]", remove.get(i));
        }
    }

    /** True when this mutation changes nothing. */
    public boolean isEmpty() {
        return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link HeaderMutation}; every list starts empty. */
    public static final class Builder {
        private final List<Header> set = new ArrayList<>();
        private final List<Header> add = new ArrayList<>();
        private final List<String> remove = new ArrayList<>();

        private Builder() {}

        /** Replaces the headers to set. */
        public Builder set(List<Header> headers) {
            set.clear();
            set.addAll(headers);
            return this;
        }

        /** Replaces the headers to add. */
        public Builder add(List<Header> headers) {
            add.clear();
            add.addAll(headers);
            return this;
        }

        /** Replaces the header names to remove. */
        public Builder remove(List<String> names) {
            remove.clear();
            remove.addAll(names);
            return this;
        }

        /** Sets header {@code name} to {@code value}, replacing its values. */
        public Builder set(String name, String value) {
            String field = "set[" + set.size() + "]";
            set.add(Checks.prefixed(field, () -> new Header(name, value)));
            return this;
        }

        /** Appends {@code value} to header {@code name}. */
        public Builder add(String name, String value) {
            String field = "add[" + add.size() + "]";
            add.add(Checks.prefixed(field, () -> new Header(name, value)));
            return this;
        }

        /** Removes header {@code name}. */
        public Builder remove(String name) {
            remove.add(name);
            return this;
        }

        public HeaderMutation build() {
            return new HeaderMutation(set, add, remove);
        }
    }
}
