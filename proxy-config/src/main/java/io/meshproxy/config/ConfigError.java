package io.meshproxy.config;

/**
 * One problem found in a configuration file, at the place it was found.
 *
 * @param file the file as it was named to the loader (or the name of an in-memory source)
 * @param line 1-based line
 * @param column 1-based column
 * @param message what is wrong, and where possible what would be right
 */
public record ConfigError(String file, int line, int column, String message) implements Comparable<ConfigError> {
    /** {@code FILE:LINE:COLUMN: message}, the form compilers use, so editors and CI logs link to the spot. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }

    @Override
    public int compareTo(ConfigError o) {
        int c = file.compareTo(o.file);
        if (c == 0) {
            c = Integer.compare(line, o.line);
        }
        if (c == 0) {
            c = Integer.compare(column, o.column);
        }
        return c == 0 ? message.compareTo(o.message) : c;
    }
}
