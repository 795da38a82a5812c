// Entry point of the ocf:vigil:vip bundle.
import { runAgent } from '../../lib/ocf/agent.ts';
import { ANNOUNCE_WORKER, announceWorker, vipAgent } from './agent.ts';

if (process.argv[2] === ANNOUNCE_WORKER) void announceWorker(process.argv.slice(3));
else void runAgent(vipAgent);
