package io.tracelet;

import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@link DeadlineClock#system()}: {@link System#nanoTime()} and one lazily started daemon thread
 * that fires every deadline in the process.
 *
 * <p>Why not a {@code ScheduledThreadPoolExecutor}: almost every request timer is cancelled long
 * before it fires, and the executor wakes its thread whenever a new task becomes the earliest —
 * with requests finishing before their deadline that is nearly every time, a futex wake-up and
 * about 1 µs per request, plus four objects per timer. This heap wakes the thread only when a new
 * deadline is more than {@link #SLACK_NANOS} (10 ms) earlier than the wake-up the thread already
 * planned, and a timer is one object. Cancelling never wakes it. So with one request timeout for
 * all requests (the usual case) no request wakes the thread: it wakes about once per timeout
 * period, at the deadline it planned, finds that request long finished, and plans the next one.
 *
 * <p>Precision: a task runs at most 10 ms after its deadline (plus the operating system's
 * scheduling delay): a deadline that arrives less than 10 ms before the planned wake-up waits for
 * it.
 */
enum SystemDeadlineClock implements DeadlineClock {
  INSTANCE;

  private static final Logger logger = Logger.getLogger(SystemDeadlineClock.class.getName());

  /**
   * How late a task may run so that a new deadline close to the planned wake-up does not signal the
   * thread: the coarseness of Jetty's {@code CyclicTimeouts} or Netty's {@code HashedWheelTimer}
   * without their fixed tick.
   */
  static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  // Guarded by lock: a binary min-heap on Entry.due, each entry knowing its index for O(log n)
  // removal when its request finishes.
  private Entry[] heap = new Entry[64];
  private int size;
  private boolean threadStarted;
  private boolean threadWaiting;
  // When the waiting thread will look again; only meaningful while threadWaiting.
  private long plannedWakeUp;

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Instant wallTime() {
    return Instant.now();
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    return scheduleAt(task, System.nanoTime() + Math.max(0, delayNanos));
  }

  @Override
  public Timer scheduleAt(Runnable task, long dueNanos) {
    Entry e = new Entry(task, dueNanos);
    lock.lock();
    try {
      if (!threadStarted) {
        startThread();
      }
      add(e);
      if (threadWaiting && e.index == 0 && e.due - plannedWakeUp < -SLACK_NANOS) {
        wake.signal();
      }
    } finally {
      lock.unlock();
    }
    return e;
  }

  private void startThread() {
    Thread t = new Thread(this::runTimers, "tracelet-deadline-timer");
    t.setDaemon(true);
    t.start();
    threadStarted = true;
  }

  private void runTimers() {
    while (true) {
      Entry due = null;
      lock.lock();
      try {
        while (due == null) {
          long now = System.nanoTime();
          if (size > 0 && heap[0].due - now <= 0) {
            due = heap[0];
            removeAt(0);
          } else {
            // With nothing queued, sleep long: the next schedule() is earlier and signals.
            long wait = size == 0 ? TimeUnit.HOURS.toNanos(1) : heap[0].due - now;
            plannedWakeUp = now + wait;
            threadWaiting = true;
            try {
              wake.awaitNanos(wait);
            } catch (InterruptedException ignored) {
              // A daemon timer thread has nobody to report to; keep serving deadlines.
            } finally {
              threadWaiting = false;
            }
          }
        }
      } finally {
        lock.unlock();
      }
      try {
        due.task.run();
      } catch (RuntimeException | Error err) {
        logger.log(Level.WARNING, "a deadline task threw", err);
      }
    }
  }

  private void add(Entry e) {
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    e.index = size;
    heap[size++] = e;
    siftUp(e.index);
  }

  private void cancel(Entry e) {
    lock.lock();
    try {
      if (e.index >= 0) {
        removeAt(e.index);
      }
    } finally {
      lock.unlock();
    }
  }

  private void removeAt(int i) {
    Entry removed = heap[i];
    removed.index = -1;
    size--;
    if (i != size) {
      Entry last = heap[size];
      heap[i] = last;
      last.index = i;
      heap[size] = null;
      siftDown(i);
      if (heap[i] == last) {
        siftUp(i);
      }
    } else {
      heap[size] = null;
    }
    // Give memory back after a burst: a finished request leaves nothing behind.
    if (heap.length > 64 && size < heap.length / 4) {
      heap = Arrays.copyOf(heap, heap.length / 2);
    }
  }

  private void siftUp(int i) {
    Entry e = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      Entry p = heap[parent];
      if (e.due - p.due >= 0) {
        break;
      }
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = e;
    e.index = i;
  }

  private void siftDown(int i) {
    Entry e = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && heap[right].due - heap[child].due < 0) {
        child = right;
      }
      if (e.due - heap[child].due <= 0) {
        break;
      }
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = e;
    e.index = i;
  }

  /** Timers still queued; for tests that check that finished requests leave none behind. */
  static int pendingTimers() {
    INSTANCE.lock.lock();
    try {
      return INSTANCE.size;
    } finally {
      INSTANCE.lock.unlock();
    }
  }

  /** One scheduled task: the heap entry and its own handle. */
  private static final class Entry implements Timer {
    final Runnable task;
    final long due;
    // Guarded by the clock's lock; -1 once fired or cancelled.
    int index = -1;

    Entry(Runnable task, long due) {
      this.task = task;
      this.due = due;
    }

    @Override
    public void cancel() {
      INSTANCE.cancel(this);
    }
  }
}
