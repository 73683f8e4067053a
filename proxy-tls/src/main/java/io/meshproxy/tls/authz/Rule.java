package io.meshproxy.tls.authz;

import java.util.List;

/**
 * Istio's {@code Rule}: matches when some {@code from} source matches (or none is given), some {@code to}
 * operation matches (or none is given), and every {@code when} condition holds. The empty rule {@code {}}
 * matches every request.
 */
public record Rule(List<Source> from, List<Operation> to, List<Condition> when) {
    /** The rule {@code {}}: matches every request. */
    public static final Rule ANY = new Rule(List.of(), List.of(), List.of());

    public Rule {
        from = from == null ? List.of() : List.copyOf(from);
        to = to == null ? List.of() : List.copyOf(to);
        when = when == null ? List.of() : List.copyOf(when);
    }

    public static Rule from(Source... sources) {
        return new Rule(List.of(sources), List.of(), List.of());
    }

    public static Rule to(Operation... operations) {
        return new Rule(List.of(), List.of(operations), List.of());
    }

    public static Rule when(Condition... conditions) {
        return new Rule(List.of(), List.of(), List.of(conditions));
    }

    public Rule withTo(Operation... operations) {
        return new Rule(from, List.of(operations), when);
    }

    public Rule withWhen(Condition... conditions) {
        return new Rule(from, to, List.of(conditions));
    }
}
