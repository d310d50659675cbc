// @ts-check
/**
 * Loaded first in every Node thread of a graded run that has no /proc (its mount namespace
 * mounts none, so that no process of the run can read another's memory or environment).
 * process.memoryUsage() reads the resident set size from /proc and would throw, and jest-worker
 * asks every worker thread for it after each test file. Compatibility only, not a defence:
 * the run's memory is measured and limited from outside (child.ts, cgroup.ts).
 */
'use strict';
const { getHeapStatistics } = require('node:v8');

const original = process.memoryUsage;

/** @returns {NodeJS.MemoryUsage} */
function memoryUsage() {
  try {
    return original.call(process);
  } catch {
    const heap = getHeapStatistics();
    return {
      rss: 0,
      heapTotal: heap.total_heap_size,
      heapUsed: heap.used_heap_size,
      external: heap.external_memory,
      arrayBuffers: 0,
    };
  }
}
memoryUsage.rss = () => {
  try {
    return original.rss();
  } catch {
    return 0;
  }
};
process.memoryUsage = memoryUsage;
