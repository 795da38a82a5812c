// The two agent stacks the scenarios compare, and the pcs commands an operator would type to set
// each one up in the lab.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.ts';

export interface Stack {
  name: 'vigil' | 'heartbeat';
  vipAgent: string;
  fenceAgent: string;
}

export const VIGIL: Stack = { name: 'vigil', vipAgent: 'ocf:vigil:vip', fenceAgent: 'fence_ipmi' };
export const HEARTBEAT: Stack = { name: 'heartbeat', vipAgent: 'ocf:heartbeat:IPaddr2', fenceAgent: 'fence_ipmilan' };

/** Why vigil's stack cannot run in this lab yet (its bundles are not built), or undefined. */
export function vigilMissing(lab: Lab): string | undefined {
  const a = lab.agents();
  const need = [join(a.ocfDir, 'vigil', 'vip'), join(a.sbinDir, 'fence_ipmi')];
  const missing = need.filter((f) => !existsSync(f));
  return missing.length ? `vigil's agents are not built: ${missing.join(', ')} missing (run npm run build)` : undefined;
}

/** In a two-node cluster both sides of a split try to fence; n1's device waits, so n1 wins the race. */
export const TWO_NODE_FENCE_DELAY = '5s';

/**
 * One stonith device per node with `pcs stonith create`, each kept off the node it fences. Both
 * agents take the same options: that is what lets an operator switch agents by name.
 */
export async function configureFencing(lab: Lab, fenceAgent: string, on = lab.anyLiveNode()): Promise<void> {
  const c = lab.config;
  for (const n of lab.nodes) {
    const p = lab.plan(n);
    const opts = [`ip=${p.bmcIp}`, `username=${c.bmcUser}`, `password=${c.bmcPassword}`, 'lanplus=1', 'cipher=3',
      `pcmk_host_list=${n}`];
    if (c.nodes === 2 && n === 'n1') opts.push(`pcmk_delay_base=${TWO_NODE_FENCE_DELAY}`);
    await lab.pcs(on, ['stonith', 'create', `fence-${n}`, fenceAgent, ...opts, 'op', 'monitor', 'interval=60s']);
    await lab.pcs(on, ['constraint', 'location', `fence-${n}`, 'avoids', n]);
  }
}

/** Remove every resource, stonith device and constraint, and clear failures: a clean slate. */
export async function clearConfiguration(lab: Lab, on = lab.anyLiveNode()): Promise<void> {
  await lab.onOk(on, ['cibadmin', '--replace', '--scope', 'constraints', '--xml-text', '<constraints/>']);
  await lab.onOk(on, ['cibadmin', '--replace', '--scope', 'resources', '--xml-text', '<resources/>']);
  await lab.on(on, ['crm_resource', '--cleanup']);
  await lab.on(on, ['stonith_admin', '--cleanup', '--history', '*']);
}
