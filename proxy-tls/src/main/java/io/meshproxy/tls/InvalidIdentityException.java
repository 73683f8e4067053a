package io.meshproxy.tls;

import java.nio.file.Path;

/** A workload identity that cannot be used: which file, and why. */
public final class InvalidIdentityException extends Exception {
    private final transient Path file;
    private final String reason;

    public InvalidIdentityException(Path file, String reason) {
        this(file, reason, null);
    }

    public InvalidIdentityException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The reason, without the file name. */
    public String reason() {
        return reason;
    }
}
