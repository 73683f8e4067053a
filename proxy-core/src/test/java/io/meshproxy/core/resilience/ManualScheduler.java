package io.meshproxy.core.resilience;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler that runs nothing by itself: the test sees what was scheduled and with which delay, and runs
 * it when it wants. Stands in for a request's event loop in unit tests of timer logic (no sleeping, no
 * thread); everything runs on the test's thread.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    /** One scheduled task. */
    static final class Task implements ScheduledFuture<Object> {
        final Runnable runnable;
        final long delayNanos;
        boolean cancelled;
        boolean done;

        Task(Runnable runnable, long delayNanos) {
            this.runnable = runnable;
            this.delayNanos = delayNanos;
        }

        /** Runs the task unless it was cancelled. */
        void run() {
            if (!cancelled && !done) {
                done = true;
                runnable.run();
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(delayNanos, o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done) {
                return false;
            }
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() {
            return null;
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            return null;
        }
    }

    private final List<Task> tasks = new ArrayList<>();

    /** Everything scheduled so far, in order, run or not. */
    List<Task> tasks() {
        return tasks;
    }

    /** Runs every task scheduled and not yet run or cancelled, including those they schedule. */
    void runAll() {
        for (int i = 0; i < tasks.size(); i++) {
            tasks.get(i).run();
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        Task t = new Task(command, unit.toNanos(delay));
        tasks.add(t);
        return t;
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
            TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void execute(Runnable command) {
        command.run();
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }
}
