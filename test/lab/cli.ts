// The lab's command line: `test/lab/lab <command>` (npm run lab:up / lab:down call it too).
import { parseArgs } from 'node:util';
import { Lab, LabError, describeStatus } from './lib/lab.ts';
import { configureFencing, vigilMissing } from './lib/stacks.ts';
import type { LinkName } from './lib/plan.ts';

const HELP = `usage: test/lab/lab COMMAND [ARGS]   (the lab lives in $VIGIL_LAB_DIR, default /var/lib/vigil-lab)

  up [--nodes N] [--token MS] [--post-delay MS] [--fresh] [--agents DIR] [--fence AGENT]
        bring the lab up (idempotent); --fresh wipes every node's disk (CIB, logs) first;
        --fence fence_ipmi|fence_ipmilan|auto|none creates one stonith device per node (default none)
  down [--purge]              stop every lab process and delete its namespaces (--purge: and its folder)
  status                      nodes, power, BMCs, links and crm_mon's summary
  power NODE on|off|cycle|status
                              the node's power supply (off = SIGKILL of its pid 1; on waits a POST delay)
  shutdown NODE               clean stop of pacemaker and corosync, then power off
  cut NODE [lan|mgmt]         pull the node's cable out of the switch (stays out across reboots)
  restore NODE [lan|mgmt]     plug it back
  bmc NODE start|stop|status  the node's ipmi_sim
  on NODE COMMAND...          run a command on a node (same as test/lab/on)
  client COMMAND...           run a command in the client namespace (192.0.2.200 on the node LAN)

npm run lab:up -- --nodes 2 --token 1000 ; test/lab/on n1 crm_mon -1 ; npm run lab:down`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const say = (l: string) => console.log(l);
  switch (cmd) {
    case 'up': {
      const { values } = parseArgs({ args: rest, options: {
        nodes: { type: 'string' }, token: { type: 'string' }, 'post-delay': { type: 'string' },
        fresh: { type: 'boolean' }, agents: { type: 'string' }, fence: { type: 'string' },
      } });
      const lab = await Lab.up({
        nodes: num(values.nodes), tokenMs: num(values.token), postDelayMs: num(values['post-delay']),
        fresh: values.fresh, agentsDir: values.agents, log: say,
      });
      let fence = values.fence ?? 'none';
      if (fence === 'auto') fence = vigilMissing(lab) ? 'fence_ipmilan' : 'fence_ipmi';
      if (fence !== 'none') {
        const st = await lab.status(lab.nodes[0]!);
        if (st.resources.some((r) => r.id.startsWith('fence-'))) say('stonith devices already configured');
        else { await configureFencing(lab, fence); say(`stonith: one ${fence} device per node`); }
      }
      say(`try: test/lab/on n1 crm_mon -1 ; tear down with: npm run lab:down`);
      return 0;
    }
    case 'down': {
      const { values } = parseArgs({ args: rest, options: { purge: { type: 'boolean' } } });
      let lab: Lab;
      try { lab = Lab.open(undefined, say); } catch (e) { say(`${(e as Error).message}: nothing to do`); return 0; }
      await lab.down({ purge: values.purge });
      return 0;
    }
    case 'status': {
      const lab = Lab.open();
      for (const n of lab.nodes) {
        const power = lab.nodePid(n) ? 'on' : lab.isPoweredOn(n) ? 'booting' : 'off';
        const cut = (['lan', 'mgmt'] as const).filter((l) => lab.isCut(n, l)).map((l) => ` ${l}-cut`).join('');
        say(`${n}: power ${power}${cut}, bmc ${lab.bmcRunning(n) ? 'up' : 'down'}`);
      }
      const live = lab.nodes.find((n) => lab.nodePid(n));
      if (live) say(`crm_mon (from ${live}): ${describeStatus(await lab.status(live))}`);
      return 0;
    }
    case 'power': {
      const [node, what] = rest;
      const lab = Lab.open();
      lab.plan(node ?? '');
      if (what === 'off') await lab.powerOff(node!);
      else if (what === 'on') await lab.powerOn(node!);
      else if (what === 'cycle') await lab.powerCycle(node!);
      else if (what === 'status') { say(lab.isPoweredOn(node!) ? 'on' : 'off'); return 0; }
      else throw new LabError('usage: power NODE on|off|cycle|status');
      say(`${node}: power ${what}`);
      return 0;
    }
    case 'boot': {
      // Internal: the BMC's power-on (bin/chassis) runs `boot NODE --post` detached.
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { post: { type: 'boolean' } } });
      const lab = Lab.open();
      await lab.boot(positionals[0]!, { postDelayMs: values.post ? lab.config.postDelayMs : 0 });
      return 0;
    }
    case 'shutdown': {
      const lab = Lab.open();
      lab.plan(rest[0] ?? '');
      await lab.shutdown(rest[0]!);
      return 0;
    }
    case 'cut': case 'restore': {
      const [node, link = 'lan'] = rest;
      if (link !== 'lan' && link !== 'mgmt') throw new LabError(`${cmd} NODE [lan|mgmt]`);
      const lab = Lab.open();
      lab.plan(node ?? '');
      if (cmd === 'cut') await lab.cut(node!, link as LinkName); else await lab.restore(node!, link as LinkName);
      say(`${node}: ${link} link ${cmd === 'cut' ? 'cut' : 'restored'}`);
      return 0;
    }
    case 'bmc': {
      const [node, what] = rest;
      const lab = Lab.open();
      lab.plan(node ?? '');
      if (what === 'start') await lab.startBmc(node!);
      else if (what === 'stop') await lab.stopBmc(node!);
      else if (what !== 'status') throw new LabError('usage: bmc NODE start|stop|status');
      say(`${node}: bmc ${lab.bmcRunning(node!) ? 'up' : 'down'}`);
      return 0;
    }
    case 'on': case 'client': {
      // Output is printed when the command ends; for interactive programs use test/lab/on.
      const lab = Lab.open();
      const r = cmd === 'on' ? await lab.on(rest[0] ?? '', rest.slice(1), { timeoutMs: 600_000 })
        : await lab.client(rest, { timeoutMs: 600_000 });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code ?? 1;
    }
    case undefined: case 'help': case '--help': case '-h':
      say(HELP);
      return cmd ? 0 : 2;
    default:
      console.error(`unknown command ${cmd}\n${HELP}`);
      return 2;
  }
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LabError(`not a number: ${v}`);
  return n;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(e instanceof LabError ? `lab: ${e.message}` : e);
  process.exitCode = 1;
});
