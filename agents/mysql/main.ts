// Entry point of ocf:vigil:mysql (bundled to dist/resource.d/vigil/mysql).
import { runAgent } from '../../lib/ocf/agent.ts';
import { agent } from './agent.ts';
import { ANNOUNCE_WORKER, announceWorker } from '../vip/address.ts';

// The write address's announcements after the first are sent by a detached copy of this bundle.
if (process.argv[2] === ANNOUNCE_WORKER) void announceWorker(process.argv.slice(3));
else void runAgent(agent);
