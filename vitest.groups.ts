/**
 * How the test projects share the machine. Vitest runs projects in groups (`sequence.groupOrder`),
 * one group after another, and every project of a group must ask for the same number of workers;
 * these settings are the one place that number is written.
 *
 * The unit tests (group 0, the default) are CPU-bound: Vitest runs them one file at a time on a
 * 2-core machine, after the groups below.
 */

/**
 * Whole processes (the server, the CLI, the Action, the dashboard in Chromium) against sandbox
 * servers on the real clock. Their files mostly wait for plans of a few seconds per step, so
 * several run at once: six files share the two cores with the CPU still idle about 30% of the
 * time, and the suite's wall time is no longer the sum of their soak times.
 */
export const realClockProcesses = {
  sequence: { groupOrder: 1 },
  maxWorkers: 6
} as const

/**
 * Scheduler processes racing, killed, and Postgres restarted: each file keeps both cores busy on
 * purpose (many processes stepping hundreds of releases), so they run one file at a time, alone.
 */
export const contendedProcesses = {
  sequence: { groupOrder: 2 },
  fileParallelism: false
} as const
