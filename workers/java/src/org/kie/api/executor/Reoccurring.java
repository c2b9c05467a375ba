package org.kie.api.executor;

import java.util.Date;

/** Implemented by a command that runs again: asked after a run for the time of the next one. */
public interface Reoccurring {

    /**
     * The time of the next run, which must be in the future; {@code null} when the command should not run again.
     *
     * @return when to run next, or {@code null}
     */
    Date getScheduleTime();
}
