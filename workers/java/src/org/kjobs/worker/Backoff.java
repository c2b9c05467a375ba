package org.kjobs.worker;

import java.util.concurrent.ThreadLocalRandom;

/** Waits between attempts at an unavailable server: 1 s doubling to 30 s, with jitter, or the server's Retry-After. */
final class Backoff {

    private static final long FIRST_MS = 1_000;
    private static final long MAX_MS = 30_000;

    private long nextMs = FIRST_MS;

    /** The wait before the next attempt (and doubles the one after). */
    long next(ProtocolException failure) {
        long base = failure != null && failure.retryAfterMs >= 0 ? failure.retryAfterMs : nextMs;
        nextMs = Math.min(nextMs * 2, MAX_MS);
        // +-20% so that workers restarted together do not call together
        return Math.max(100, (long) (base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
    }

    /** After a success: the next failure waits from the start. */
    void reset() {
        nextMs = FIRST_MS;
    }

    /** Whether the last call failed (a wait is under way). */
    boolean failing() {
        return nextMs != FIRST_MS;
    }
}
