// Entry point of the ocf:vigil:vip bundle.
import { runAgent } from '../../lib/ocf/agent.ts';
import { vipAgent } from './agent.ts';
import { ANNOUNCE_WORKER, announceWorker } from './address.ts';

if (process.argv[2] === ANNOUNCE_WORKER) void announceWorker(process.argv.slice(3));
else void runAgent(vipAgent);
