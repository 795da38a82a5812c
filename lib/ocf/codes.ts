// OCF exit codes (OCF resource agent API 1.1 and Pacemaker's results.h). Only the runtime exits;
// everything else throws an OcfError carrying one of these.
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  /** Bad arguments on this host: Pacemaker bans the resource from this node. */
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  /** Bad configuration everywhere: Pacemaker stops the resource on every node. */
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  DEGRADED: 190,
  DEGRADED_PROMOTED: 191,
} as const;
export type OcfCode = (typeof OCF)[keyof typeof OCF];

export const OCF_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OCF).map(([k, v]) => [v, `OCF_${k}`]),
);

/** A failure with the exit code it means and the operator-facing reason (the ocf-exit-reason). */
export class OcfError extends Error {
  constructor(readonly code: OcfCode, reason: string) {
    super(reason);
    this.name = 'OcfError';
  }
}

export const fail = (code: OcfCode, reason: string): never => { throw new OcfError(code, reason); };
