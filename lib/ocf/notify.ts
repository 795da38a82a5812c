// Pacemaker's notify variables parsed once into records. The lists are space-separated and
// position-aligned (the n-th resource belongs to the n-th uname); the deprecated master/slave
// names are read when the new promoted/unpromoted ones are absent (Pacemaker before 2.1).
export type NotifyOperation = 'start' | 'stop' | 'promote' | 'demote';
export interface NotifyInstance { resource: string; uname: string }
export interface NotifyEvent {
  type: 'pre' | 'post';
  operation: NotifyOperation;
  start: NotifyInstance[];
  stop: NotifyInstance[];
  promote: NotifyInstance[];
  demote: NotifyInstance[];
  active: NotifyInstance[];
  promoted: NotifyInstance[];
  unpromoted: NotifyInstance[];
  inactive: string[];
  available: string[];
  all: string[];
}

const words = (s: string | undefined): string[] => (s ?? '').split(/\s+/).filter(Boolean);

function instances(env: NodeJS.ProcessEnv, kind: string, legacy?: string): NotifyInstance[] {
  const p = 'OCF_RESKEY_CRM_meta_notify_';
  let res = words(env[`${p}${kind}_resource`]);
  let unames = words(env[`${p}${kind}_uname`]);
  if (res.length === 0 && unames.length === 0 && legacy) {
    res = words(env[`${p}${legacy}_resource`]);
    unames = words(env[`${p}${legacy}_uname`]);
  }
  const n = Math.max(res.length, unames.length);
  return Array.from({ length: n }, (_, i) => ({ resource: res[i] ?? '', uname: unames[i] ?? '' }));
}

/** Returns undefined when the environment carries no (valid) notification. */
export function parseNotify(env: NodeJS.ProcessEnv): NotifyEvent | undefined {
  const type = env.OCF_RESKEY_CRM_meta_notify_type;
  const op = env.OCF_RESKEY_CRM_meta_notify_operation;
  if ((type !== 'pre' && type !== 'post') || !['start', 'stop', 'promote', 'demote'].includes(op ?? '')) return undefined;
  const p = 'OCF_RESKEY_CRM_meta_notify_';
  return {
    type, operation: op as NotifyOperation,
    start: instances(env, 'start'), stop: instances(env, 'stop'),
    promote: instances(env, 'promote'), demote: instances(env, 'demote'),
    active: instances(env, 'active'),
    promoted: instances(env, 'promoted', 'master'),
    unpromoted: instances(env, 'unpromoted', 'slave'),
    inactive: words(env[`${p}inactive_resource`]),
    available: words(env[`${p}available_uname`]),
    all: words(env[`${p}all_uname`]),
  };
}
