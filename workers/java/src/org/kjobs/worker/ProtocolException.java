package org.kjobs.worker;

/** A call of the worker protocol that did not get its answer. */
final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What the caller can do about it. */
    enum Kind {
        /** The server could not be reached, or answered 5xx or 429: try again later. */
        UNAVAILABLE,
        /** 409: the job's lease is lost (rescued, requeued or cancelled); drop the job. */
        LEASE_LOST,
        /** Any other 4xx, or an answer that is not the protocol's: retrying the same call cannot help. */
        REFUSED
    }

    final Kind kind;
    /** The HTTP status, or 0 when there was no answer. */
    final int status;
    /** The server's Retry-After in milliseconds, or -1. */
    final long retryAfterMs;

    ProtocolException(Kind kind, int status, long retryAfterMs, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.status = status;
        this.retryAfterMs = retryAfterMs;
    }
}
