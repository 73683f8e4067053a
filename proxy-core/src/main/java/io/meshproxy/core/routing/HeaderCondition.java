package io.meshproxy.core.routing;

import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.http.HttpRequest;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A compiled {@link HeaderMatcher}. The names {@code :method}, {@code :authority}, {@code :scheme} and
 * {@code :path} read the request's pseudo-header fields; other names read its header fields, several values
 * of one name joined with "," first, as Envoy does. A missing header never satisfies EXACT, PREFIX, SUFFIX or
 * REGEX; {@code invert} then negates whatever the result was. Values compare case-sensitively. Immutable.
 */
final class HeaderCondition {

    private enum Source { METHOD, AUTHORITY, SCHEME, PATH, HEADER }

    private final String name;
    private final Source source;
    private final HeaderMatcher.Kind kind;
    private final String value;
    private final Pattern pattern;
    private final boolean invert;

    HeaderCondition(HeaderMatcher config) {
        this.name = config.name();
        this.source = switch (name.toLowerCase(Locale.ROOT)) {
            case ":method" -> Source.METHOD;
            case ":authority" -> Source.AUTHORITY;
            case ":scheme" -> Source.SCHEME;
            case ":path" -> Source.PATH;
            default -> Source.HEADER;
        };
        this.kind = config.kind();
        this.value = config.value();
        this.pattern = kind == HeaderMatcher.Kind.REGEX ? Pattern.compile(value) : null;
        this.invert = config.invert();
    }

    boolean matches(HttpRequest request) {
        return evaluate(request) != invert;
    }

    private boolean evaluate(HttpRequest request) {
        if (source == Source.HEADER) {
            if (kind == HeaderMatcher.Kind.PRESENT) {
                return request.headers().contains(name);
            }
            if (kind == HeaderMatcher.Kind.ABSENT) {
                return !request.headers().contains(name);
            }
        }
        String actual = read(request);
        switch (kind) {
            case PRESENT:
                return actual != null;
            case ABSENT:
                return actual == null;
            case EXACT:
                return actual != null && actual.equals(value);
            case PREFIX:
                return actual != null && actual.startsWith(value);
            case SUFFIX:
                return actual != null && actual.endsWith(value);
            case REGEX:
                return actual != null && pattern.matcher(actual).matches();
            default:
                throw new AssertionError(kind);
        }
    }

    /** The value to test, or null when the field is missing. */
    private String read(HttpRequest request) {
        switch (source) {
            case METHOD:
                return request.method();
            case AUTHORITY:
                return request.authority();
            case SCHEME:
                return request.scheme();
            case PATH:
                return request.path();
            default:
                List<String> values = request.headers().getAll(name);
                if (values.isEmpty()) {
                    return null;
                }
                return values.size() == 1 ? values.get(0) : String.join(",", values);
        }
    }
}
