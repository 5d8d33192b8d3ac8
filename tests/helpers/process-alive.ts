// Whether a process with this pid still exists (signal 0 checks without signalling). Layer: tests (node).
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
